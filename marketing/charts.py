"""Marketing's charts (crm/charts.py): a segment's size, revenue share and RFM mix over its snapshots, and the
campaign and automation leaderboard. Registered from MarketingConfig.ready(); the JSON and CSV endpoints and
the drawing are crm's. All behind the marketing reports permission, the same as the pages they sit on.
"""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import charts
from crm.charts import Chart, ChartData, Column, ColumnKind
from marketing.access import REPORTS
from marketing.leaderboard import leaderboard
from marketing.models import CampaignKind, Segment
from marketing.selectors import segment_latest_snapshot, segment_snapshots

HISTORY_DAYS = 365  # a report's time axis: a year of nightly snapshots
LEADERBOARD_LIMIT = 30


class SegmentChartForm(forms.Form):
    # An unknown or malformed id is a form error, so the chart endpoint answers 400 with the reason.
    segment = forms.ModelChoiceField(queryset=Segment.objects.all(), label=gettext_lazy("Segment"))


class LeaderboardForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=[("", gettext_lazy("Campaigns and automations")), *CampaignKind.choices],
        required=False,
    )
    limit = forms.IntegerField(label=gettext_lazy("Show at most"), min_value=1, max_value=500, required=False)


def _since() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=HISTORY_DAYS)


def segment_size(params: dict) -> ChartData:
    rows = [[s.day.isoformat(), s.members] for s in segment_snapshots(params["segment"], since=_since())]
    return ChartData(
        columns=[Column("day", _("Day"), ColumnKind.TEXT), Column("members", _("Members"))],
        rows=rows,
        spec={"type": "line", "x": "day", "y": ["members"]},
        notes=[] if rows else [_("No snapshot yet: take one on this page, or wait for tonight's.")],
    )


def segment_value(params: dict) -> ChartData:
    rows = [
        [s.day.isoformat(), s.revenue_share, s.average_value, s.revenue_365d, s.total_revenue_365d]
        for s in segment_snapshots(params["segment"], since=_since())
    ]
    return ChartData(
        columns=[
            Column("day", _("Day"), ColumnKind.TEXT),
            Column("revenue_share", _("Share of everyone's revenue"), ColumnKind.PERCENT),
            Column("average_value", _("Average value per member"), ColumnKind.MONEY),
            Column("revenue_365d", _("Revenue, last 365 days"), ColumnKind.MONEY),
            Column("total_revenue_365d", _("Everyone's revenue, last 365 days"), ColumnKind.MONEY),
        ],
        rows=rows,
        spec={"type": "line", "x": "day", "y": ["revenue_share"], "y2": ["average_value"]},
        notes=[_("Revenue is what members paid less refunds over the 365 days before each snapshot.")],
    )


def segment_rfm(params: dict) -> ChartData:
    snapshot = segment_latest_snapshot(params["segment"])
    mix = snapshot.rfm_mix if snapshot else []
    total = sum(part["count"] for part in mix)
    # The labels were kept as analytics' English msgids; its catalogue translates them for the reader.
    rows = [[part["value"], _(part["label"]), part["count"], part["count"] / total if total else None] for part in mix]
    if snapshot is None:
        notes = [_("No snapshot yet: take one on this page, or wait for tonight's.")]
    elif not mix:
        notes = [_("No RFM mix: there were no RFM scores when this snapshot was taken.")]
    else:
        notes = [_("As of %(day)s.") % {"day": snapshot.day.isoformat()}]
    return ChartData(
        columns=[
            Column("value", _("Key"), ColumnKind.TEXT),
            Column("label", _("RFM segment"), ColumnKind.TEXT),
            Column("members", _("Members")),
            Column("share", _("Share"), ColumnKind.PERCENT),
        ],
        rows=rows,
        spec={"type": "pie", "name": "label", "value": "members"},
        notes=notes,
    )


def campaign_leaderboard(params: dict) -> ChartData:
    entries = leaderboard(kind=params.get("kind") or "")
    limit = params.get("limit") or LEADERBOARD_LIMIT
    rows = []
    for entry in entries[:limit]:
        lift, treatment, control = entry.lift, entry.treatment, entry.control
        with_control = control is not None and entry.has_control
        rows.append(
            [
                entry.campaign.name,
                entry.campaign.get_kind_display(),
                lift.relative if lift else None,
                lift.relative_low if lift else None,
                lift.relative_high if lift else None,
                lift.difference if lift else None,
                treatment.members if treatment else None,
                control.members if with_control else None,
                treatment.revenue_per_member if treatment else None,
                control.revenue_per_member if with_control else None,
                entry.counted_at.isoformat(timespec="minutes") if entry.counted_at else None,
                entry.note(),
            ]
        )
    notes = [_("Lift: revenue per recipient against the control group, with its 95% confidence interval.")]
    if len(entries) > limit:
        notes.append(_("The first %(shown)s of %(total)s are shown.") % {"shown": limit, "total": len(entries)})
    return ChartData(
        columns=[
            Column("name", _("Campaign"), ColumnKind.TEXT),
            Column("kind", _("Kind"), ColumnKind.TEXT),
            Column("lift", _("Revenue lift"), ColumnKind.PERCENT),
            Column("lift_low", _("95% CI from"), ColumnKind.PERCENT),
            Column("lift_high", _("95% CI to"), ColumnKind.PERCENT),
            Column("difference", _("Difference per recipient"), ColumnKind.MONEY),
            Column("recipients", _("Recipients")),
            Column("control", _("Control group")),
            Column("revenue_per_recipient", _("Revenue per recipient"), ColumnKind.MONEY),
            Column("revenue_per_control", _("Revenue per control member"), ColumnKind.MONEY),
            Column("counted_at", _("Counted at"), ColumnKind.TEXT),
            Column("note", _("Note"), ColumnKind.TEXT),
        ],
        rows=rows,
        spec={"type": "hbar", "x": "name", "y": ["lift"]},
        notes=notes,
    )


def register() -> None:
    segment_charts = [
        ("segment_size", gettext_lazy("Members over time"), segment_size),
        ("segment_value", gettext_lazy("Revenue share and average value"), segment_value),
        ("segment_rfm", gettext_lazy("RFM mix"), segment_rfm),
    ]
    for key, title, build in segment_charts:
        charts.register(Chart(key=key, title=title, permission=REPORTS, build=build, form=SegmentChartForm))
    charts.register(
        Chart(
            key="campaign_leaderboard",
            title=gettext_lazy("Campaign and automation leaderboard"),
            permission=REPORTS,
            build=campaign_leaderboard,
            form=LeaderboardForm,
            description=gettext_lazy("Ranked by revenue lift against the control group; the table has the interval."),
        )
    )
