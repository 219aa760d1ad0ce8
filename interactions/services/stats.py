"""Per-member purchase facts (PurchaseStats): refreshed by every service that changes a purchase history,
rolled on to each new day for the periods that end today, and reconciled against the raw history every night."""

import datetime
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import IntegerField, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from interactions.models import (
    WINDOW_DAYS,
    PurchaseStats,
    PurchaseStatsCheck,
    PurchaseWindows,
    Transaction,
    window_column,
)
from interactions.selectors import PURCHASE_FACTS, ZERO, window_facts, window_since

CHUNK = 5_000
WINDOW_FIELDS = [window_column(fact, days) for days in WINDOW_DAYS for fact in ("orders", "spend")]
FIELDS = ["orders", "lifetime_spend", "average_order", "first_purchase_at", "last_purchase_at", *WINDOW_FIELDS]
CENT = Decimal("0.01")


def _facts(customer_ids: list[int]) -> dict[int, PurchaseStats]:
    """What the raw history says, for these members (those with no purchase are absent), with the periods
    counted up to today."""
    rows = (
        Transaction.objects.filter(customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(**PURCHASE_FACTS, **window_facts(timezone.localdate()))
    )
    return {
        row["customer_id"]: PurchaseStats(
            customer_id=row["customer_id"],
            orders=row["orders"],
            lifetime_spend=row["lifetime_spend"],
            average_order=None if row["average_order"] is None else row["average_order"].quantize(CENT, ROUND_HALF_UP),
            first_purchase_at=row["first_purchase"],
            last_purchase_at=row["last_purchase"],
            **{name: row[name] for name in WINDOW_FIELDS},
        )
        for row in rows.order_by()
    }


def _write(facts: dict[int, PurchaseStats], customer_ids: Iterable[int]) -> None:
    PurchaseStats.objects.bulk_create(
        list(facts.values()), update_conflicts=True, unique_fields=["customer"], update_fields=[*FIELDS, "updated_at"]
    )
    gone = [pk for pk in customer_ids if pk not in facts]
    if gone:
        PurchaseStats.objects.filter(customer_id__in=gone).delete()


@transaction.atomic
def purchase_stats_refresh(*, customer_ids: Iterable[int]) -> None:
    """Recompute these members' facts from their history: two queries for any number of members."""
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        _write(_facts(chunk), chunk)


def purchase_stats_after_merge(*, survivor: Customer, **kwargs: object) -> None:
    """The other member's purchases now belong to the survivor: add them up again."""
    purchase_stats_refresh(customer_ids=[survivor.pk])


def _same(a: PurchaseStats, b: PurchaseStats) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in FIELDS)


def purchase_stats_reconcile(*, on_progress: Callable[[int, int], None] | None = None) -> PurchaseStatsCheck:
    """Check every member's facts against the raw history, chunk by chunk in id order, and repair the rows that
    differ (a write that missed its refresh, a hand edit, a restore). Records how many it checked and repaired.
    Each chunk is its own transaction, so a killed run keeps what it repaired and the next run starts over."""
    check = PurchaseStatsCheck.objects.create()
    bounds = Customer.objects.aggregate(low=Min("pk"), high=Max("pk"))
    low, high = bounds["low"] or 0, bounds["high"] or -1
    for start in range(low, high + 1, CHUNK):
        with transaction.atomic():
            ids = list(Customer.objects.filter(pk__gte=start, pk__lt=start + CHUNK).values_list("pk", flat=True))
            facts = _facts(ids)
            stored = {s.customer_id: s for s in PurchaseStats.objects.filter(customer_id__in=ids)}
            wrong = {pk: f for pk, f in facts.items() if pk not in stored or not _same(stored[pk], f)}
            stale = [pk for pk in stored if pk not in facts]
            if wrong or stale:
                _write(wrong, stale)
            check.checked += len(ids)
            check.repaired += len(wrong) + len(stale)
            PurchaseStatsCheck.objects.filter(pk=check.pk).update(checked=check.checked, repaired=check.repaired)
        if on_progress:
            on_progress(min(start + CHUNK, high + 1) - low, high + 1 - low)
    check.finished_at = timezone.now()
    check.save(update_fields=["finished_at"])
    return check


def _window_counts(today: datetime.date) -> dict[str, Coalesce]:
    """The window columns of the PurchaseStats row being updated, recounted from its member's purchases."""
    recent = (
        Transaction.objects.filter(
            customer_id=OuterRef("customer_id"), occurred_at__gte=window_since(today, max(WINDOW_DAYS))
        )
        .order_by()
        .values("customer_id")
    )
    return {
        name: Coalesce(
            Subquery(recent.annotate(value=fact).values("value")),
            Value(0, output_field=IntegerField()) if name.startswith("orders") else ZERO,
        )
        for name, fact in window_facts(today).items()
    }


def purchase_windows_roll(*, today: datetime.date | None = None) -> int:
    """Move every member's window columns on to `today` (the local day by default) and record that they hold it.

    Only members with a purchase in a band that left a period since the day the columns held change, so only
    they are recounted: for a roll of one day, the purchases of one day per period. Chunks of members are each
    one transaction; the day is recorded after the last, so a killed run leaves the old day (segment rules fall
    back to the purchases meanwhile) and the next run recounts the same members. Returns how many it recounted.
    """
    today = today or timezone.localdate()
    held = PurchaseWindows.objects.filter(pk=1).values_list("day", flat=True).first()
    if held == today:
        return 0
    if held is None:  # nothing says what the columns hold: recount everyone
        ids = list(PurchaseStats.objects.order_by("customer_id").values_list("customer_id", flat=True))
    else:
        aged = Q()
        for days in WINDOW_DAYS:
            low, high = sorted((window_since(held, days), window_since(today, days)))  # sorted: a clock set back
            aged |= Q(occurred_at__gte=low, occurred_at__lt=high)
        aged_out = Transaction.objects.filter(aged).order_by("customer_id").values_list("customer_id", flat=True)
        ids = list(aged_out.distinct())
    counts = _window_counts(today)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        with transaction.atomic():
            # Every purchase, refund, import and merge holds its member's row while it refreshes the facts: waiting
            # for those here means the recount sees their purchases, and none overwrites it with an older count.
            list(Customer.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
            PurchaseStats.objects.filter(customer_id__in=chunk).update(**counts, updated_at=timezone.now())
    PurchaseWindows.objects.update_or_create(pk=1, defaults={"day": today, "members": len(ids)})
    return len(ids)
