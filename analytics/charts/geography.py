"""Where the members are and where sales grow (目标市场), from analytics.models.MonthlyRegion and MonthlySales.

Growth compares the last three complete months with the three before them; average spend is the last twelve
complete months' revenue per member of the region. The current month is left out: it is not over.
"""

import datetime
import re
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models import MonthlyRegion, MonthlySales
from crm.charts import ChartData, Column, ColumnKind

# "广西壮族自治区" and "广西" are one province: the map's boundaries are named the short way.
_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
REGIONS_SHOWN = 20


def short_province(name: str) -> str:
    """One name per province, as the map's boundaries have it ("" stays "": not given)."""
    return _SUFFIX.sub("", name.strip()) or name.strip()


def _months_back(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


def windows(today: datetime.date | None = None) -> dict[str, tuple[datetime.date, datetime.date]]:
    """Month-start ranges, inclusive: the last 3 complete months, the 3 before, the last 12."""
    this_month = (today or timezone.localdate()).replace(day=1)
    return {
        "recent": (_months_back(this_month, 3), _months_back(this_month, 1)),
        "before": (_months_back(this_month, 6), _months_back(this_month, 4)),
        "year": (_months_back(this_month, 12), _months_back(this_month, 1)),
    }


def _growth(recent: Decimal, before: Decimal) -> float | None:
    return float(recent / before - 1) if before else None


def _by_region(fields: list[str]) -> dict[tuple, dict]:
    span = windows()
    regions: dict[tuple, dict] = {}

    def key(row: dict) -> tuple:
        return (short_province(row["province"]), *(row[f] for f in fields[1:]))

    def add(queryset, name):
        for row in queryset.values(*fields).annotate(value=Sum("revenue")):
            figures = regions.setdefault(key(row), {})
            figures[name] = figures.get(name, Decimal(0)) + (row["value"] or Decimal(0))

    for name in ("recent", "before", "year"):
        add(MonthlyRegion.objects.filter(month__range=span[name]), name)
    for row in MonthlyRegion.objects.values(*fields).annotate(members=Sum("new_members")):
        figures = regions.setdefault(key(row), {})
        figures["members"] = figures.get("members", 0) + (row["members"] or 0)
    return regions


def _region_rows(level: str) -> list[list]:
    fields = ["province"] if level == "province" else ["province", "city"]
    rows = []
    for key, figures in _by_region(fields).items():
        members = figures.get("members", 0)
        year = figures.get("year", Decimal(0))
        recent, before = figures.get("recent", Decimal(0)), figures.get("before", Decimal(0))
        name = " ".join(part for part in key if part) or str(_("Not given"))
        rows.append([name, members, year, _growth(recent, before), (year / members) if members else None])
    rows.sort(key=lambda row: (-row[2], -row[1]))
    return rows


def _region_columns() -> list[Column]:
    return [
        Column("region", _("Region"), ColumnKind.TEXT),
        Column("members", _("Members")),
        Column("revenue_12m", _("Revenue, last 12 months"), ColumnKind.MONEY),
        Column("growth", _("Growth, last 3 months"), ColumnKind.PERCENT),
        Column("average_spend", _("Average spend per member"), ColumnKind.MONEY),
    ]


def map_chart(params: dict) -> ChartData:
    """Members by province on a map of China (its boundaries carry the short names _by_region groups by)."""
    rows = sorted(
        ([name, members, revenue] for name, members, revenue, _g, _a in _region_rows("province")),
        key=lambda row: -row[1],
    )
    return ChartData(
        columns=[
            Column("province", _("Province"), ColumnKind.TEXT),
            Column("members", _("Members")),
            Column("revenue_12m", _("Revenue, last 12 months"), ColumnKind.MONEY),
        ],
        rows=rows,
        spec={"type": "map", "name": "province", "value": "members"},
    )


def regions_chart(params: dict) -> ChartData:
    level = params.get("level") or "province"
    rows = _region_rows(level)[:REGIONS_SHOWN]
    return ChartData(
        columns=_region_columns(),
        rows=rows,
        spec={"type": "hbar", "x": "region", "y": ["revenue_12m"]},
        notes=[_("Growth compares the last three complete months with the three before them.")],
    )


def growth_chart(params: dict) -> ChartData:
    """The provinces where the chosen buyers' spending on the chosen category grew fastest."""
    span = windows()
    # Without a category, the whole orders' rows (category empty), so no order is counted once per category.
    sales = MonthlySales.objects.filter(category=params["category"] if params.get("category") else None)
    if params.get("age_band"):
        sales = sales.filter(age_band=params["age_band"])
    if params.get("gender"):
        sales = sales.filter(gender=params["gender"])
    figures: dict[str, dict] = {}
    for name in ("recent", "before"):
        for row in sales.filter(month__range=span[name]).values("province").annotate(value=Sum("revenue")):
            values = figures.setdefault(short_province(row["province"]), {})
            values[name] = values.get(name, Decimal(0)) + (row["value"] or Decimal(0))
    rows = []
    for province, values in figures.items():
        recent, before = values.get("recent", Decimal(0)), values.get("before", Decimal(0))
        rows.append([province or str(_("Not given")), recent, before, _growth(recent, before)])
    growing = sorted((row for row in rows if row[3] is not None), key=lambda row: -row[3])[:REGIONS_SHOWN]
    new = [row for row in rows if row[3] is None and row[1] > 0]
    notes = (
        [_("Provinces with sales only in the last three months: %(names)s.") % {"names": "、".join(r[0] for r in new)}]
        if new
        else []
    )
    return ChartData(
        columns=[
            Column("province", _("Province"), ColumnKind.TEXT),
            Column("recent", _("Revenue, last 3 months"), ColumnKind.MONEY),
            Column("before", _("Revenue, 3 months before"), ColumnKind.MONEY),
            Column("growth", _("Growth"), ColumnKind.PERCENT),
        ],
        rows=growing,
        spec={"type": "hbar", "x": "province", "y": ["growth"]},
        notes=notes,
    )
