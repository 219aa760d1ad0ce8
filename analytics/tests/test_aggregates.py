"""The dashboards' tables hold what the raw purchases, members and points give (analytics/tests/aggregates_oracle.py
recomputes them the plain way), after a full refresh and after each kind of change followed by an incremental one."""

import datetime
import random
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from analytics.models import (
    AggregateState,
    CategoryAffinity,
    CategoryStats,
    CohortCell,
    DailyKpi,
    DirtyDay,
    Distribution,
    MonthlyRegion,
    MonthlySales,
)
from analytics.services.aggregates import aggregates_refresh
from analytics.tests import aggregates_oracle as oracle
from customers.models import Gender, PointsEntry, PointsKind, Source
from customers.services.merge import customer_merge
from customers.tests.factories import CategoryFactory, CustomerFactory
from interactions.models import Transaction, TransactionStatus
from interactions.services import transaction_refund
from interactions.services.stats import purchase_stats_refresh
from interactions.tests.factories import ProductFactory, TransactionFactory, TransactionLineFactory

NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 14, 0))
TODAY = datetime.date(2026, 6, 15)
CENT = Decimal("0.01")

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def purchase(customer, when, *, amount="100.00", refunded="0", coupon="", products=()) -> Transaction:
    amount, refunded = Decimal(amount), Decimal(refunded)
    status = (
        TransactionStatus.REFUNDED
        if refunded == amount
        else TransactionStatus.PARTIALLY_REFUNDED
        if refunded
        else TransactionStatus.COMPLETED
    )
    tx = TransactionFactory(
        customer=customer, occurred_at=when, amount=amount, refunded_amount=refunded, status=status, coupon_code=coupon
    )
    shares = [amount / len(products)] * len(products) if products else []
    for product, share in zip(products, shares, strict=True):
        TransactionLineFactory(transaction=tx, product=product, unit_price=share.quantize(CENT), quantity=1)
    return tx


@pytest.fixture
def shop(frozen):
    """Eight members, four products (one without a category), ~300 purchases over 14 months (some near local
    midnight, some with coupons, some refunded), and points entries of every kind."""
    rng = random.Random(13)
    categories = [CategoryFactory(name=n) for n in ("tea", "cups", "snacks")]
    products = [ProductFactory(category=c) for c in categories] + [ProductFactory(category=None)]
    places = [("浙江省", "杭州市"), ("浙江省", "宁波市"), ("上海市", "上海市"), ("", "")]
    members = []
    for n in range(8):
        province, city = places[n % 4]
        members.append(
            CustomerFactory(
                province=province,
                city=city,
                gender=[Gender.FEMALE, Gender.MALE, Gender.UNKNOWN][n % 3],
                birthday=None if n == 3 else datetime.date(1960 + 6 * n, 1 + n, 10 + n),
                source=[Source.STORE, Source.APP, Source.WECHAT][n % 3],
                registered_on=TODAY - datetime.timedelta(days=rng.randint(0, 430)),
            )
        )
    for _ in range(300):
        day = TODAY - datetime.timedelta(days=rng.randint(1, 420))
        refunded = rng.choice(["0"] * 8 + ["25.50", "all"])
        amount = f"{rng.randint(20, 900)}.{rng.randint(0, 99):02d}"
        purchase(
            rng.choice(members),
            at(day, rng.choice([0, 9, 13, 23]), rng.choice([0, 30, 59])),
            amount=amount,
            refunded=amount if refunded == "all" else refunded,
            coupon=rng.choice(["", "", "", "WELCOME-7"]),
            products=rng.sample(products, rng.randint(0, 3)),
        )
    for _ in range(60):
        kind = rng.choice(list(PointsKind))
        points = rng.randint(1, 300) * (1 if kind == PointsKind.EARNED else rng.choice([1, -1]))
        if kind in (PointsKind.REDEEMED, PointsKind.EXPIRED, PointsKind.REVERSED):
            points = -abs(points)
        PointsEntry.objects.create(
            customer=rng.choice(members),
            kind=kind,
            points=points,
            balance_after=5000,
            at=at(TODAY - datetime.timedelta(days=rng.randint(0, 400)), rng.choice([1, 12, 23])),
        )
    purchase_stats_refresh(customer_ids=[m.pk for m in members])
    return {"members": members, "products": products, "rng": rng}


def close(expected: dict, actual: dict) -> None:
    """Equal keys and values, money within a cent (a category's revenue is a sum of fractions of orders)."""
    assert expected.keys() == actual.keys()
    for key, values in expected.items():
        for e, a in zip(values, actual[key], strict=True):
            if isinstance(e, Decimal):
                assert abs(e - a) <= CENT, (key, expected[key], actual[key])
            else:
                assert e == a, (key, expected[key], actual[key])


def assert_matches_raw() -> None:
    assert oracle.daily_table() == oracle.daily(TODAY)
    close(oracle.monthly_sales(), oracle.monthly_sales_table())
    assert oracle.monthly_region_table() == oracle.monthly_region()
    assert oracle.cohorts_table() == oracle.cohorts()
    stats, affinity = oracle.categories(TODAY)
    table_stats, table_affinity = oracle.categories_table()
    close(stats, table_stats)
    assert table_affinity == affinity
    assert oracle.distributions_table() == oracle.distributions(TODAY)


def snapshot() -> dict:
    def rows(model, *key):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "refreshed_at")]
        return sorted((tuple(r[f] for f in fields) for r in model.objects.values(*fields)), key=repr)

    return {
        model.__name__: rows(model)
        for model in (DailyKpi, MonthlySales, MonthlyRegion, CohortCell, CategoryStats, CategoryAffinity, Distribution)
    }


def test_full_refresh_then_late_purchases_refunds_and_a_merge_each_match_the_raw_rows(shop):
    members, products = shop["members"], shop["products"]
    result = aggregates_refresh(full=True)
    assert result["full"] and result["days"] > 400
    assert DailyKpi.objects.filter(orders__gt=0).exists()
    assert_matches_raw()

    # Late-arriving purchases dated 40 days ago: one before a member's first purchase (it becomes their first),
    # one by a member who had none, one with a coupon.
    late = TODAY - datetime.timedelta(days=40)
    newcomer = CustomerFactory(registered_on=late, province="广东省", city="深圳市", birthday=None)
    earliest = Transaction.objects.exclude(status=TransactionStatus.REFUNDED).order_by("occurred_at").first()
    purchase(earliest.customer, earliest.occurred_at - datetime.timedelta(days=30), products=products[:2])
    purchase(newcomer, at(late, 23, 30), amount="58.00", coupon="LATE-1", products=products[2:])
    purchase(members[1], at(late, 0, 10), amount="77.70")
    assert not aggregates_refresh()["full"]
    assert_matches_raw()

    # A partial refund and a full one (of a member's first purchase) through the service.
    first = (
        Transaction.objects.filter(customer=members[2])
        .exclude(status=TransactionStatus.REFUNDED)
        .order_by("occurred_at")
        .first()
    )
    transaction_refund(transaction=first)
    partial = Transaction.objects.filter(status=TransactionStatus.COMPLETED, lines__isnull=False).last()
    transaction_refund(transaction=partial, amount=Decimal("10.00"))
    assert DirtyDay.objects.filter(day=timezone.localdate(first.occurred_at)).exists()
    purchase_stats_refresh(customer_ids=[m.pk for m in members])
    aggregates_refresh()
    assert not DirtyDay.objects.exists()
    assert_matches_raw()

    # A merge: the other's purchases and registration become the survivor's.
    customer_merge(survivor=members[4], other=members[5], actor=None)
    aggregates_refresh()
    assert_matches_raw()


def test_incremental_refreshes_end_where_a_full_refresh_does(shop):
    members = shop["members"]
    aggregates_refresh(full=True)
    purchase(members[0], at(TODAY - datetime.timedelta(days=70), 10), amount="300.00", products=shop["products"])
    purchase(members[6], at(TODAY, 9), amount="12.00")
    aggregates_refresh()
    transaction_refund(transaction=Transaction.objects.filter(customer=members[6]).order_by("occurred_at").first())
    aggregates_refresh()
    customer_merge(survivor=members[0], other=members[7], actor=None)
    aggregates_refresh()
    incremental = snapshot()

    aggregates_refresh(full=True)
    assert snapshot() == incremental


def test_a_second_refresh_changes_nothing(shop):
    aggregates_refresh(full=True)
    before = snapshot()
    aggregates_refresh()
    assert snapshot() == before
    aggregates_refresh(full=True)
    assert snapshot() == before


def test_a_day_that_lost_its_only_purchase_keeps_no_row(frozen):
    member = CustomerFactory(registered_on=TODAY - datetime.timedelta(days=400))
    only = purchase(member, at(TODAY - datetime.timedelta(days=200), 12))
    aggregates_refresh(full=True)
    assert DailyKpi.objects.get(day=TODAY - datetime.timedelta(days=200)).orders == 1

    transaction_refund(transaction=only)
    aggregates_refresh()
    day = DailyKpi.objects.get(day=TODAY - datetime.timedelta(days=200))
    assert (day.orders, day.revenue, day.refunds, day.active_members) == (0, 0, Decimal("100.00"), 0)
    assert not DailyKpi.objects.filter(day__gt=TODAY - datetime.timedelta(days=200)).exists()
    assert not CohortCell.objects.exists()
    assert not MonthlySales.objects.exists()


def test_refunding_a_first_purchase_in_full_makes_the_next_one_first_however_far_apart(frozen):
    member = CustomerFactory(registered_on=TODAY - datetime.timedelta(days=400))
    first = purchase(member, at(TODAY - datetime.timedelta(days=300), 12))
    purchase(member, at(TODAY - datetime.timedelta(days=100), 12), amount="40.00")
    aggregates_refresh(full=True)
    later = DailyKpi.objects.get(day=TODAY - datetime.timedelta(days=100))
    assert (later.orders, later.returning_orders) == (1, 1)

    transaction_refund(transaction=first)
    aggregates_refresh()
    later.refresh_from_db()
    assert (later.orders, later.returning_orders) == (1, 0)
    cohort = timezone.localdate(at(TODAY - datetime.timedelta(days=100), 12)).replace(day=1)
    assert {(c.cohort, c.offset, c.buyers) for c in CohortCell.objects.all()} == {(cohort, 0, 1)}
    assert oracle.daily_table() == oracle.daily(TODAY)


def test_cohort_retention_on_a_hand_made_example(frozen):
    a, b, c = CustomerFactory(), CustomerFactory(), CustomerFactory()
    jan, feb, mar, apr = (datetime.date(2026, m, 5) for m in (1, 2, 3, 4))
    purchase(a, at(datetime.date(2025, 12, 20), 12), refunded="100.00")  # refunded in full: not a's first
    purchase(a, at(jan, 12), amount="10.00")
    purchase(a, at(mar, 12), amount="20.00")
    purchase(b, at(jan, 23, 59), amount="30.00")
    purchase(b, at(feb, 1), amount="40.00")
    purchase(c, at(feb, 12), amount="50.00")
    purchase(c, at(feb + datetime.timedelta(days=3), 12), amount="5.00")
    purchase(c, at(apr, 12), amount="60.00")
    aggregates_refresh(full=True)

    cells = {(r.cohort, r.offset): (r.buyers, r.revenue) for r in CohortCell.objects.all()}
    january, february = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
    assert cells == {
        (january, 0): (2, Decimal("40.00")),
        (january, 1): (1, Decimal("40.00")),
        (january, 2): (1, Decimal("20.00")),
        (february, 0): (1, Decimal("55.00")),
        (february, 2): (1, Decimal("60.00")),
    }


def test_distributions_count_members_by_score_and_movement_between_the_two_latest_runs(frozen):
    from analytics.models import MemberScore, RunStatus, ScoreHistory, ScoringRun

    members = [CustomerFactory() for _ in range(4)]
    runs = [
        ScoringRun.objects.create(status=RunStatus.DONE, as_of=NOW, finished_at=NOW - datetime.timedelta(days=d))
        for d in (30, 1)
    ]
    older, newer = runs
    moves = [("new", "loyal"), ("new", "loyal"), ("lost", "lost")]
    for member, (before, after) in zip(members, moves, strict=False):
        ScoreHistory.objects.create(run=older, customer=member, segment=before)
        ScoreHistory.objects.create(run=newer, customer=member, segment=after)
    for member, churn in zip(members, [0.1, 0.3, 0.9], strict=False):
        MemberScore.objects.create(customer=member, run=newer, segment="loyal", churn_probability=churn, scored_at=NOW)
    aggregates_refresh(full=True)

    assert oracle.distributions_table(moves=True) == {
        ("rfm_move", "new>loyal"): (2, Decimal("0")),
        ("rfm_move", "lost>lost"): (1, Decimal("0")),
    }
    churn = {k: n for (d, k), (n, _spend) in oracle.distributions_table().items() if d == "churn"}
    assert churn == {"low": 1, "medium": 1, "high": 1, "unscored": 1}
    assert oracle.distributions_table() == oracle.distributions(TODAY)


def test_a_refresh_while_another_holds_the_lock_is_skipped_and_writes_nothing(frozen):
    import psycopg2
    from django.db import connection

    from analytics.services.aggregates import LOCK_KEY

    purchase(CustomerFactory(), at(TODAY, 10))
    settings = connection.settings_dict
    other = psycopg2.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"],
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        assert aggregates_refresh(full=True) == {"skipped": True}
        assert not DailyKpi.objects.exists()
        assert AggregateState.objects.filter(refreshed_at__isnull=False).count() == 0
    finally:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        other.close()
    assert aggregates_refresh()["full"]  # the first refresh ever is a full one
    assert DailyKpi.objects.get(day=TODAY).orders == 1


def test_the_command_prints_a_line_per_block_and_a_summary(shop):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("refresh_aggregates", "--full", stdout=out)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("days ") for line in lines)
    assert any(line.startswith("distributions ") for line in lines)
    assert "full refresh" in lines[-1]
    state = AggregateState.objects.get()
    assert state.refreshed_at is not None and state.transaction_id == Transaction.objects.latest("pk").pk

    out = StringIO()
    call_command("refresh_aggregates", stdout=out)
    assert "incremental refresh" in out.getvalue().splitlines()[-1]


def test_the_task_refreshes(shop):
    from analytics.tasks import aggregates_refresh_task

    aggregates_refresh_task()
    assert AggregateState.objects.get().refreshed_at is not None
    assert_matches_raw()


def test_a_coupon_orders_categories_share_what_was_paid_not_the_prices_before_it(frozen):
    """120 of tea and cups less a 20 coupon: 100 paid, split 2:1 as the lines' prices were; the categories add up
    to the day's revenue, not to the 120 the lines list."""
    member = CustomerFactory(registered_on=TODAY - datetime.timedelta(days=40))
    tea, cups = (
        ProductFactory(category=CategoryFactory(name="tea")),
        ProductFactory(category=CategoryFactory(name="cups")),
    )
    day = TODAY - datetime.timedelta(days=3)
    tx = TransactionFactory(customer=member, occurred_at=at(day, 12), amount=Decimal("100.00"), coupon_code="SPRING20")
    TransactionLineFactory(transaction=tx, product=tea, unit_price=Decimal("80.00"), quantity=1)
    TransactionLineFactory(transaction=tx, product=cups, unit_price=Decimal("40.00"), quantity=1)
    aggregates_refresh(full=True)
    by_category = dict(MonthlySales.objects.exclude(category=None).values_list("category__name", "revenue"))
    assert by_category == {"tea": Decimal("66.67"), "cups": Decimal("33.33")}
    assert sum(by_category.values()) == DailyKpi.objects.get(day=day).revenue
    stats = {row.category.name: row.revenue for row in CategoryStats.objects.select_related("category")}
    assert stats == {"tea": Decimal("66.67"), "cups": Decimal("33.33")}
