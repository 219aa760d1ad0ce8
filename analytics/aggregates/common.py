"""SQL pieces every aggregate module shares: local days, months, age bands, and the tables' names."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.utils import timezone

from analytics.models import (
    AgeBand,
    CategoryAffinity,
    CategoryStats,
    CohortCell,
    DailyKpi,
    DirtyDay,
    Distribution,
    MonthlyRegion,
    MonthlySales,
)
from customers.models import Customer, PointsEntry
from interactions.models import Product, PurchaseStats, Transaction, TransactionLine, TransactionStatus

TABLES = {
    "tx": Transaction._meta.db_table,
    "line": TransactionLine._meta.db_table,
    "product": Product._meta.db_table,
    "customer": Customer._meta.db_table,
    "points": PointsEntry._meta.db_table,
    "stats": PurchaseStats._meta.db_table,
    "daily": DailyKpi._meta.db_table,
    "sales": MonthlySales._meta.db_table,
    "region": MonthlyRegion._meta.db_table,
    "cohort": CohortCell._meta.db_table,
    "catstats": CategoryStats._meta.db_table,
    "affinity": CategoryAffinity._meta.db_table,
    "dist": Distribution._meta.db_table,
    "dirty": DirtyDay._meta.db_table,
}

REFUNDED = TransactionStatus.REFUNDED.value
# Upper bounds of the bands, in the order AgeBand lists them; a birthday on record but no band is impossible.
AGE_LIMITS = [(25, AgeBand.UNDER_25), (35, AgeBand.AGE_25_34), (45, AgeBand.AGE_35_44), (55, AgeBand.AGE_45_54)]


def params(**extra) -> dict:
    return {"tz": settings.TIME_ZONE, "refunded": REFUNDED, **extra}


def sql(text: str) -> str:
    """The statement with the tables' names filled in ({tx}, {customer}, ...)."""
    return text.format(**TABLES)


def run(text: str, values: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql(text), values)
        return cursor.rowcount


def rows(text: str, values: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql(text), values)
        return cursor.fetchall()


def day_start(day: datetime.date) -> datetime.datetime:
    """The moment a local day begins (a bound for occurred_at, so the range uses its index)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_ranges(months: Iterable[datetime.date]) -> list[tuple[datetime.date, datetime.date]]:
    """Consecutive months joined: [(first day, first day after)], so a filter has few ranges."""
    ranges: list[list[datetime.date]] = []
    for month in sorted(set(months)):
        if ranges and ranges[-1][1] == month:
            ranges[-1][1] = add_months(month, 1)
        else:
            ranges.append([month, add_months(month, 1)])
    return [(start, end) for start, end in ranges]


def range_filter(column: str, ranges: list[tuple[datetime.date, datetime.date]], values: dict, *, moment: bool) -> str:
    """`(column >= a AND column < b) OR ...` with the bounds added to values; moment: compare as local midnights."""
    parts = []
    for number, (start, end) in enumerate(ranges):
        values[f"r{number}a"] = day_start(start) if moment else start
        values[f"r{number}b"] = day_start(end) if moment else end
        parts.append(f"({column} >= %(r{number}a)s AND {column} < %(r{number}b)s)")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def age_band_sql(birthday: str, on: str) -> str:
    """The AgeBand of a birthday column on a date expression (unknown without a birthday)."""
    age = f"extract(year FROM age({on}, {birthday}))"
    whens = " ".join(f"WHEN {age} < {limit} THEN '{band.value}'" for limit, band in AGE_LIMITS)
    return f"CASE WHEN {birthday} IS NULL THEN '{AgeBand.UNKNOWN.value}' {whens} ELSE '{AgeBand.AGE_55_UP.value}' END"


def local_day(column: str) -> str:
    return f"({column} AT TIME ZONE %(tz)s)::date"


def local_month(column: str) -> str:
    return f"date_trunc('month', {column} AT TIME ZONE %(tz)s)::date"


def category_lines(where: str, *, month: bool) -> str:
    """Each line of the kept purchases matching `where`, with its category and its share of what the order took:
    the net amount (paid less refunded) split in proportion to the lines' totals. A line's total is its price
    before a coupon, and the lines need not add up to what was paid, so it is never counted as revenue itself.
    Lines without a product or category stay in (they take their share), for the caller to leave out after."""
    month_column = f", {local_month('t.occurred_at')} AS month" if month else ""
    return (
        f"SELECT t.id, t.customer_id{month_column}, pr.category_id, (t.amount - t.refunded_amount) * l.line_total"
        " / NULLIF(sum(l.line_total) OVER (PARTITION BY t.id), 0) AS revenue"
        " FROM {tx} t JOIN {line} l ON l.transaction_id = t.id LEFT JOIN {product} pr ON pr.id = l.product_id"
        f" WHERE t.status <> %(refunded)s AND {where}"
    )
