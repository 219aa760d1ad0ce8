"""What coupons and campaign messages add to the customer's page (registered from MarketingConfig.ready())."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers import personal
from customers.models import ConsentChannel, Customer
from customers.sections import Section, TimelineItem, TimelineWindow, quick_action, register_sections, register_timeline
from marketing.models import MessageStatus
from marketing.selectors import coupons_for, messages_for

COUPONS_SHOWN = 50


def coupon_sections(request: HttpRequest, customer: Customer) -> list[Section]:
    """The member's coupons as a tab (one query when shown), and "Issue coupon" for those who may."""
    user = request.user
    sections = []
    if user.has_perm("marketing.view_coupon"):
        sections.append(
            Section(
                key="coupons",
                template="marketing/includes/coupons_section.html",
                column="main",
                order=40,
                label=gettext_lazy("Coupons"),
                load=lambda: {"coupons": list(coupons_for(customer)[:COUPONS_SHOWN]), "today": timezone.localdate()},
            )
        )
    if user.has_perm("marketing.add_coupon"):
        sections.append(
            quick_action(
                key="issue-coupon",
                label=_("Issue coupon"),
                url=reverse("marketing:coupon_issue", args=[customer.crm_number]),
                icon="ticket-perforated",
                order=40,
            )
        )
    if user.has_perm("marketing.add_rewardexchange") and user.has_perm("customers.view_pointsentry"):
        sections.append(
            quick_action(
                key="exchange-points",
                label=_("Exchange points"),
                url=reverse("marketing:reward_exchange", args=[customer.crm_number]),
                icon="gift",
                order=45,
            )
        )
    return sections


def coupon_timeline(user: AbstractBaseUser, customer: Customer, window: TimelineWindow) -> list[TimelineItem]:
    if not user.has_perm("marketing.view_coupon"):
        return []
    return [
        TimelineItem(
            at=coupon.issued_at,
            icon="ticket-perforated",
            title=_("Coupon %(code)s issued: %(offer)s") % {"code": coupon.code_display, "offer": coupon.offer.name},
            detail=coupon.get_status_display(),
            kind=window.kind,
            pk=coupon.pk,
        )
        for coupon in window.apply(coupons_for(customer), at="issued_at")
    ]


MESSAGE_ICONS = {ConsentChannel.EMAIL: "envelope", ConsentChannel.SMS: "chat-text"}
# What happened after the send, where it says more than "sent".
MESSAGE_OUTCOME_ICONS = {
    MessageStatus.BOUNCED: "envelope-exclamation",
    MessageStatus.COMPLAINED: "exclamation-octagon",
    MessageStatus.UNSUBSCRIBED: "envelope-slash",
}


def message_timeline(user: AbstractBaseUser, customer: Customer, window: TimelineWindow) -> list[TimelineItem]:
    """The campaign and automation messages the member was sent, at the time each went (one query)."""
    if not user.has_perm("marketing.view_message"):
        return []
    return [
        TimelineItem(
            at=message.sent_at,
            icon=MESSAGE_OUTCOME_ICONS.get(message.status, MESSAGE_ICONS.get(message.campaign.channel, "send")),
            title=_("%(channel)s: %(campaign)s")
            % {"channel": message.campaign.get_channel_display(), "campaign": message.campaign.name},
            detail=_message_detail(message),
            kind=window.kind,
            pk=message.pk,
        )
        for message in window.apply(messages_for(customer), at="sent_at")
    ]


def _message_detail(message) -> str:
    """The outcome, and where it went, masked for everyone: the address as it was then, which the member's
    current (revealable) contact may no longer be."""
    if not message.address:
        return message.get_status_display()
    field = "email" if message.campaign.channel == ConsentChannel.EMAIL else "mobile"
    return _("%(status)s · to %(address)s") % {
        "status": message.get_status_display(),
        "address": personal.mask_value(field, message.address),
    }


def register() -> None:
    register_sections("coupons", coupon_sections)
    register_timeline("coupons", coupon_timeline, label=gettext_lazy("Coupons"))
    register_timeline("messages", message_timeline, label=gettext_lazy("Messages"))
