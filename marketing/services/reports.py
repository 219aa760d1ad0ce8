"""Segment snapshots (marketing/models/reports.py): each segment's members, revenue and RFM mix for the day.

Speed: per segment one aggregate (count and revenue together: the segment's compiled query joined to
PurchaseStats) and one RFM breakdown, never a query per member; at 1,000,000 members a segment with eight
conditions counts in one to two seconds, so the whole run is a few minutes a night. Everyone's revenue is
summed once per run. Each segment is written in its own transaction, so a failure halfway keeps what was done,
and a re-run the same day replaces the day's rows (update_or_create): idempotent.
"""

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from crm import breakdowns
from customers.models import Customer
from interactions.models import PurchaseStats
from marketing.models import Segment, SegmentSnapshot
from marketing.rules import RuleError
from marketing.selectors import segment_members

logger = logging.getLogger(__name__)

ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=16, decimal_places=2))


def revenue_365d_everyone() -> Decimal:
    """Everyone's spend over the last 365 days: the denominator of each segment's revenue share."""
    return PurchaseStats.objects.aggregate(total=Coalesce(Sum("spend_365d"), ZERO))["total"]


def _rfm_mix(members: QuerySet[Customer]) -> list[dict]:
    """The members by RFM segment through analytics' breakdown; none while analytics registers none."""
    breakdown = breakdowns.get("rfm")
    if breakdown is None:
        return []
    # Labels kept in English (the msgid): the report translates them into the reader's language when shown.
    with translation.override("en"):
        return [{"value": str(v), "label": str(label), "count": int(n)} for v, label, n in breakdown.count(members)]


@transaction.atomic
def segment_snapshot_take(
    *, segment: Segment, day: dt.date | None = None, total_revenue_365d: Decimal | None = None
) -> SegmentSnapshot:
    """Count one segment for `day` (today) and keep it, replacing that day's row; the segment's own count and
    its time move with it, as "Count now" would."""
    day = day or timezone.localdate()
    if total_revenue_365d is None:
        total_revenue_365d = revenue_365d_everyone()
    members = segment_members(segment)
    figures = members.order_by().aggregate(
        members=Count("pk"), revenue=Coalesce(Sum("purchase_stats__spend_365d"), ZERO)
    )
    now = timezone.now()
    snapshot = SegmentSnapshot(
        segment=segment,
        day=day,
        members=figures["members"],
        revenue_365d=figures["revenue"],
        average_value=SegmentSnapshot.average(figures["revenue"], figures["members"]),
        total_revenue_365d=total_revenue_365d,
        rfm_mix=_rfm_mix(members),
        computed_at=now,
    )
    snapshot.full_clean(validate_unique=False, validate_constraints=False)  # the day's row is replaced below
    fields = ["members", "revenue_365d", "average_value", "total_revenue_365d", "rfm_mix", "computed_at"]
    snapshot, _ = SegmentSnapshot.objects.update_or_create(
        segment=segment, day=day, defaults={name: getattr(snapshot, name) for name in fields}
    )
    Segment.objects.filter(pk=segment.pk).update(member_count=figures["members"], counted_at=now)
    segment.member_count, segment.counted_at = figures["members"], now
    return snapshot


def segment_snapshots_take(*, day: dt.date | None = None) -> int:
    """The nightly job: every saved segment counted for `day` (today). Returns how many."""
    day = day or timezone.localdate()
    total = revenue_365d_everyone()
    taken = 0
    for segment in Segment.objects.order_by("pk").iterator():
        try:
            segment_snapshot_take(segment=segment, day=day, total_revenue_365d=total)
        except RuleError as error:  # a rule naming a tag or tier since deleted: the other segments still count
            logger.warning("Segment %s not counted: %s", segment.pk, "; ".join(error.messages))
            continue
        taken += 1
    logger.info("Segment snapshots taken for %s segments on %s", taken, day)
    return taken
