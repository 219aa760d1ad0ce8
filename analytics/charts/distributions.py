"""Who the members are now, from the distribution snapshot (analytics.models.Distribution) the refresh writes."""

from django.utils.translation import gettext_lazy as _

from analytics.models import AgeBand, ChurnBand, Dimension, Distribution, RfmSegment
from crm.charts import ChartData, Column, ColumnKind
from customers.models import Gender, Source, Tier


def _counts(dimension: str) -> list[Distribution]:
    return list(Distribution.objects.filter(dimension=dimension).order_by("key"))


def _share_rows(rows: list[tuple[str, int, object]]) -> list[list]:
    total = sum(members for _label, members, _spend in rows) or 1
    return [[label, members, members / total, spend] for label, members, spend in rows]


def _columns(first: str) -> list[Column]:
    return [
        Column("value", first, ColumnKind.TEXT),
        Column("members", _("Members")),
        Column("share", _("Share"), ColumnKind.PERCENT),
        Column("spend_365d", _("Spend in the last 365 days"), ColumnKind.MONEY),
    ]


def _ordered(dimension: str, labels: dict[str, str]) -> list[tuple[str, int, object]]:
    """In the order of `labels` (the choice's own order), unknown keys last under their raw value."""
    found = {row.key: row for row in _counts(dimension)}
    rows = [(label, found[key].members, found[key].spend_365d) for key, label in labels.items() if key in found]
    rows += [(key, row.members, row.spend_365d) for key, row in found.items() if key not in labels]
    return rows


def _pie(dimension: str, labels: dict[str, str], title: str) -> ChartData:
    return ChartData(
        columns=_columns(title),
        rows=_share_rows(_ordered(dimension, labels)),
        spec={"type": "pie", "name": "value", "value": "members"},
    )


def tier_chart(params: dict) -> ChartData:
    labels = {str(tier.pk): tier.display_name for tier in Tier.objects.order_by("-rank")}
    labels["none"] = str(_("No tier"))
    return _pie(Dimension.TIER, labels, str(_("Tier")))


def churn_chart(params: dict) -> ChartData:
    return _pie(Dimension.CHURN, {key: str(label) for key, label in ChurnBand.choices}, str(_("Churn risk")))


def source_chart(params: dict) -> ChartData:
    return _pie(Dimension.SOURCE, {key: str(label) for key, label in Source.choices}, str(_("Source channel")))


def age_gender_chart(params: dict) -> ChartData:
    """Age bands across, one stacked bar per gender."""
    counts = {row.key: row.members for row in _counts(Dimension.AGE_GENDER)}
    genders = [(key, label) for key, label in Gender.choices]
    rows = []
    for band, band_label in AgeBand.choices:
        rows.append([str(band_label)] + [counts.get(f"{band}|{gender}", 0) for gender, _label in genders])
    return ChartData(
        columns=[Column("age_band", _("Age band"), ColumnKind.TEXT)]
        + [Column(f"gender_{key}", label) for key, label in genders],
        rows=rows if any(any(row[1:]) for row in rows) else [],
        spec={"type": "bar", "x": "age_band", "y": [f"gender_{key}" for key, _label in genders], "stack": True},
    )


def rfm_chart(params: dict) -> ChartData:
    """Each RFM segment now and at the previous scoring run, from the movement between the two runs."""
    now = {row.key: row for row in _counts(Dimension.RFM)}
    before: dict[str, int] = {}
    came: dict[str, int] = {}
    left: dict[str, int] = {}
    for row in _counts(Dimension.RFM_MOVE):
        source, _sep, target = row.key.partition(">")
        before[source] = before.get(source, 0) + row.members
        if source != target:
            came[target] = came.get(target, 0) + row.members
            left[source] = left.get(source, 0) + row.members
    rows = []
    for key, label in [*RfmSegment.choices, ("unscored", _("Not scored"))]:
        if key in now or key in before:
            members = now[key].members if key in now else 0
            rows.append([str(label), members, before.get(key), came.get(key, 0), left.get(key, 0)])
    notes = [] if before else [_("Movement shows after the second scoring run.")]
    return ChartData(
        columns=[
            Column("segment", _("RFM segment"), ColumnKind.TEXT),
            Column("members", _("Members")),
            Column("previous", _("At the previous run")),
            Column("moved_in", _("Moved in")),
            Column("moved_out", _("Moved out")),
        ],
        rows=rows,
        spec={"type": "hbar", "x": "segment", "y": ["members", "previous"]},
        notes=notes,
    )


def rfm_movement_chart(params: dict) -> ChartData:
    """From which segment to which, between the previous scoring run and the latest."""
    labels = {key: str(label) for key, label in RfmSegment.choices}
    rows = []
    for row in _counts(Dimension.RFM_MOVE):
        source, _sep, target = row.key.partition(">")
        rows.append([labels.get(source, source), labels.get(target, target), row.members])
    order = list(labels.values())
    rows.sort(
        key=lambda row: (order.index(row[0]) if row[0] in order else 99, order.index(row[1]) if row[1] in order else 99)
    )
    return ChartData(
        columns=[
            Column("from", _("At the previous run"), ColumnKind.TEXT),
            Column("to", _("Now"), ColumnKind.TEXT),
            Column("members", _("Members")),
        ],
        rows=rows,
        spec={"type": "heatmap", "x": "to", "y": "from", "value": "members"},
    )
