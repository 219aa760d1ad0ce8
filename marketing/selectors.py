"""Reads of segments, coupons and messages shared by pages and jobs."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from customers.selectors import customers_visible_to
from marketing.models import Coupon, CouponOffer, CouponStatus, Message, RewardItem, Segment, SegmentSnapshot
from marketing.rules import rule_compile


def segment_members(segment: Segment) -> QuerySet[Customer]:
    """Everyone the segment holds now: a dynamic segment's rules evaluated at this moment, a static list's rows."""
    if segment.is_static:
        return Customer.objects.filter(segment_memberships__segment=segment)
    return Customer.objects.filter(rule_compile(segment.rules))


def rules_members(rules: object, *, user: AbstractBaseUser) -> QuerySet[Customer]:
    """The members a rule tree selects among those the user may see (the builder's count and preview)."""
    return customers_visible_to(user).filter(rule_compile(rules))


def rules_members_everyone(rules: object) -> QuerySet[Customer]:
    """The members a rule tree selects among everyone, for callers that act for the whole business (the API's
    integrations see every customer). RuleError, naming the condition, when the tree is malformed."""
    return Customer.objects.filter(rule_compile(rules))


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


def _latest_snapshots(**filters: object) -> dict[int, SegmentSnapshot]:
    """Each segment's newest snapshot among those matching, in one query (DISTINCT ON over the unique index)."""
    rows = SegmentSnapshot.objects.filter(**filters).order_by("segment_id", "-day").distinct("segment_id")
    return {snapshot.segment_id: snapshot for snapshot in rows}


def segments_report_rows(*, today: dt.date, compare_days: int = 30) -> list[dict]:
    """Every segment with its latest snapshot and the one from `compare_days` before it (or the nearest older),
    for the reports page: three queries whatever the number of segments or days kept."""
    latest = _latest_snapshots()
    earlier = _latest_snapshots(day__lte=today - dt.timedelta(days=compare_days))
    rows = []
    for segment in Segment.objects.order_by("name"):
        now, then = latest.get(segment.pk), earlier.get(segment.pk)
        if now is not None and then is not None and then.day == now.day:
            then = None  # the only snapshot is old: no change to show
        change = now.members - then.members if now is not None and then is not None else None
        rows.append({"segment": segment, "latest": now, "earlier": then, "change": change})
    return rows


def segment_snapshots(segment: Segment, *, since: dt.date | None = None) -> QuerySet[SegmentSnapshot]:
    """A segment's snapshots oldest first (a report's time axis)."""
    rows = SegmentSnapshot.objects.filter(segment=segment)
    if since is not None:
        rows = rows.filter(day__gte=since)
    return rows.order_by("day")


def segment_latest_snapshot(segment: Segment) -> SegmentSnapshot | None:
    return SegmentSnapshot.objects.filter(segment=segment).order_by("-day").first()
