"""A campaign's (or automation's) results page, and each of its tables as CSV.

The page and the downloads are built from the same tables, so every figure on the page can be downloaded:
a cell keeps its raw value and kind, shown formatted on the page and written plainly in the CSV.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm.db_router import replica_reads
from crm.lib import tabular
from crm.lib.money import format_money
from marketing.models import Campaign, SkipReason, WinnerMetric
from marketing.results import Figures, Results, results_for_page
from marketing.services.ab import AbVerdict, winner_due_at

# Managers and marketers read results (crm/roles.py); the front desk and sales do not.
READ_RESULTS = "marketing.view_campaign"
TABLES = ("counts", "groups", "lift", "srm", "variants")


@dataclass(frozen=True)
class Cell:
    value: object
    kind: str = "text"  # text, int, money, percent, relative, p

    def shown(self) -> str:
        v, kind = self.value, self.kind
        if v is None:
            return "—"
        if kind == "int":
            return number_format(v, force_grouping=True)
        if kind == "money":
            return format_money(f"{v:.2f}")
        if kind == "percent":
            return f"{v * 100:.1f}%"
        if kind == "relative":
            return f"{v * 100:+.1f}%"
        if kind == "p":
            return "< 0.001" if v < 0.001 else f"{v:.3f}"
        return str(v)

    def written(self) -> object:
        v, kind = self.value, self.kind
        if v is None:
            return ""
        if kind == "money":
            return f"{Decimal(str(v)):.2f}"
        if kind in ("percent", "relative"):
            return f"{v * 100:.2f}%"
        if kind == "p":
            return f"{v:.6g}"
        return v if kind == "int" else str(v)


@dataclass(frozen=True)
class Table:
    name: str  # its CSV's name
    title: str
    columns: list[str]
    rows: list[list[Cell]]


def _group_row(label: str, f: Figures) -> list[Cell]:
    return [
        Cell(label),
        Cell(f.members, "int"),
        Cell(f.converters, "int"),
        Cell(f.conversion, "percent"),
        Cell(f.purchases, "int"),
        Cell(f.revenue, "money"),
        Cell(f.revenue_per_member, "money"),
    ]


def results_tables(results: Results) -> dict[str, Table]:
    c, tables = results.counts, {}
    counts = [
        (_("Targeted"), c["targeted"]),
        (_("Held out (control group)"), c["held_out"]),
        (_("Held out, but would have been skipped (left out of the comparison)"), c["control_ineligible"]),
        (_("Skipped"), c["skipped"]),
        *((_("Skipped: %(reason)s") % {"reason": SkipReason(r).label}, n) for r, n in results.skipped.items()),
        (_("Queued"), c["queued"]),
        (_("Sending"), c["sending"]),
        (_("Sent"), c["sent"]),
        (_("Delivered"), c["delivered"]),
        (_("Failed"), c["failed"]),
        (_("Unknown (worker lost)"), c["unknown"]),
        (_("Opened"), c["opened"]),
        (_("Clicked"), c["clicked"]),
        (_("Unsubscribed"), c["unsubscribed"]),
        (_("Bounced"), c["bounced"]),
        (_("Marked as spam"), c["complained"]),
        (_("Coupons redeemed"), results.coupons_redeemed),
    ]
    tables["counts"] = Table(
        "counts", _("What was sent"), [_("Figure"), _("Members")], [[Cell(k), Cell(v, "int")] for k, v in counts]
    )
    group_columns = [
        _("Group"),
        _("Members"),
        _("Bought"),
        _("Conversion"),
        _("Purchases"),
        _("Revenue"),
        _("Revenue per member"),
    ]
    tables["groups"] = Table(
        "groups",
        _("Campaign against control group"),
        group_columns,
        [_group_row(_("Campaign"), results.treatment), _group_row(_("Control group"), results.control)],
    )
    lift_rows = []
    for label, lift, kind in (
        (_("Revenue per member"), results.revenue, "money"),
        (_("Conversion"), results.conversion, "percent"),
    ):
        if lift is not None:
            lift_rows.append(
                [
                    Cell(label),
                    Cell(lift.treatment, kind),
                    Cell(lift.control, kind),
                    Cell(lift.difference, kind),
                    Cell(lift.low, kind),
                    Cell(lift.high, kind),
                    Cell(lift.relative, "relative"),
                    Cell(lift.relative_low, "relative"),
                    Cell(lift.relative_high, "relative"),
                    Cell(lift.p_value, "p"),
                ]
            )
    tables["lift"] = Table(
        "lift",
        _("Lift with its 95% confidence interval"),
        [
            _("Figure"),
            _("Campaign"),
            _("Control group"),
            _("Difference"),
            _("95% CI from"),
            _("95% CI to"),
            _("Relative lift"),
            _("Relative, 95% CI from"),
            _("Relative, 95% CI to"),
            _("p-value"),
        ],
        lift_rows,
    )
    if results.srm is not None:
        t, k = results.treatment.members, results.control.members
        tables["srm"] = Table(
            "srm",
            _("Sample ratio check"),
            [_("Planned control share"), _("Observed control share"), _("p-value"), _("Result")],
            [
                [
                    Cell(results.campaign.control_percent / 100, "percent"),
                    Cell(k / (t + k), "percent"),
                    Cell(results.srm.p_value, "p"),
                    Cell(_("Mismatch: check the send") if results.srm.mismatch else _("As planned")),
                ]
            ],
        )
    if results.variants:
        tables["variants"] = _variants_table(results)
    return tables


def _variants_table(results: Results) -> Table:
    rows = []
    for i, v in enumerate(results.variants):
        f, comparison = v.figures, v.comparison
        if results.campaign.winner_id == v.variant.pk:
            verdict = _("Sent to the rest")
        elif results.ab is not None and results.ab.best == i:
            verdict = _("Best so far")
        else:
            verdict = ""
        rows.append(
            [
                Cell(v.variant.label),
                Cell(f.members, "int"),
                Cell(f.converters, "int"),
                Cell(f.conversion, "percent"),
                Cell(f.revenue, "money"),
                Cell(f.revenue_per_member, "money"),
                Cell(comparison.p_value if comparison else None, "p"),
                Cell(comparison.p_adjusted if comparison else None, "p"),
                Cell(verdict),
            ]
        )
    columns = [
        _("Variant"),
        _("Members"),
        _("Bought"),
        _("Conversion"),
        _("Revenue"),
        _("Revenue per member"),
        _("p against the best"),
        _("p, Holm-corrected"),
        _("Result"),
    ]
    return Table("variants", _("A/B test"), columns, rows)


def ab_summary(results: Results) -> str:
    """The A/B test's state in words."""
    campaign = results.campaign
    metric = _("revenue per member") if campaign.winner_metric == WinnerMetric.REVENUE else _("conversion")
    if campaign.winner_id and campaign.ab_verdict == AbVerdict.WINNER:
        return _("Variant %(label)s won on %(metric)s; the rest of the campaign was sent with it.") % {
            "label": campaign.winner.label,
            "metric": metric,
        }
    if campaign.winner_id and campaign.ab_verdict == AbVerdict.NO_DIFFERENCE:
        return _(
            "No difference between the variants on %(metric)s: the rest of the campaign was sent with variant "
            "%(label)s."
        ) % {"label": campaign.winner.label, "metric": metric}
    due = winner_due_at(campaign)
    if due is None:
        return _("The winner is chosen on %(metric)s, %(hours)s hours after sending starts.") % {
            "metric": metric,
            "hours": campaign.winner_after_hours,
        }
    return _("The winner is chosen on %(metric)s at %(when)s.") % {
        "metric": metric,
        "when": due.strftime("%Y-%m-%d %H:%M"),
    }


def group_cards(results: Results) -> list[dict]:
    """The two groups side by side: members, conversion, revenue per member and revenue."""
    cards = []
    for key, title, note, f in (
        ("treatment", _("Campaign"), _("(everyone it meant to reach)"), results.treatment),
        ("control", _("Control group"), _("(held out at random, not sent)"), results.control),
    ):
        figures = [
            (_("Members"), Cell(f.members, "int").shown(), "members"),
            (_("Conversion"), Cell(f.conversion, "percent").shown(), "conversion"),
            (_("Revenue per member"), Cell(f.revenue_per_member, "money").shown(), "rpm"),
            (_("Revenue"), Cell(f.revenue, "money").shown(), "revenue"),
        ]
        cards.append({"id": key, "title": title, "note": note, "figures": figures})
    return cards


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("winner", "segment"), pk=campaign_id)


@require_GET
@permission_required(READ_RESULTS, raise_exception=True)
@replica_reads
def campaign_results_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    results = results_for_page(campaign)
    context = {
        "campaign": campaign,
        "results": results,
        "tables": results_tables(results),
        "group_cards": group_cards(results),
        "ab_summary": ab_summary(results) if results.variants else "",
    }
    return render(request, "marketing/campaign_results.html", context)


@require_GET
@permission_required(READ_RESULTS, raise_exception=True)
@replica_reads
def campaign_results_csv_view(request: HttpRequest, campaign_id: int, table: str) -> FileResponse:
    if table not in TABLES:  # before any counting
        raise Http404
    campaign = _campaign(campaign_id)
    chosen = results_tables(results_for_page(campaign)).get(table)
    if chosen is None:
        raise Http404
    writer = tabular.CsvWriter()
    writer.write_row(chosen.columns)
    for row in chosen.rows:
        writer.write_row([cell.written() for cell in row])
    return FileResponse(writer.close(), as_attachment=True, filename=f"campaign-{campaign.pk}-{table}.csv")
