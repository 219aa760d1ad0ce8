"""Per product category over the last 365 days: buyers, repeat buyers, and what else its buyers buy, from
analytics.models.CategoryStats and CategoryAffinity."""

from django.utils.translation import gettext_lazy as _

from analytics.models import CategoryAffinity, CategoryStats
from crm.charts import ChartData, Column, ColumnKind


def buyers_chart(params: dict) -> ChartData:
    stats = CategoryStats.objects.select_related("category").order_by("-buyers")
    rows = [
        [
            row.category.display_name,
            row.buyers,
            row.repeat_buyers,
            row.repeat_buyers / row.buyers if row.buyers else None,
            row.orders,
            row.revenue,
        ]
        for row in stats
    ]
    return ChartData(
        columns=[
            Column("category", _("Category"), ColumnKind.TEXT),
            Column("buyers", _("Buyers")),
            Column("repeat_buyers", _("Repeat buyers")),
            Column("repeat_rate", _("Share who bought again"), ColumnKind.PERCENT),
            Column("orders", _("Orders")),
            Column("revenue", _("Revenue"), ColumnKind.MONEY),
        ],
        rows=rows,
        spec={"type": "bar", "x": "category", "y": ["buyers", "repeat_buyers"]},
        notes=[_("Last 365 days. A repeat buyer bought the category in two or more orders.")],
    )


def affinity_chart(params: dict) -> ChartData:
    """Of a category's buyers, the share who also bought each other category."""
    buyers = dict(CategoryStats.objects.values_list("category_id", "buyers"))
    pairs = CategoryAffinity.objects.select_related("category", "other").order_by("category__name", "-buyers")
    if params.get("category"):
        pairs = pairs.filter(category=params["category"])
    rows = [
        [
            pair.category.display_name,
            pair.other.display_name,
            pair.buyers,
            pair.buyers / buyers[pair.category_id] if buyers.get(pair.category_id) else None,
        ]
        for pair in pairs
    ]
    return ChartData(
        columns=[
            Column("category", _("Buyers of"), ColumnKind.TEXT),
            Column("other", _("Also bought"), ColumnKind.TEXT),
            Column("buyers", _("Buyers of both")),
            Column("share", _("Share of the category's buyers"), ColumnKind.PERCENT),
        ],
        rows=rows,
        spec={"type": "heatmap", "x": "other", "y": "category", "value": "share"},
    )
