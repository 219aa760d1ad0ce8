"""The dashboards' figures recomputed the plain way, in Python from the raw rows, for the aggregate tests to hold
the engine's SQL against. Written from the definitions (analytics/aggregates/__init__.py), not from the SQL."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from analytics.models import (
    CategoryAffinity,
    CategoryStats,
    CohortCell,
    DailyKpi,
    Distribution,
    MemberScore,
    MonthlyRegion,
    MonthlySales,
)
from customers.models import Customer, PointsEntry, PointsKind
from interactions.models import PurchaseStats, Transaction, TransactionLine, TransactionStatus

CENT = Decimal("0.01")


def age_band(birthday: datetime.date | None, on: datetime.date) -> str:
    if birthday is None:
        return "unknown"
    age = on.year - birthday.year - ((on.month, on.day) < (birthday.month, birthday.day))
    for limit, band in [(25, "u25"), (35, "25-34"), (45, "35-44"), (55, "45-54")]:
        if age < limit:
            return band
    return "55+"


def month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _purchases() -> list[Transaction]:
    return list(Transaction.objects.order_by("occurred_at", "id"))


def _kept(tx: Transaction) -> bool:
    return tx.status != TransactionStatus.REFUNDED


def daily(today: datetime.date) -> dict:
    """{day: {column: value}} for every day with anything non-zero, as DailyKpi holds it."""
    rows: dict = defaultdict(lambda: defaultdict(lambda: Decimal(0)))
    seen: set[int] = set()
    member_days: dict[int, set[datetime.date]] = defaultdict(set)
    for tx in _purchases():
        day = timezone.localdate(tx.occurred_at)
        rows[day]["refunds"] += tx.refunded_amount
        if not _kept(tx):
            continue
        rows[day]["orders"] += 1
        rows[day]["revenue"] += tx.amount - tx.refunded_amount
        rows[day]["coupons_redeemed"] += 1 if tx.coupon_code else 0
        rows[day]["returning_orders"] += 1 if tx.customer_id in seen else 0
        seen.add(tx.customer_id)
        member_days[tx.customer_id].add(day)
    for customer in Customer.objects.all():
        rows[customer.registered_on]["new_members"] += 1
    for entry in PointsEntry.objects.all():
        day = timezone.localdate(entry.at)
        if entry.kind == PointsKind.EARNED or (entry.kind == PointsKind.ADJUSTED and entry.points > 0):
            rows[day]["points_issued"] += entry.points
        if entry.kind == PointsKind.REDEEMED:
            rows[day]["points_redeemed"] -= entry.points
    if member_days:
        first = min(min(days) for days in member_days.values())
        day = first
        while day <= today:
            window = {day - datetime.timedelta(days=n) for n in range(90)}
            active = sum(1 for days in member_days.values() if days & window)
            if active:
                rows[day]["active_members"] = active
            day += datetime.timedelta(days=1)
    columns = [
        "new_members",
        "orders",
        "returning_orders",
        "revenue",
        "refunds",
        "active_members",
        "points_issued",
        "points_redeemed",
        "coupons_redeemed",
    ]
    return {
        day: {c: values[c] for c in columns}
        for day, values in rows.items()
        if any(values[c] for c in columns if c != "revenue")
    }


def daily_table() -> dict:
    fields = [
        "new_members",
        "orders",
        "returning_orders",
        "revenue",
        "refunds",
        "active_members",
        "points_issued",
        "points_redeemed",
        "coupons_redeemed",
    ]
    return {row["day"]: {f: row[f] for f in fields} for row in DailyKpi.objects.values("day", *fields)}


def monthly_sales() -> dict:
    """{(month, province, category_id, age_band, gender): (orders, revenue, buyers)}"""
    customers = {c.pk: c for c in Customer.objects.all()}
    cells: dict = defaultdict(lambda: [set(), Decimal(0), set()])
    lines = defaultdict(list)
    for line in TransactionLine.objects.select_related("product"):
        lines[line.transaction_id].append(line)
    for tx in _purchases():
        if not _kept(tx):
            continue
        c = customers[tx.customer_id]
        m = month(timezone.localdate(tx.occurred_at))
        base = (m, c.province, age_band(c.birthday, m), c.gender)
        net = tx.amount - tx.refunded_amount
        key = (base[0], base[1], None, base[2], base[3])
        cells[key][0].add(tx.pk)
        cells[key][1] += net
        cells[key][2].add(c.pk)
        for line in lines[tx.pk]:
            if line.product is None or line.product.category_id is None:
                continue
            key = (base[0], base[1], line.product.category_id, base[2], base[3])
            cells[key][0].add(tx.pk)
            cells[key][1] += line.line_total * net / sum(other.line_total for other in lines[tx.pk])
            cells[key][2].add(c.pk)
    return {
        key: (len(orders), revenue.quantize(CENT, ROUND_HALF_UP), len(buyers))
        for key, (orders, revenue, buyers) in cells.items()
    }


def monthly_sales_table() -> dict:
    return {
        (r.month, r.province, r.category_id, r.age_band, r.gender): (r.orders, r.revenue, r.buyers)
        for r in MonthlySales.objects.all()
    }


def monthly_region() -> dict:
    """{(month, province, city): (new_members, orders, revenue, buyers)}"""
    customers = {c.pk: c for c in Customer.objects.all()}
    cells: dict = defaultdict(lambda: [0, 0, Decimal(0), set()])
    for c in customers.values():
        cells[(month(c.registered_on), c.province, c.city)][0] += 1
    for tx in _purchases():
        if _kept(tx):
            c = customers[tx.customer_id]
            cell = cells[(month(timezone.localdate(tx.occurred_at)), c.province, c.city)]
            cell[1] += 1
            cell[2] += tx.amount - tx.refunded_amount
            cell[3].add(c.pk)
    return {key: (n, orders, revenue, len(buyers)) for key, (n, orders, revenue, buyers) in cells.items()}


def monthly_region_table() -> dict:
    return {
        (r.month, r.province, r.city): (r.new_members, r.orders, r.revenue, r.buyers)
        for r in MonthlyRegion.objects.all()
    }


def cohorts() -> dict:
    """{(cohort, offset): (buyers, revenue)}"""
    first: dict[int, datetime.date] = {}
    cells: dict = defaultdict(lambda: [set(), Decimal(0)])
    for tx in _purchases():
        if not _kept(tx):
            continue
        m = month(timezone.localdate(tx.occurred_at))
        cohort = first.setdefault(tx.customer_id, m)
        cell = cells[(cohort, months_between(cohort, m))]
        cell[0].add(tx.customer_id)
        cell[1] += tx.amount - tx.refunded_amount
    return {key: (len(buyers), revenue) for key, (buyers, revenue) in cells.items()}


def cohorts_table() -> dict:
    return {(r.cohort, r.offset): (r.buyers, r.revenue) for r in CohortCell.objects.all()}


def categories(today: datetime.date) -> tuple[dict, dict]:
    """({category: (buyers, repeat_buyers, orders, revenue)}, {(category, other): buyers})"""
    since = today - datetime.timedelta(days=364)
    orders: dict = defaultdict(lambda: defaultdict(set))  # category -> member -> orders
    revenue: dict = defaultdict(Decimal)
    for line in TransactionLine.objects.select_related("product", "transaction"):
        tx = line.transaction
        if not _kept(tx) or not since <= timezone.localdate(tx.occurred_at) <= today:
            continue
        if line.product is None or line.product.category_id is None:
            continue
        category = line.product.category_id
        orders[category][tx.customer_id].add(tx.pk)
        order_lines = tx.lines.all()
        revenue[category] += line.line_total * (tx.amount - tx.refunded_amount) / sum(o.line_total for o in order_lines)
    stats = {
        category: (
            len(members),
            sum(1 for o in members.values() if len(o) >= 2),
            sum(len(o) for o in members.values()),
            revenue[category].quantize(CENT, ROUND_HALF_UP),
        )
        for category, members in orders.items()
    }
    affinity = {}
    for category, members in orders.items():
        for other, others in orders.items():
            if other != category and (both := len(members.keys() & others.keys())):
                affinity[(category, other)] = both
    return stats, affinity


def categories_table() -> tuple[dict, dict]:
    stats = {r.category_id: (r.buyers, r.repeat_buyers, r.orders, r.revenue) for r in CategoryStats.objects.all()}
    affinity = {(r.category_id, r.other_id): r.buyers for r in CategoryAffinity.objects.all()}
    return stats, affinity


def distributions(today: datetime.date) -> dict:
    """{(dimension, key): (members, spend_365d)} without the movement between runs."""
    spend = dict(PurchaseStats.objects.values_list("customer_id", "spend_365d"))
    scores = {s.customer_id: s for s in MemberScore.objects.all()}
    cells: dict = defaultdict(lambda: [0, Decimal(0)])
    for c in Customer.objects.all():
        score = scores.get(c.pk)
        p = score.churn_probability if score else None
        churn = "unscored" if p is None else "low" if p < 0.3 else "medium" if p < 0.6 else "high"
        band = age_band(c.birthday, today)
        for key in [
            ("tier", str(c.tier_id) if c.tier_id else "none"),
            ("rfm", score.segment if score else "unscored"),
            ("churn", churn),
            ("source", c.source),
            ("age", band),
            ("gender", c.gender),
            ("age_gender", f"{band}|{c.gender}"),
        ]:
            cells[key][0] += 1
            cells[key][1] += spend.get(c.pk, Decimal(0))
    return {key: (n, s) for key, (n, s) in cells.items()}


def distributions_table(*, moves: bool = False) -> dict:
    return {
        (r.dimension, r.key): (r.members, r.spend_365d)
        for r in Distribution.objects.all()
        if (r.dimension == "rfm_move") == moves
    }
