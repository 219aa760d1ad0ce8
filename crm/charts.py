"""Charts that apps contribute to dashboards and reports, each served as JSON and CSV from one place.

Why a registry: the manager's dashboard (analytics) shows the campaign leaderboard (marketing) and marketing's
segment report shows RFM mixes (analytics), yet neither app may import the other. An app registers its charts
from AppConfig.ready(); a page places a chart by its key (templates/includes/chart.html), and crm/views/charts.py
serves every chart's numbers behind the chart's own permission, the same numbers the chart, its table and its
CSV show.

A chart's data is a table (columns and rows) plus a spec that tells static/js/charts.js how to draw it:
  {"type": "line" | "bar" | "hbar" | "pie" | "heatmap" | "map" | "forecast", "x": column key,
   "y": [column keys], "y2": [column keys on a second axis], "stack": bool, "value": column key,
   "name": column key, "visual_max": number}
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.utils.functional import Promise


class ColumnKind:
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    PERCENT = "percent"  # a share, 0..1


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise | str
    kind: str = ColumnKind.NUMBER


@dataclass
class ChartData:
    columns: list[Column]
    rows: list[list]
    spec: dict
    notes: list[Promise | str] = field(default_factory=list)  # shown under the chart: flags, definitions
    extra: dict = field(default_factory=dict)  # figures a page shows beside the chart (e.g. a forecast's backtest)

    def as_json(self) -> dict:
        return {
            "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in self.columns],
            "rows": [[_plain(value) for value in row] for row in self.rows],
            "spec": self.spec,
            "notes": [str(note) for note in self.notes],
            "extra": {key: _plain(value) for key, value in self.extra.items()},
        }


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Chart:
    key: str
    title: Promise
    permission: str  # the same one as the page the chart sits on
    build: Callable[[dict], ChartData]  # the form's cleaned_data -> the data
    form: type[forms.Form] | None = None  # the query parameters it takes; invalid ones answer 400 with the reason
    description: Promise | str = ""


_charts: dict[str, Chart] = {}


def register(chart: Chart) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _charts[chart.key] = chart


def get(key: str) -> Chart | None:
    return _charts.get(key)


def charts() -> dict[str, Chart]:
    return dict(_charts)
