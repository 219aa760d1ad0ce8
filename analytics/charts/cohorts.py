"""Cohort retention: of the members whose first purchase fell in a month, the share who bought again in each
month after, from analytics.models.CohortCell (offset 0 is the cohort itself)."""

from django.utils.translation import gettext_lazy as _

from analytics.models import CohortCell
from crm.charts import ChartData, Column, ColumnKind

COHORTS_SHOWN = 18


def _cells() -> tuple[list, dict]:
    cohorts = list(
        CohortCell.objects.filter(offset=0)
        .order_by("-cohort")
        .values_list("cohort", "buyers", "revenue")[:COHORTS_SHOWN]
    )
    cohorts.reverse()
    cells: dict = {}
    if cohorts:
        rows = CohortCell.objects.filter(cohort__gte=cohorts[0][0]).values_list("cohort", "offset", "buyers", "revenue")
        cells = {(cohort, offset): (buyers, revenue) for cohort, offset, buyers, revenue in rows}
    return cohorts, cells


def retention_chart(params: dict) -> ChartData:
    """The triangle: one row per cohort, one column per month after its first (month 1, 2, ...)."""
    cohorts, cells = _cells()
    rows = []
    for cohort, size, _revenue in cohorts:
        for (cell_cohort, offset), (buyers, revenue) in sorted(cells.items()):
            if cell_cohort == cohort and offset > 0:
                rows.append([f"{cohort:%Y-%m}", f"M{offset}", size, buyers, buyers / size if size else None, revenue])
    return ChartData(
        columns=[
            Column("cohort", _("First purchase in"), ColumnKind.TEXT),
            Column("month", _("Months after"), ColumnKind.TEXT),
            Column("size", _("Cohort size")),
            Column("buyers", _("Bought again")),
            Column("retention", _("Share who bought again"), ColumnKind.PERCENT),
            Column("revenue", _("Revenue"), ColumnKind.MONEY),
        ],
        rows=rows,
        spec={"type": "heatmap", "x": "month", "y": "cohort", "value": "retention"},
        notes=[
            _(
                "Each row is the members whose first purchase fell in that month; each cell, the share of them who "
                "bought in the month so many months later."
            )
        ],
    )


def revenue_chart(params: dict) -> ChartData:
    """Each cohort's size and what it has spent so far, in all."""
    cohorts, cells = _cells()
    rows = []
    for cohort, size, _revenue in cohorts:
        total = sum(revenue for (cell_cohort, _offset), (_buyers, revenue) in cells.items() if cell_cohort == cohort)
        rows.append([f"{cohort:%Y-%m}", size, total, total / size if size else None])
    return ChartData(
        columns=[
            Column("cohort", _("First purchase in"), ColumnKind.TEXT),
            Column("size", _("Cohort size")),
            Column("revenue", _("Revenue to date"), ColumnKind.MONEY),
            Column("per_member", _("Revenue per member"), ColumnKind.MONEY),
        ],
        rows=rows,
        spec={"type": "bar", "x": "cohort", "y": ["revenue"], "y2": ["per_member"]},
    )
