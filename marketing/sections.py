"""What coupons add to the customer's page (registered from MarketingConfig.ready())."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Customer
from customers.sections import Section, TimelineItem, TimelineWindow, quick_action, register_sections, register_timeline
from marketing.selectors import coupons_for

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


def register() -> None:
    register_sections("coupons", coupon_sections)
    register_timeline("coupons", coupon_timeline, label=gettext_lazy("Coupons"))
