"""Orders and spend over the last 30, 90 and 365 days as PurchaseStats columns: the daily roll moves them on as days
pass (recounting only the members whose purchases left a period), segment rules read them only while they hold
today and otherwise count the purchases, and both ways select the same members."""

import datetime
import importlib
import random
import types
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.schedule import BEAT_SCHEDULE
from crm.segment_fields import Operator, segment_field
from customers.models import Customer
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory
from interactions import tasks
from interactions.models import WINDOW_DAYS, PurchaseStats, PurchaseWindows, Transaction
from interactions.services import (
    purchase_stats_reconcile,
    purchase_windows_roll,
    transaction_record,
    transaction_refund,
    transactions_bulk_load,
)
from interactions.services import stats as stats_service
from interactions.services.stats import WINDOW_FIELDS, _facts

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2027, 3, 10, 4, tzinfo=datetime.UTC)  # 12:00 in Shanghai
TODAY = datetime.date(2027, 3, 10)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def days_ago(days: int, *, hours: int = 0) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days, hours=hours)


def buy(customer: Customer, days: int, amount: str = "100.00", *, hours: int = 0) -> Transaction:
    return transaction_record(customer=customer, amount=Decimal(amount), occurred_at=days_ago(days, hours=hours))


def windows(customer: Customer) -> dict[str, object]:
    return dict(PurchaseStats.objects.filter(customer=customer).values(*WINDOW_FIELDS).get())


def held(day: datetime.date | None) -> None:
    """Say the columns are counted up to `day` (None: nothing says what they hold)."""
    PurchaseWindows.objects.all().delete()
    if day is not None:
        PurchaseWindows.objects.create(day=day)


def next_day(clock, days: int = 1) -> None:
    clock.move_to(timezone.now() + datetime.timedelta(days=days))


# --- the columns ----------------------------------------------------------------------------------------------------


def test_purchases_and_refunds_count_into_each_period_they_fall_in(clock):
    member = CustomerFactory()
    buy(member, 0, "10.00")
    buy(member, 30, "20.00")  # the first day of the last 30 days
    buy(member, 31, "40.00")
    refunded = buy(member, 90, "80.00")
    buy(member, 365, "160.00")
    buy(member, 366, "320.00")
    transaction_refund(transaction=refunded)
    partly = Transaction.objects.get(customer=member, amount=Decimal("40.00"))
    transaction_refund(transaction=partly, amount=Decimal("15.00"))
    assert windows(member) == {
        "orders_30d": 2,
        "spend_30d": Decimal("30.00"),
        "orders_90d": 3,  # the refunded one is no order
        "spend_90d": Decimal("55.00"),
        "orders_365d": 4,
        "spend_365d": Decimal("215.00"),
    }


def test_a_merge_adds_the_others_periods_to_the_survivors(clock, service_user):
    survivor, other = CustomerFactory(), CustomerFactory()
    buy(survivor, 5, "10.00")
    buy(other, 60, "20.00")
    buy(other, 200, "30.00")
    customer_merge(survivor=survivor, other=other, actor=service_user)
    assert windows(survivor) == {
        "orders_30d": 1,
        "spend_30d": Decimal("10.00"),
        "orders_90d": 2,
        "spend_90d": Decimal("30.00"),
        "orders_365d": 3,
        "spend_365d": Decimal("60.00"),
    }


# --- the daily roll -------------------------------------------------------------------------------------------------


def test_the_roll_moves_a_purchase_out_of_the_period_it_left_and_records_the_day(clock):
    held(TODAY)
    aging = CustomerFactory()
    buy(aging, 90)  # today the first day of the last 90 days; tomorrow 91 days ago
    assert windows(aging)["orders_90d"] == 1
    next_day(clock)
    assert purchase_windows_roll() == 1
    assert windows(aging) == {
        "orders_30d": 0,
        "spend_30d": Decimal("0.00"),
        "orders_90d": 0,
        "spend_90d": Decimal("0.00"),
        "orders_365d": 1,
        "spend_365d": Decimal("100.00"),
    }
    record = PurchaseWindows.objects.get()
    assert (record.day, record.members) == (TODAY + datetime.timedelta(days=1), 1)


def test_the_roll_leaves_members_with_nothing_aging_out_untouched(clock):
    held(TODAY)
    aging, recent, old, never = CustomerFactory(), CustomerFactory(), CustomerFactory(), CustomerFactory()
    buy(aging, 30)
    buy(recent, 3)
    buy(old, 500)
    before = {s.customer_id: s.updated_at for s in PurchaseStats.objects.all()}
    next_day(clock)
    with CaptureQueriesContext(connection) as queries:
        assert purchase_windows_roll() == 1
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "interactions_purchasestats"')]
    assert len(updates) == 1  # one chunk
    after = {s.customer_id: s.updated_at for s in PurchaseStats.objects.all()}
    assert after[aging.pk] > before[aging.pk]
    assert after[recent.pk] == before[recent.pk] and after[old.pk] == before[old.pk]
    assert not PurchaseStats.objects.filter(customer=never).exists()
    assert windows(aging)["orders_30d"] == 0 and windows(aging)["orders_90d"] == 1


def test_a_roll_after_days_without_one_catches_up_and_a_second_run_does_nothing(clock):
    held(TODAY)
    members = [CustomerFactory() for _ in range(4)]
    for member, age in zip(members, (25, 80, 350, 10), strict=True):
        buy(member, age)
    next_day(clock, 20)  # the job did not run for 20 days
    assert purchase_windows_roll() == 3
    assert purchase_windows_roll() == 0
    for member in members:
        counted = _facts([member.pk])[member.pk]
        assert windows(member) == {name: getattr(counted, name) for name in WINDOW_FIELDS}


def test_a_roll_killed_before_it_recorded_the_day_is_done_again_by_the_next_run(clock, monkeypatch):
    held(TODAY)
    members = [CustomerFactory() for _ in range(3)]
    for member in members:
        buy(member, 365)
    next_day(clock)
    monkeypatch.setattr(stats_service, "CHUNK", 1)
    calls = []
    real_update = PurchaseStats.objects.filter

    def dies_on_the_second_chunk(*args, **kwargs):
        if "customer_id__in" in kwargs:
            calls.append(kwargs)
            if len(calls) == 2:
                raise RuntimeError("worker killed")
        return real_update(*args, **kwargs)

    monkeypatch.setattr(PurchaseStats.objects, "filter", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        purchase_windows_roll()
    monkeypatch.undo()
    assert PurchaseWindows.objects.get().day == TODAY  # not moved: segment rules count the purchases meanwhile
    assert [windows(m)["orders_365d"] for m in members] == [0, 1, 1]  # the first chunk was kept
    assert purchase_windows_roll() == 3
    assert [windows(m)["orders_365d"] for m in members] == [0, 0, 0]
    assert PurchaseWindows.objects.get().day == TODAY + datetime.timedelta(days=1)


def test_with_no_day_recorded_the_roll_recounts_everyone(clock):
    members = [CustomerFactory() for _ in range(2)]
    buy(members[0], 3)
    buy(members[1], 100)
    PurchaseStats.objects.update(orders_30d=9, spend_365d=9)  # whatever they held
    held(None)
    assert purchase_windows_roll() == 2
    assert windows(members[0])["orders_30d"] == 1 and windows(members[1])["spend_365d"] == Decimal("100.00")
    assert PurchaseWindows.objects.get().day == TODAY


def test_the_daily_task_rolls_and_is_scheduled_with_an_expiry(clock):
    held(TODAY - datetime.timedelta(days=1))
    buy(CustomerFactory(), 31)
    assert tasks.purchase_windows_roll_task() == 1
    entry = BEAT_SCHEDULE["purchase-windows-roll"]
    assert entry["task"] == "interactions.tasks.purchase_windows_roll_task"
    assert entry["options"]["expires"] == entry["options"]["expire_seconds"] > 0


# --- the reconcile ---------------------------------------------------------------------------------------------------


def test_the_reconcile_repairs_a_wrong_period_column(clock):
    held(TODAY)
    right, wrong = CustomerFactory(), CustomerFactory()
    buy(right, 40, "70.00")
    buy(wrong, 40, "70.00")
    PurchaseStats.objects.filter(customer=wrong).update(spend_90d=Decimal("1.00"), orders_365d=5)
    check = purchase_stats_reconcile()
    assert (check.checked, check.repaired) == (2, 1)
    assert windows(wrong) == windows(right)


# --- the segment fields: columns while they hold today, the purchases otherwise ---------------------------------


def count(key: str, operator: Operator, value: object, days: int) -> set[int]:
    q = segment_field(key).q(operator, value, {"days": days})
    return set(Customer.objects.filter(q).values_list("pk", flat=True))


def test_a_current_column_is_read_instead_of_the_purchases(clock):
    held(TODAY)
    member = CustomerFactory()
    buy(member, 10)
    with CaptureQueriesContext(connection) as queries:
        assert count("orders_in_period", Operator.GT, 0, 90) == {member.pk}
    assert not any("interactions_transaction" in q["sql"] for q in queries)
    with CaptureQueriesContext(connection) as queries:
        assert count("orders_in_period", Operator.GT, 0, 60) == {member.pk}  # no column for 60 days
    assert any("interactions_transaction" in q["sql"] for q in queries)


def test_a_stale_column_is_not_trusted(clock):
    member = CustomerFactory()
    buy(member, 90)
    next_day(clock)  # the purchase left the last 90 days; no roll yet
    held(TODAY)
    assert windows(member)["orders_90d"] == 1
    assert count("orders_in_period", Operator.GT, 0, 90) == set()
    assert count("spend_in_period", Operator.GT, Decimal("1"), 90) == set()
    assert count("orders_in_period", Operator.GT, 0, 365) == {member.pk}


def test_members_without_a_stats_row_count_as_zero_through_the_columns(clock):
    held(TODAY)
    buyer, never = CustomerFactory(), CustomerFactory()
    buy(buyer, 1)
    assert count("orders_in_period", Operator.EQ, 0, 30) == {never.pk}
    assert count("orders_in_period", Operator.NE, 1, 30) == {never.pk}
    assert count("orders_in_period", Operator.LT, 2, 30) == {buyer.pk, never.pk}
    assert count("spend_in_period", Operator.LT, Decimal("50"), 365) == {never.pk}
    assert count("spend_in_period", Operator.BETWEEN, [Decimal("0"), Decimal("100")], 90) == {buyer.pk, never.pk}


CONDITIONS = [
    ("orders_in_period", Operator.EQ, 0),
    ("orders_in_period", Operator.EQ, 1),
    ("orders_in_period", Operator.NE, 0),
    ("orders_in_period", Operator.NE, 2),
    ("orders_in_period", Operator.LT, 2),
    ("orders_in_period", Operator.GT, 0),
    ("orders_in_period", Operator.GT, 2),
    ("orders_in_period", Operator.BETWEEN, [1, 3]),
    ("orders_in_period", Operator.BETWEEN, [0, 1]),
    ("spend_in_period", Operator.LT, Decimal("0.01")),
    ("spend_in_period", Operator.LT, Decimal("300")),
    ("spend_in_period", Operator.GT, Decimal("0")),
    ("spend_in_period", Operator.GT, Decimal("250.50")),
    ("spend_in_period", Operator.BETWEEN, [Decimal("0"), Decimal("99.99")]),
    ("spend_in_period", Operator.BETWEEN, [Decimal("100"), Decimal("1000")]),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_columns_and_the_purchases_select_the_same_members(clock, seed):
    """Random histories (imports, refunds, purchases on the periods' edges), rolled over a few days: every
    condition selects the same members through the columns as through the purchases."""
    rng = random.Random(seed)
    held(TODAY)
    members = [CustomerFactory() for _ in range(25)]
    for member in members:
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            age = rng.choice([0, 1, 2, 29, 30, 31, 88, 89, 90, 91, 200, 363, 364, 365, 366, 700])
            tx = Transaction(
                customer=member,
                amount=Decimal(rng.choice(["0.01", "50.00", "99.99", "100.00", "250.50"])),
                occurred_at=days_ago(age, hours=rng.randint(-11, 11)),
            )
            transactions_bulk_load(transactions=[tx], lines=[[]])
            if rng.random() < 0.25:
                part = tx.amount / 2 if tx.amount > 1 and rng.random() < 0.5 else None
                transaction_refund(transaction=tx, amount=part and part.quantize(Decimal("0.01")))
    for _ in range(3):
        next_day(clock, rng.choice([1, 1, 2]))
        purchase_windows_roll()
        for days in WINDOW_DAYS:
            for key, operator, value in CONDITIONS:
                via_columns = count(key, operator, value, days)
                PurchaseWindows.objects.update(day=timezone.localdate() - datetime.timedelta(days=1))
                via_purchases = count(key, operator, value, days)
                PurchaseWindows.objects.update(day=timezone.localdate())
                assert via_columns == via_purchases, (key, operator, value, days)


# --- the migration's backfill ---------------------------------------------------------------------------------


def test_the_migration_backfill_counts_what_the_services_count(clock):
    migration = importlib.import_module("interactions.migrations.0012_purchase_stats_windows")
    members = [CustomerFactory() for _ in range(6)]
    for i, member in enumerate(members):
        for age in (0, 30, 31, 90, 91, 365, 366)[i:]:
            buy(member, age, f"{10 + age}.00", hours=-3)
    transaction_refund(transaction=Transaction.objects.filter(customer=members[0]).first())
    transaction_refund(transaction=Transaction.objects.filter(customer=members[1]).last(), amount=Decimal("1.50"))
    expected = {m.pk: windows(m) for m in members}
    PurchaseStats.objects.update(**dict.fromkeys(WINDOW_FIELDS, 0))
    held(None)
    migration.backfill(None, types.SimpleNamespace(connection=connection))
    assert {m.pk: windows(m) for m in members} == expected
    assert PurchaseWindows.objects.get().day == TODAY
