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
# (viewer, customer, limit) -> the newest `limit` items the viewer may see, newest first, in one query
TimelineSource = Callable[[AbstractBaseUser, Customer, int], list[TimelineItem]]


@dataclass(frozen=True)
class _TimelineSource:
    label: str
    source: TimelineSource


@dataclass(frozen=True)
class TimelinePage:
    """One page of the merged timeline, and the kinds it can be filtered by (key -> label)."""

    items: list[TimelineItem]
    number: int
    has_next: bool
    kind: str
    kinds: dict[str, str]

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


_providers: dict[str, SectionProvider] = {}
_timeline_sources: dict[str, _TimelineSource] = {}

TIMELINE_LENGTH = 20
# Page n merges the newest n × TIMELINE_LENGTH items of each source (one query each), so the
# query count stays fixed; the cap keeps the rows read bounded too. Older history has its own cards.
TIMELINE_MAX_PAGES = 25
PAGE_SIZE = 10


def register_sections(key: str, provider: SectionProvider) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _providers[key] = provider


def register_timeline(key: str, source: TimelineSource, *, label: str) -> None:
    """`key` is also what the timeline's kind filter names (?timeline=key); `label` is shown on the filter."""
    _timeline_sources[key] = _TimelineSource(label=label, source=source)


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
    items = [item for entry in _timeline_sources.values() for item in entry.source(user, customer, limit)]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def timeline_page(
    user: AbstractBaseUser, customer: Customer, *, kind: str = "", page: int | str | None = 1
) -> TimelinePage:
    """Page `page` of the events of one kind (a registered key) or of all, newest first: one query per source."""
    try:
        number = min(max(int(page or 1), 1), TIMELINE_MAX_PAGES)
    except (TypeError, ValueError):
        number = 1
    sources = _timeline_sources if kind not in _timeline_sources else {kind: _timeline_sources[kind]}
    wanted = number * TIMELINE_LENGTH
    items = [item for entry in sources.values() for item in entry.source(user, customer, wanted + 1)]
    items.sort(key=lambda item: item.at, reverse=True)
    return TimelinePage(
        items=items[wanted - TIMELINE_LENGTH : wanted],
        number=number,
        has_next=len(items) > wanted and number < TIMELINE_MAX_PAGES,
        kind=kind if kind in _timeline_sources else "",
        kinds={key: entry.label for key, entry in _timeline_sources.items()},
    )


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
register_timeline("points", _points_timeline, label=_("Points"))
