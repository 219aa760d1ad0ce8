"""Per-member purchase facts: after any sequence of purchases, refunds, imports and merges they equal what the raw
history says (the 30/90/365-day columns included), and the nightly reconcile finds and repairs rows that drifted."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory
from interactions.models import WINDOW_DAYS, PurchaseStats, PurchaseStatsCheck, Transaction, TransactionStatus
from interactions.services import (
    purchase_stats_reconcile,
    transaction_record,
    transaction_refund,
    transactions_bulk_load,
)
from interactions.services.stats import FIELDS
from interactions.tests.factories import TransactionFactory
from tests.hostile import rolled_back

pytestmark = pytest.mark.django_db
# Purchase ages on both sides of each period's first day (a purchase N days ago is in "the last N days").
AGES = [0, 1, 29, 30, 31, 89, 90, 91, 364, 365, 366, 900]


def history_says(customer_id: int) -> dict | None:
    """The facts computed in plain Python from the purchase rows."""
    rows = list(Transaction.objects.filter(customer_id=customer_id))
    if not rows:
        return None
    kept = [t for t in rows if t.status != TransactionStatus.REFUNDED]
    nets = [t.amount - t.refunded_amount for t in kept]
    today = timezone.localdate()
    windows = {}
    for days in WINDOW_DAYS:
        inside = [t for t in rows if timezone.localdate(t.occurred_at) >= today - datetime.timedelta(days=days)]
        windows[f"orders_{days}d"] = sum(1 for t in inside if t.status != TransactionStatus.REFUNDED)
        windows[f"spend_{days}d"] = sum((t.amount - t.refunded_amount for t in inside), Decimal(0))
    return {
        **windows,
        "orders": len(kept),
        "lifetime_spend": sum((t.amount - t.refunded_amount for t in rows), Decimal(0)),
        "average_order": (sum(nets) / len(nets)).quantize(Decimal("0.01"), ROUND_HALF_UP) if nets else None,
        "first_purchase_at": min(t.occurred_at for t in rows),
        "last_purchase_at": max(t.occurred_at for t in rows),
    }


def stored(customer_id: int) -> dict | None:
    row = PurchaseStats.objects.filter(customer_id=customer_id).first()
    if row is None:
        return None
    return {f: getattr(row, f) for f in FIELDS}


steps = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(0, 2), st.decimals("0.01", "999.99", places=2), st.sampled_from(AGES)),
        st.tuples(st.just("refund"), st.integers(0, 2), st.sampled_from(["all", "part"])),
        st.tuples(st.just("import"), st.integers(0, 2), st.decimals("1", "500", places=2), st.sampled_from(AGES)),
        st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_facts_equal_the_history_after_any_sequence(service_user, sequence):
    with rolled_back():
        members = [CustomerFactory() for _ in range(3)]
        for step in sequence:
            alive = [m for m in members if m is not None]
            who = members[step[1]]
            if who is None:
                continue
            match step:
                case ("buy", _, amount, age):
                    at = timezone.now() - datetime.timedelta(days=age)
                    transaction_record(customer=who, amount=amount, occurred_at=at, actor=service_user)
                case ("refund", _, how):
                    tx = Transaction.objects.filter(customer=who).exclude(status=TransactionStatus.REFUNDED).first()
                    if tx:
                        part = None if how == "all" else (tx.amount - tx.refunded_amount) / 2
                        if part is None or part >= Decimal("0.01"):
                            transaction_refund(transaction=tx, amount=part and part.quantize(Decimal("0.01")))
                case ("import", _, amount, age):
                    at = timezone.now() - datetime.timedelta(days=age)
                    transactions_bulk_load(
                        transactions=[Transaction(customer=who, amount=amount, occurred_at=at)], lines=[[]]
                    )
                case ("merge", _, other_index):
                    other = members[other_index]
                    if other is not None and other.pk != who.pk and len(alive) > 1:
                        customer_merge(survivor=who, other=other, actor=service_user)
                        members[other_index] = None
        for member in members:
            if member is not None:
                assert stored(member.pk) == history_says(member.pk)
        assert PurchaseStats.objects.count() == Transaction.objects.values("customer_id").distinct().count()


def test_reconcile_repairs_drift_and_says_how_much():
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for member in (a, b):
        transaction_record(customer=member, amount=Decimal("120.00"))
    PurchaseStats.objects.filter(customer=a).update(orders=7, spend_90d=1)  # drifted
    PurchaseStats.objects.filter(customer=b).delete()  # missing
    PurchaseStats.objects.create(customer=c, orders=3, lifetime_spend=10)  # stale: c never bought
    TransactionFactory(customer=c, amount=Decimal("5.00"))  # written behind the services' back
    check = purchase_stats_reconcile()
    assert (check.checked, check.repaired) == (3, 3)
    assert check.finished_at is not None and PurchaseStatsCheck.objects.get() == check
    for member in (a, b, c):
        assert stored(member.pk) == history_says(member.pk)
    assert purchase_stats_reconcile().repaired == 0
