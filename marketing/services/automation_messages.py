"""An automation's message: its campaign's channel, coupon offer, control group, attribution window and text per
language, edited on the automations page (the campaign editor edits one-off campaigns only).

Every template is checked (marketing.templating.check) before anything is saved, so an error shows in the form
with its line, never at send time. Rows already prepared are rendered with the text as it is when they are sent.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.models import ConsentChannel
from marketing import templating
from marketing.models import Automation, Campaign, CampaignVariant, CouponOffer, MessageTemplate, Segment


@dataclass(frozen=True)
class Text:
    language: str
    subject: str
    body: str
    html: str = ""


def _check(texts: list[Text]) -> None:
    errors: dict[str, list[str]] = {}
    for text in texts:
        for part in ("subject", "body", "html"):
            try:
                templating.check(getattr(text, part))
            except templating.TemplateError as error:
                errors.setdefault(f"{part}_{text.language}", []).append(str(error))
    if not any(text.body.strip() for text in texts):
        errors.setdefault("__all__", []).append(_("Write the message in one language at least."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def automation_message_update(
    *,
    automation: Automation,
    channel: ConsentChannel | str,
    offer: CouponOffer | None,
    control_percent: int,
    attribution_days: int,
    texts: list[Text],
    segment: Segment | None = None,
    actor: AbstractBaseUser | None = None,
) -> Campaign:
    """Set the automation's message, and the segment its members must be in (None: everyone its occasions find).
    A language left without a text is removed (the member's message falls back to the site's language, then to
    any)."""
    _check(texts)
    campaign = Campaign.objects.select_for_update().get(pk=automation.campaign_id)
    if campaign.messages.exists():
        # Its messages' unsubscribe links withdraw consent for the campaign's channel, and its results compare
        # rows drawn with its control share: both must stay what they were when the messages went out.
        changed = {}
        if channel != campaign.channel:
            changed["channel"] = _("The channel cannot change once messages have gone out.")
        if control_percent != campaign.control_percent:
            changed["control_percent"] = _("The control group cannot change once messages have gone out.")
        if changed:
            raise ValidationError(changed)
    campaign.channel, campaign.offer, campaign.segment = channel, offer, segment
    campaign.control_percent, campaign.attribution_days = control_percent, attribution_days
    campaign.full_clean()
    campaign.save(update_fields=["channel", "offer", "segment", "control_percent", "attribution_days"])
    # An automation has one variant (no A/B test): every member not held out gets it.
    variant, _created = CampaignVariant.objects.get_or_create(campaign=campaign, label="A")
    for text in texts:
        if not text.body.strip():
            MessageTemplate.objects.filter(variant=variant, language=text.language).delete()
            continue
        template = MessageTemplate.objects.filter(variant=variant, language=text.language).first() or MessageTemplate(
            variant=variant, language=text.language
        )
        template.subject, template.body, template.html = text.subject.strip(), text.body, text.html
        template.full_clean()
        template.save()
    return campaign
