"""Ways to count a group of members that apps contribute, e.g. analytics' RFM segments for a segment's report.

Why a registry: marketing's segment report shows each segment's RFM mix, but marketing may not import analytics.
An app registers a breakdown from AppConfig.ready(); a report asks for it by key and passes the members as a
Customer queryset (it is used as a subquery: one query, whatever the group's size).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.functional import Promise


@dataclass(frozen=True)
class Breakdown:
    key: str
    label: Promise
    # members -> [(value, label, count)], in the order to show them
    count: Callable[[QuerySet], list[tuple[str, str, int]]]


_breakdowns: dict[str, Breakdown] = {}


def register(breakdown: Breakdown) -> None:
    _breakdowns[breakdown.key] = breakdown


def get(key: str) -> Breakdown | None:
    return _breakdowns.get(key)
