"""The business's key figures over a period, read from the daily table (analytics.models.DailyKpi) only.

Sums over days for everything but the two counts held "as of a day": members (everyone registered up to it) and
active members (bought in the 90 days up to it), which a period shows as of its last day. Average order value is
revenue over orders; the repurchase rate is the share of orders placed by members who had bought before.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from analytics.models import DailyKpi
from crm.charts import ChartData, Column, ColumnKind

ADDITIVE = [
    "new_members",
    "orders",
    "returning_orders",
    "revenue",
    "refunds",
    "points_issued",
    "points_redeemed",
    "coupons_redeemed",
]


@dataclass
class Figures:
    """What a period adds up to, and the two counts as of its last day."""

    new_members: int = 0
    orders: int = 0
    returning_orders: int = 0
    revenue: Decimal = Decimal(0)
    refunds: Decimal = Decimal(0)
    points_issued: int = 0
    points_redeemed: int = 0
    coupons_redeemed: int = 0
    members: int = 0
    active_members: int = 0

    @property
    def average_order(self) -> Decimal | None:
        return (self.revenue / self.orders).quantize(Decimal("0.01")) if self.orders else None

    @property
    def repurchase_rate(self) -> float | None:
        return self.returning_orders / self.orders if self.orders else None


def bucket(day: datetime.date, grain: str) -> datetime.date:
    if grain == "week":
        return day - datetime.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def year_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _rows(start: datetime.date, end: datetime.date) -> list[dict]:
    return list(
        DailyKpi.objects.filter(day__range=(start, end)).order_by("day").values("day", "active_members", *ADDITIVE)
    )


def _members_before(day: datetime.date) -> int:
    return DailyKpi.objects.filter(day__lt=day).aggregate(total=Sum("new_members"))["total"] or 0


def _add(figures: Figures, row: dict) -> None:
    for name in ADDITIVE:
        setattr(figures, name, getattr(figures, name) + row[name])
    figures.members += row["new_members"]
    figures.active_members = row["active_members"]  # rows come in day order: the last one stays


def period_figures(start: datetime.date, end: datetime.date) -> Figures:
    figures = Figures(members=_members_before(start))
    for row in _rows(start, end):
        _add(figures, row)
    return figures


def series(start: datetime.date, end: datetime.date, grain: str) -> list[tuple[datetime.date, Figures]]:
    """One Figures per day, week or month of the range, empty ones included (a gap would draw a false line)."""
    members = _members_before(start)
    buckets: dict[datetime.date, Figures] = {}
    day = start
    while day <= end:
        buckets.setdefault(bucket(day, grain), Figures())
        day += datetime.timedelta(days=1)
    for row in _rows(start, end):
        _add(buckets[bucket(row["day"], grain)], row)
    for figures in buckets.values():  # members as of each period's end
        members += figures.members
        figures.members = members
    return sorted(buckets.items())


def _label(day: datetime.date, grain: str) -> str:
    if grain == "month":
        return f"{day:%Y-%m}"
    return day.isoformat()


def comparisons(start: datetime.date, end: datetime.date) -> dict[str, Figures]:
    """The range, the same length just before it, and the same dates a year earlier."""
    length = end - start
    previous_end = start - datetime.timedelta(days=1)
    return {
        "current": period_figures(start, end),
        "previous": period_figures(previous_end - length, previous_end),
        "last_year": period_figures(year_before(start), year_before(end)),
    }


def _period_column() -> Column:
    return Column("period", _("Period"), ColumnKind.TEXT)


def sales_chart(params: dict) -> ChartData:
    start, end, grain = params["start"], params["end"], params["grain"]
    # Last year's line lines up by weekday for days and weeks (52 weeks back), by calendar month for months.
    back = (lambda day: year_before(day)) if grain == "month" else (lambda day: day - datetime.timedelta(days=364))
    earlier = dict(series(back(start), back(end), grain))
    rows = []
    for day, figures in series(start, end, grain):
        before = earlier.get(bucket(back(day), grain))
        rows.append(
            [_label(day, grain), figures.revenue, figures.orders, figures.average_order, before and before.revenue]
        )
    return ChartData(
        columns=[
            _period_column(),
            Column("revenue", _("Revenue"), ColumnKind.MONEY),
            Column("orders", _("Orders")),
            Column("average_order", _("Average order value"), ColumnKind.MONEY),
            Column(
                "revenue_last_year",
                _("Revenue a year earlier") if grain == "month" else _("Revenue 52 weeks earlier"),
                ColumnKind.MONEY,
            ),
        ],
        rows=rows,
        spec={"type": "bar", "x": "period", "y": ["revenue", "revenue_last_year"], "y2": ["orders"]},
        notes=[_("Revenue is what was paid less refunds, on the day of the purchase.")],
    )


def members_chart(params: dict) -> ChartData:
    start, end, grain = params["start"], params["end"], params["grain"]
    rows = [
        [_label(day, grain), figures.members, figures.active_members, figures.new_members]
        for day, figures in series(start, end, grain)
    ]
    return ChartData(
        columns=[
            _period_column(),
            Column("members", _("Members")),
            Column("active_members", _("Active members")),
            Column("new_members", _("New members")),
        ],
        rows=rows,
        spec={"type": "line", "x": "period", "y": ["members", "active_members"], "y2": ["new_members"]},
        notes=[_("Members and active members (bought in the last 90 days) as of each period's last day.")],
    )


def loyalty_chart(params: dict) -> ChartData:
    start, end, grain = params["start"], params["end"], params["grain"]
    rows = [
        [_label(day, grain), figures.repurchase_rate, figures.returning_orders, figures.orders]
        for day, figures in series(start, end, grain)
    ]
    return ChartData(
        columns=[
            _period_column(),
            Column("repurchase_rate", _("Repurchase rate"), ColumnKind.PERCENT),
            Column("returning_orders", _("Orders from returning members")),
            Column("orders", _("Orders")),
        ],
        rows=rows,
        spec={"type": "line", "x": "period", "y": ["repurchase_rate"]},
        notes=[_("Repurchase rate: the share of orders placed by members who had bought before.")],
    )


def rewards_chart(params: dict) -> ChartData:
    start, end, grain = params["start"], params["end"], params["grain"]
    rows = [
        [_label(day, grain), figures.points_issued, figures.points_redeemed, figures.coupons_redeemed]
        for day, figures in series(start, end, grain)
    ]
    return ChartData(
        columns=[
            _period_column(),
            Column("points_issued", _("Points issued")),
            Column("points_redeemed", _("Points redeemed")),
            Column("coupons_redeemed", _("Coupons redeemed")),
        ],
        rows=rows,
        spec={"type": "bar", "x": "period", "y": ["points_issued", "points_redeemed"], "y2": ["coupons_redeemed"]},
    )


@dataclass
class Tile:
    key: str
    label: str
    kind: str
    value: object
    previous: object
    last_year: object

    @staticmethod
    def _change(now, then) -> float | None:
        if now is None or then is None or not then:
            return None
        return float(now) / float(then) - 1

    @property
    def change_previous(self) -> float | None:
        return self._change(self.value, self.previous)

    @property
    def change_last_year(self) -> float | None:
        return self._change(self.value, self.last_year)


TILES = [
    ("members", _("Members"), ColumnKind.NUMBER),
    ("new_members", _("New members"), ColumnKind.NUMBER),
    ("active_members", _("Active members"), ColumnKind.NUMBER),
    ("revenue", _("Revenue"), ColumnKind.MONEY),
    ("orders", _("Orders"), ColumnKind.NUMBER),
    ("average_order", _("Average order value"), ColumnKind.MONEY),
    ("repurchase_rate", _("Repurchase rate"), ColumnKind.PERCENT),
    ("points_issued", _("Points issued"), ColumnKind.NUMBER),
    ("points_redeemed", _("Points redeemed"), ColumnKind.NUMBER),
    ("coupons_redeemed", _("Coupons redeemed"), ColumnKind.NUMBER),
]


def tiles(start: datetime.date, end: datetime.date) -> list[Tile]:
    """Each key figure for the range, beside the period just before it and the same dates a year earlier."""
    periods = comparisons(start, end)
    return [
        Tile(key, label, kind, *(getattr(periods[name], key) for name in ("current", "previous", "last_year")))
        for key, label, kind in TILES
    ]
