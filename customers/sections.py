"""The customer page's sections, contributed by the apps that own the data.

Why a registry: the customer's page shows purchases, interactions, messages and
scores, but customers may not import the apps that hold them (they depend on
customers, never the reverse). So each app registers its sections and timeline
entries here from its AppConfig.ready(), and the page renders what is
registered. The dependency stays one-way, and a later app adds a section
without touching the customers app. Each provider shows only what the viewer's
permissions allow, and must run a fixed number of queries whatever the
customer's history, so the page's budget holds.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, PointsKind
from customers.selectors import points_entries_for

Column = Literal["main", "side"]


@dataclass(frozen=True)
class Section:
    """One card on the page: an `includes/` template and what it needs; `key` is its anchor and htmx target."""

    key: str
    template: str
    column: Column
    order: int
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TimelineItem:
    at: datetime.datetime
    icon: str  # a Bootstrap icon name
    title: str
    detail: str = ""


SectionProvider = Callable[[HttpRequest, Customer], list[Section]]
# (viewer, customer, limit) -> the newest `limit` items the viewer may see, newest first
TimelineSource = Callable[[AbstractBaseUser, Customer, int], list[TimelineItem]]

_providers: dict[str, SectionProvider] = {}
_timeline_sources: dict[str, TimelineSource] = {}

TIMELINE_LENGTH = 20
PAGE_SIZE = 10


def register_sections(key: str, provider: SectionProvider) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _providers[key] = provider


def register_timeline(key: str, source: TimelineSource) -> None:
    _timeline_sources[key] = source


def sections_for(request: HttpRequest, customer: Customer) -> dict[Column, list[Section]]:
    columns: dict[Column, list[Section]] = {"main": [], "side": []}
    for provider in _providers.values():
        for section in provider(request, customer):
            columns[section.column].append(section)
    for sections in columns.values():
        sections.sort(key=lambda s: s.order)
    return columns


def timeline_for(user: AbstractBaseUser, customer: Customer, limit: int = TIMELINE_LENGTH) -> list[TimelineItem]:
    """The newest `limit` events from every source, newest first (one query per source)."""
    items = [item for source in _timeline_sources.values() for item in source(user, customer, limit)]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def _points_sections(request: HttpRequest, customer: Customer) -> list[Section]:
    if not request.user.has_perm("customers.view_pointsentry"):
        return []
    page = Paginator(points_entries_for(customer=customer), PAGE_SIZE).get_page(request.GET.get("points_page"))
    return [
        Section(
            key="points-ledger",
            template="customers/includes/points_section.html",
            column="main",
            order=20,
            data={
                "page": page,
                "can_adjust": request.user.has_perm("customers.adjust_points"),
                "can_redeem": request.user.has_perm("customers.change_customer"),
            },
        )
    ]


POINTS_ICONS = {
    PointsKind.EARNED: "plus-circle",
    PointsKind.REDEEMED: "gift",
    PointsKind.EXPIRED: "hourglass-bottom",
    PointsKind.ADJUSTED: "sliders",
    PointsKind.REVERSED: "arrow-counterclockwise",
}


def _points_timeline(user: AbstractBaseUser, customer: Customer, limit: int) -> list[TimelineItem]:
    if not user.has_perm("customers.view_pointsentry"):
        return []
    return [
        TimelineItem(
            at=entry.at,
            icon=POINTS_ICONS[entry.kind],
            title=_("%(kind)s %(points)+d points") % {"kind": entry.get_kind_display(), "points": entry.points},
            detail=entry.reason,
        )
        for entry in points_entries_for(customer=customer)[:limit]
    ]


register_sections("points", _points_sections)
register_timeline("points", _points_timeline)
