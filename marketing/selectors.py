"""Reads of segments, coupons and messages shared by pages and jobs."""

import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customers_visible_to
from marketing.models import (
    Automation,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Coupon,
    CouponOffer,
    CouponStatus,
    Message,
    MessageStatus,
    RewardItem,
    Segment,
    SegmentSnapshot,
)
from marketing.rules import rule_compile


def _reachable() -> QuerySet[Customer]:
    """Members marketing may still address: an erased member (customers.services.erasure) is in no segment."""
    return Customer.objects.filter(erased_at__isnull=True)


def segment_members(segment: Segment) -> QuerySet[Customer]:
    """Everyone the segment holds now: a dynamic segment's rules evaluated at this moment, a static list's rows."""
    if segment.is_static:
        return _reachable().filter(segment_memberships__segment=segment)
    return _reachable().filter(rule_compile(segment.rules))


def rules_members(rules: object, *, user: AbstractBaseUser) -> QuerySet[Customer]:
    """The members a rule tree selects among those the user may see (the builder's count and preview)."""
    return customers_visible_to(user).filter(erased_at__isnull=True).filter(rule_compile(rules))


def rules_members_everyone(rules: object) -> QuerySet[Customer]:
    """The members a rule tree selects among everyone, for callers that act for the whole business (the API's
    integrations see every customer). RuleError, naming the condition, when the tree is malformed."""
    return _reachable().filter(rule_compile(rules))


def segment_preview(members: QuerySet[Customer], *, limit: int = 20) -> list[Customer]:
    return list(members.select_related("tier").order_by("-crm_number")[:limit])


def segments_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("created_by", "frozen_from")


def offer_results(offer: CouponOffer) -> dict:
    """Issued, redeemed, expired, outstanding and withdrawn coupons of an offer, and the revenue of the
    purchases that used them (what was paid, less refunds), in one query."""
    today = timezone.localdate()
    expired = Q(status=CouponStatus.ISSUED, valid_until__lt=today)
    return Coupon.objects.filter(offer=offer).aggregate(
        issued=Count("pk"),
        redeemed=Count("pk", filter=Q(status=CouponStatus.REDEEMED)),
        expired=Count("pk", filter=expired),
        outstanding=Count("pk", filter=Q(status=CouponStatus.ISSUED) & ~expired),
        withdrawn=Count("pk", filter=Q(status=CouponStatus.VOID)),
        revenue=Coalesce(
            Sum(F("transaction__amount") - F("transaction__refunded_amount"), filter=Q(status=CouponStatus.REDEEMED)),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        discounts=Coalesce(
            Sum("discount"), Value(Decimal(0)), output_field=DecimalField(max_digits=14, decimal_places=2)
        ),
    )


def offers_list() -> QuerySet[CouponOffer]:
    return CouponOffer.objects.annotate(
        redeemed=Count("coupons", filter=Q(coupons__status=CouponStatus.REDEEMED))
    ).order_by("-created_at")


def coupons_for(customer: Customer) -> QuerySet[Coupon]:
    return Coupon.objects.filter(customer=customer).select_related("offer", "transaction").order_by("-issued_at", "-id")


def offers_open() -> QuerySet[CouponOffer]:
    today = timezone.localdate()
    return CouponOffer.objects.filter(active=True).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))


def rewards_offered() -> QuerySet[RewardItem]:
    """What the desk and the API offer today: active, within its dates, in stock."""
    today = timezone.localdate()
    return (
        RewardItem.objects.filter(active=True)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .exclude(stock=0)
    )


def messages_for(customer: Customer) -> QuerySet[Message]:
    """The messages that went to the member (sent, whatever happened next), with their campaign."""
    return Message.objects.filter(customer=customer, sent_at__isnull=False).select_related("campaign")


# Campaigns under way: sending, waiting for their time, or stopped by hand or by the auto-pause.
RUNNING = [CampaignStatus.SENDING, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED]


def segments_recent() -> QuerySet[Segment]:
    """Segments most recently built or changed first (the home page shows the first few)."""
    return Segment.objects.order_by("-updated_at", "-id")


def campaigns_running() -> QuerySet[Campaign]:
    """One-off campaigns under way: sending first, then paused, then scheduled, each soonest first."""
    order = {CampaignStatus.SENDING: 0, CampaignStatus.PAUSED: 1, CampaignStatus.SCHEDULED: 2}
    return (
        Campaign.objects.filter(kind=CampaignKind.ONE_OFF, status__in=RUNNING)
        .select_related("segment")
        .alias(rank=Case(*(When(status=status, then=Value(n)) for status, n in order.items())))
        .order_by("rank", F("send_at").asc(nulls_first=True), "-id")
    )


def campaigns_finished_since(since: datetime.datetime) -> QuerySet[Campaign]:
    """One-off campaigns that finished sending since `since`, latest first."""
    return (
        Campaign.objects.filter(kind=CampaignKind.ONE_OFF, status=CampaignStatus.SENT, finished_at__gte=since)
        .select_related("segment")
        .order_by("-finished_at", "-id")
    )


def campaigns_progress(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per campaign, as its page's progress bar counts: `to_send` (its rows less the held-out control group and
    the skipped), `done` (those that left us, whatever happened next) and `percent`. One grouped query on the
    messages' campaign and status index, whatever the number of campaigns and messages."""
    not_sent = Q(status__in=[MessageStatus.HELD_OUT, MessageStatus.SKIPPED])
    pending = Q(status__in=[MessageStatus.QUEUED, MessageStatus.SENDING])
    rows = (
        Message.objects.filter(campaign_id__in=campaign_ids)
        .values("campaign_id")
        .annotate(total=Count("pk"), not_sent=Count("pk", filter=not_sent), pending=Count("pk", filter=pending))
        .order_by()
    )
    progress = {}
    for row in rows:
        to_send = row["total"] - row["not_sent"]
        done = to_send - row["pending"]
        progress[row["campaign_id"]] = {
            "to_send": to_send,
            "done": done,
            "percent": round(100 * done / to_send) if to_send else 100,
        }
    return progress


def automations_on_with_sent_since(since: datetime.datetime) -> QuerySet[Automation]:
    """The automations switched on, each with `sent`: its messages sent since `since`. One grouped query."""
    return (
        Automation.objects.filter(enabled=True)
        .select_related("campaign")
        .annotate(sent=Count("campaign__messages", filter=Q(campaign__messages__sent_at__gte=since)))
        .order_by("id")
    )


def _latest_snapshots(**filters: object) -> dict[int, SegmentSnapshot]:
    """Each segment's newest snapshot among those matching, in one query (DISTINCT ON over the unique index)."""
    rows = SegmentSnapshot.objects.filter(**filters).order_by("segment_id", "-day").distinct("segment_id")
    return {snapshot.segment_id: snapshot for snapshot in rows}


def segments_report_rows(*, today: datetime.date, compare_days: int = 30) -> list[dict]:
    """Every segment with its latest snapshot and the one from `compare_days` before it (or the nearest older),
    for the reports page: three queries whatever the number of segments or days kept."""
    latest = _latest_snapshots()
    earlier = _latest_snapshots(day__lte=today - datetime.timedelta(days=compare_days))
    rows = []
    for segment in Segment.objects.order_by("name"):
        now, then = latest.get(segment.pk), earlier.get(segment.pk)
        if now is not None and then is not None and then.day == now.day:
            then = None  # the only snapshot is old: no change to show
        change = now.members - then.members if now is not None and then is not None else None
        rows.append({"segment": segment, "latest": now, "earlier": then, "change": change})
    return rows


def segment_snapshots(segment: Segment, *, since: datetime.date | None = None) -> QuerySet[SegmentSnapshot]:
    """A segment's snapshots oldest first (a report's time axis)."""
    rows = SegmentSnapshot.objects.filter(segment=segment)
    if since is not None:
        rows = rows.filter(day__gte=since)
    return rows.order_by("day")


def segment_latest_snapshot(segment: Segment) -> SegmentSnapshot | None:
    return SegmentSnapshot.objects.filter(segment=segment).order_by("-day").first()
