"""Segments most member businesses start from, as rules a marketer opens in the builder and adjusts."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Preset:
    key: str
    name: Promise
    description: Promise
    rules: dict


def _one(condition: dict) -> dict:
    return {"op": "and", "rules": [condition]}


PRESETS = [
    Preset(
        "new",
        _("New members"),
        _("First purchase in the last 30 days."),
        _one({"field": "first_purchase", "operator": "in_last_days", "value": 30}),
    ),
    Preset(
        "loyal",
        _("Loyal members"),
        _("Four or more orders in the last 12 months."),
        _one({"field": "orders_in_period", "operator": "gt", "value": 3, "days": 365}),
    ),
    Preset(
        "potential",
        _("Potential members"),
        _("Registered, never bought."),
        _one({"field": "last_purchase", "operator": "is_empty"}),
    ),
    Preset(
        "high_value",
        _("High value"),
        _("The top 20% by spend in the last 12 months."),
        _one({"field": "top_spenders", "operator": "eq", "value": True, "percent": 20, "days": 365}),
    ),
    Preset(
        "lapsing",
        _("About to lapse"),
        _("No purchase for more than twice their usual gap between purchases (90 days after a single purchase)."),
        _one({"field": "lapsing", "operator": "eq", "value": True, "days": 90}),
    ),
]
PRESETS_BY_KEY = {p.key: p for p in PRESETS}
