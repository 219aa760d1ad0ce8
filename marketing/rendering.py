"""What one member's message says: the template in their language and the values its variables take.

One home for both, used by the sender, the editor's preview and the test send, so a preview shows exactly
what the member will get.
"""

from django.conf import settings

from crm import member_values
from customers.models import Customer
from marketing import occasion_context, templating
from marketing.models import CampaignVariant, Coupon, MessageTemplate


def template_for(variant: CampaignVariant, language: str) -> MessageTemplate | None:
    """The variant's template in `language`, else in the site's language, else its first one."""
    templates = {t.language: t for t in variant.templates.all()}
    return templates.get(language) or templates.get(settings.LANGUAGE_CODE) or next(iter(templates.values()), None)


def member_language(customer: Customer) -> str:
    return customer.language or settings.LANGUAGE_CODE


def context_for(
    customer: Customer,
    *,
    coupon: Coupon | None = None,
    unsubscribe_url: str = "",
    occasion: str = "",
    extra: dict | None = None,
) -> dict:
    """Plain values only (see marketing.templating): a template never gets a model to walk from.

    `occasion` is the message's (an automation's, e.g. "points_expiry:2027-03-31"): it brings the values that
    belong to it (the points that lapse, the survey's score links); empty for a campaign. `extra` holds the values
    other apps register (crm.member_values), loaded for a whole batch by the sender; without it they are loaded for
    this one member (a preview, a test send)."""
    if extra is None:
        extra = member_values.load(member_values.member_values(), [customer.pk]).get(customer.pk, {})
    return {
        **extra,
        **occasion_context.values_for(customer, occasion),
        "name": customer.name,
        "crm_number": customer.crm_number_display,
        "tier": customer.tier.name if customer.tier_id else "",
        "points": customer.points_balance,
        "coupon_code": coupon.code_display if coupon else "",
        "coupon_expiry": coupon.valid_until if coupon else "",
        "unsubscribe_url": unsubscribe_url,
    }


def render_for(
    template: MessageTemplate,
    customer: Customer,
    *,
    coupon: Coupon | None = None,
    unsubscribe_url: str = "",
    occasion: str = "",
    extra: dict | None = None,
) -> templating.Rendered:
    return templating.render(
        subject=template.subject,
        body=template.body,
        html=template.html,
        context=context_for(customer, coupon=coupon, unsubscribe_url=unsubscribe_url, occasion=occasion, extra=extra),
    )
