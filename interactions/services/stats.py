"""Per-member purchase facts (PurchaseStats): refreshed by every service that changes a purchase history,
and reconciled against the raw history every night."""

from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from customers.models import Customer
from interactions.models import PurchaseStats, PurchaseStatsCheck, Transaction
from interactions.selectors import PURCHASE_FACTS

CHUNK = 5_000
FIELDS = ["orders", "lifetime_spend", "average_order", "first_purchase_at", "last_purchase_at"]
CENT = Decimal("0.01")


def _facts(customer_ids: list[int]) -> dict[int, PurchaseStats]:
    """What the raw history says, for these members (those with no purchase are absent)."""
    rows = Transaction.objects.filter(customer_id__in=customer_ids).values("customer_id").annotate(**PURCHASE_FACTS)
    return {
        row["customer_id"]: PurchaseStats(
            customer_id=row["customer_id"],
            orders=row["orders"],
            lifetime_spend=row["lifetime_spend"],
            average_order=None if row["average_order"] is None else row["average_order"].quantize(CENT, ROUND_HALF_UP),
            first_purchase_at=row["first_purchase"],
            last_purchase_at=row["last_purchase"],
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
