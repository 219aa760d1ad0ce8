"""The next three months of revenue and active members, with their 80% and 95% intervals and the backtest
against a seasonal-naive baseline, as analytics.forecast last made them (analytics.models.Forecast)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.models import Forecast
from crm.charts import ChartData, Column, ColumnKind


def _chart(metric: str, kind: str) -> ChartData:
    payload = Forecast.objects.filter(metric=metric).values_list("payload", flat=True).first() or {}
    history = payload.get("history") or []
    forecast = payload.get("forecast") or []
    rows = [[month[:7], value, None, None, None, None, None] for month, value in history]
    if rows and forecast:
        rows[-1][2] = rows[-1][1]  # the forecast line starts from the last actual month
    rows += [[month[:7], None, mean, lo80, hi80, lo95, hi95] for month, mean, lo80, hi80, lo95, hi95 in forecast]
    notes = []
    backtest = payload.get("backtest") or {}
    if payload.get("model"):
        notes.append(_("Model: %(model)s.") % {"model": payload["model"]})
    if backtest.get("mape") is not None and backtest.get("baseline_mape") is not None:
        notes.append(
            _(
                "Backtest over %(months)s months: mean absolute percentage error %(mape).1f%% against "
                "%(baseline).1f%% for the seasonal-naive baseline."
            )
            % {
                "months": backtest.get("months"),
                "mape": 100 * backtest["mape"],
                "baseline": 100 * backtest["baseline_mape"],
            }
        )
    if forecast and not payload.get("beats_baseline"):
        notes.append(
            _("Warning: this forecast does not beat the seasonal-naive baseline on the history; read it with care.")
        )
    if not forecast:
        # Stored as its English msgid (gettext_noop in analytics.forecast): shown in the reader's language.
        reason = payload.get("reason")
        notes.append(gettext(reason) if reason else _("No forecast yet: it is made when the figures are refreshed."))
    return ChartData(
        columns=[
            Column("month", _("Month"), ColumnKind.TEXT),
            Column("actual", _("Actual"), kind),
            Column("mean", _("Forecast"), kind),
            Column("lo80", _("80% interval, low"), kind),
            Column("hi80", _("80% interval, high"), kind),
            Column("lo95", _("95% interval, low"), kind),
            Column("hi95", _("95% interval, high"), kind),
        ],
        rows=rows,
        spec={"type": "forecast", "x": "month"},
        notes=notes,
        extra={"beats_baseline": bool(payload.get("beats_baseline")), "backtest": backtest},
    )


def revenue_chart(params: dict) -> ChartData:
    return _chart("revenue", ColumnKind.MONEY)


def active_chart(params: dict) -> ChartData:
    return _chart("active_members", ColumnKind.NUMBER)
