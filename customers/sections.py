"""The customer page's sections, contributed by the apps that own the data.

Why a registry: the customer's page shows purchases, interactions, messages and
scores, but customers may not import the apps that hold them (they depend on
customers, never the reverse). So each app registers its sections and timeline
entries here from its AppConfig.ready(), and the page renders what is
registered. The dependency stays one-way, and a later app adds a section
without touching the customers app. Each provider shows only what the viewer's
permissions allow, and each section's `load` must run a fixed number of queries
whatever the customer's history, so the page's budget holds.

Where a section goes (its column): "summary" adds facts to the header every
width shows first, "actions" adds a quick-action button that loads its form on
demand, "side" a card beside the history, and "main" a tab of history. A
provider only describes its sections; what they show comes from each one's
`load`, called only for the sections rendered: of the tabs, the one shown, and
for a tab fetched alone (htmx), nothing else. So what is not shown costs no
query and no rendering.
"""

import dataclasses
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, PointsKind
from customers.selectors import points_entries_for

Column = Literal["summary", "actions", "main", "side"]
COLUMNS: tuple[Column, ...] = ("summary", "actions", "main", "side")


@dataclass(frozen=True)
class Section:
    """One part of the page: an `includes/` template and what it needs; `key` is its anchor and htmx target.

    A tab ("main") also has a `label`, a `load` giving its data when the tab is shown (merged over `data`),
    and the `query` parameters of its own (a pager's, a filter's) that open it from a link."""

    key: str
    template: str
    column: Column
    order: int
    data: dict = field(default_factory=dict)
    label: str = ""
    load: Callable[[], dict] | None = None
    query: tuple[str, ...] = ()

    def loaded(self) -> "Section":
        if self.load is None:
            return self
        return dataclasses.replace(self, data=self.data | self.load(), load=None)


def quick_action(*, key: str, label: str, url: str, icon: str, order: int) -> Section:
    """A button in the header that opens a form (`url`, a page of its own that also answers htmx with
    its form alone) in the header's form area; without JavaScript it is a link to the page."""
    return Section(
        key=key,
        template="customers/includes/quick_action.html",
        column="actions",
        order=order,
        label=label,
        data={"url": url, "icon": icon},
    )


@dataclass(frozen=True)
class TimelineItem:
    at: datetime.datetime
    icon: str  # a Bootstrap icon name
    title: str
    detail: str = ""
    kind: str = ""  # the source's key, set by the source from its window
    pk: int = 0  # the row's id: with `at` and `kind`, the item's place in the timeline's order


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class TimelineCursor:
    """A place in the timeline, (time, kind, id), and which way to read from it. The timeline runs
    newest first; at the same moment, kinds in alphabetical order, then the higher id first. The page links carry
    it as `o.<microseconds>.<kind>.<id>` (older than it) or `n....` (newer), so no page reads an OFFSET."""

    at: datetime.datetime
    kind: str
    pk: int
    newer: bool = False

    @classmethod
    def after(cls, item: TimelineItem, *, newer: bool) -> "TimelineCursor":
        return cls(at=item.at, kind=item.kind, pk=item.pk, newer=newer)

    @classmethod
    def parse(cls, token: object) -> "TimelineCursor | None":
        """None for anything that is not a cursor (an old page number, a hand-edited link)."""
        try:
            way, micros, rest = str(token).split(".", 2)
            kind, pk = rest.rsplit(".", 1)
            if way not in ("o", "n") or kind not in _timeline_sources or not 0 < int(pk) < 2**63:
                return None
            at = EPOCH + datetime.timedelta(microseconds=int(micros))
            return cls(at=at, kind=kind, pk=int(pk), newer=way == "n")
        except (ValueError, OverflowError):
            return None

    def __str__(self) -> str:
        micros = (self.at - EPOCH) // datetime.timedelta(microseconds=1)
        return f"{'n' if self.newer else 'o'}.{micros}.{self.kind}.{self.pk}"


@dataclass(frozen=True)
class TimelineWindow:
    """What a source is asked for: up to `limit` of its items past `cursor` (newest first, or oldest
    first when reading newer), as one query however deep the page."""

    kind: str
    limit: int
    cursor: TimelineCursor | None = None

    def apply(self, queryset: QuerySet, *, at: str) -> QuerySet:
        """Order `queryset` by (`at`, id) the window's way, keep the rows past the cursor, take `limit`.
        Within one source the kind is fixed, so (time, kind, id) past the cursor comes down to the time
        alone when the kinds differ, and to (time, id) when the cursor is one of this source's rows."""
        cursor = self.cursor
        newer = cursor is not None and cursor.newer
        order = [at, "pk"] if newer else [f"-{at}", "-pk"]
        queryset = queryset.order_by(*order)
        if cursor is not None:
            beyond, upto = ("gt", "gte") if newer else ("lt", "lte")
            if cursor.kind == self.kind:
                queryset = queryset.filter(**{f"{at}__{upto}": cursor.at}).filter(
                    Q(**{f"{at}__{beyond}": cursor.at}) | Q(**{f"pk__{beyond}": cursor.pk})
                )
            elif (self.kind > cursor.kind) != newer:  # this source's rows at the cursor's time come past it
                queryset = queryset.filter(**{f"{at}__{upto}": cursor.at})
            else:
                queryset = queryset.filter(**{f"{at}__{beyond}": cursor.at})
        return queryset[: self.limit]


SectionProvider = Callable[[HttpRequest, Customer], list[Section]]
# (viewer, customer, window) -> the window's items the viewer may see, in the window's order, in one query
TimelineSource = Callable[[AbstractBaseUser, Customer, TimelineWindow], list[TimelineItem]]


@dataclass(frozen=True)
class _TimelineSource:
    label: str
    source: TimelineSource


@dataclass(frozen=True)
class TimelinePage:
    """One page of the merged timeline, the cursors (as link tokens) of the pages either side of it
    ("" at either end), and the kinds it can be filtered by (key -> label)."""

    items: list[TimelineItem]
    newer: str
    older: str
    kind: str
    kinds: dict[str, str]

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_previous(self) -> bool:
        return bool(self.newer)

    @property
    def has_next(self) -> bool:
        return bool(self.older)


_providers: dict[str, SectionProvider] = {}
_timeline_sources: dict[str, _TimelineSource] = {}

TIMELINE_LENGTH = 20
PAGE_SIZE = 10


def register_sections(key: str, provider: SectionProvider) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _providers[key] = provider


def register_timeline(key: str, source: TimelineSource, *, label: str) -> None:
    """`key` is also what the timeline's kind filter names (?timeline=key); `label` is shown on the filter."""
    _timeline_sources[key] = _TimelineSource(label=label, source=source)


def sections_for(
    request: HttpRequest, customer: Customer, *, load: tuple[Column, ...] = ("summary", "actions", "side")
) -> dict[Column, list[Section]]:
    """What the viewer may see, by column, in order; the sections of the columns in `load` come loaded,
    the others (the tabs: see `open_tab`) do not."""
    columns: dict[Column, list[Section]] = {column: [] for column in COLUMNS}
    for provider in _providers.values():
        for section in provider(request, customer):
            columns[section.column].append(section.loaded() if section.column in load else section)
    for sections in columns.values():
        sections.sort(key=lambda s: s.order)
    return columns


def open_tab(request: HttpRequest, tabs: list[Section]) -> Section | None:
    """The tab to show, its data loaded: the one named by ?tab=, else the one whose own query parameter
    the request carries (a pager link), else the first."""
    wanted = request.GET.get("tab")
    chosen = next((tab for tab in tabs if tab.key == wanted), None)
    if chosen is None:
        chosen = next((tab for tab in tabs if any(param in request.GET for param in tab.query)), None)
    if chosen is None and tabs:
        chosen = tabs[0]
    return chosen.loaded() if chosen is not None else None


def timeline_page(
    user: AbstractBaseUser, customer: Customer, *, kind: str = "", page: str | None = None
) -> TimelinePage:
    """The page of events of one kind (a registered key) or of all past the cursor `page` (the newest
    page without one), newest first: one query per source, whatever the depth."""
    cursor = TimelineCursor.parse(page) if page else None
    if cursor is not None and kind in _timeline_sources and cursor.kind != kind:
        cursor = None  # a link from another filter: start at the top
    sources = _timeline_sources if kind not in _timeline_sources else {kind: _timeline_sources[kind]}
    items = _merged(user, customer, sources, limit=TIMELINE_LENGTH + 1, cursor=cursor)
    more = len(items) > TIMELINE_LENGTH
    items = items[:TIMELINE_LENGTH]
    if cursor is not None and cursor.newer:
        items.reverse()
        has_newer, has_older = more, True
    else:
        has_newer, has_older = cursor is not None, more
    return TimelinePage(
        items=items,
        newer=str(TimelineCursor.after(items[0], newer=True)) if items and has_newer else "",
        older=str(TimelineCursor.after(items[-1], newer=False)) if items and has_older else "",
        kind=kind if kind in _timeline_sources else "",
        kinds={key: entry.label for key, entry in _timeline_sources.items()},
    )


def _merged(
    user: AbstractBaseUser,
    customer: Customer,
    sources: dict[str, _TimelineSource],
    *,
    limit: int,
    cursor: TimelineCursor | None,
) -> list[TimelineItem]:
    """Up to `limit` items of `sources` past `cursor`, in the order read (newest first, or oldest first
    when reading newer): each source gives its own first `limit`, so the merge's first `limit` are right."""
    items = [
        item
        for key, entry in sources.items()
        for item in entry.source(user, customer, TimelineWindow(kind=key, limit=limit, cursor=cursor))
    ]
    newest_first = cursor is None or not cursor.newer
    items.sort(key=lambda item: item.pk, reverse=newest_first)
    items.sort(key=lambda item: item.kind, reverse=not newest_first)
    items.sort(key=lambda item: item.at, reverse=newest_first)
    return items[:limit]


def _profile_sections(request: HttpRequest, customer: Customer) -> list[Section]:
    """The profile is the first tab: the header already holds what is needed at a glance."""

    def load() -> dict:
        return {
            "categories": list(customer.preferred_categories.all()),
            "consent_events": list(customer.consent_events.select_related("recorded_by")[:10]),
        }

    return [
        Section(
            key="profile",
            template="customers/includes/profile_section.html",
            column="main",
            order=0,
            label=_("Profile"),
            load=load,
        ),
        Section(
            key="timeline",
            template="customers/includes/timeline.html",
            column="main",
            order=5,
            label=_("Timeline"),
            load=lambda: {
                "timeline": timeline_page(
                    request.user,
                    customer,
                    kind=request.GET.get("timeline", ""),
                    page=request.GET.get("timeline_page"),
                )
            },
            query=("timeline", "timeline_page"),
        ),
    ]


def _points_sections(request: HttpRequest, customer: Customer) -> list[Section]:
    user = request.user
    sections = []
    # Redeeming is a front-desk write on the member (what the redeem view asks), not a ledger permission.
    if user.has_perm("customers.change_customer"):
        sections.append(
            quick_action(
                key="redeem-points",
                label=_("Redeem points"),
                url=reverse("customers:points_redeem", args=[customer.crm_number]),
                icon="gift",
                order=30,
            )
        )
    if not user.has_perm("customers.view_pointsentry"):
        return sections
    sections.append(
        Section(
            key="points-ledger",
            template="customers/includes/points_section.html",
            column="main",
            order=30,
            label=_("Points"),
            data={
                "can_adjust": user.has_perm("customers.adjust_points"),
                "can_redeem": user.has_perm("customers.change_customer"),
            },
            load=lambda: {
                "page": Paginator(points_entries_for(customer=customer), PAGE_SIZE).get_page(
                    request.GET.get("points_page")
                )
            },
            query=("points_page",),
        )
    )
    return sections


POINTS_ICONS = {
    PointsKind.EARNED: "plus-circle",
    PointsKind.REDEEMED: "gift",
    PointsKind.EXPIRED: "hourglass-bottom",
    PointsKind.ADJUSTED: "sliders",
    PointsKind.REVERSED: "arrow-counterclockwise",
}


def _points_timeline(user: AbstractBaseUser, customer: Customer, window: TimelineWindow) -> list[TimelineItem]:
    if not user.has_perm("customers.view_pointsentry"):
        return []
    return [
        TimelineItem(
            at=entry.at,
            icon=POINTS_ICONS[entry.kind],
            title=_("%(kind)s %(points)+d points") % {"kind": entry.get_kind_display(), "points": entry.points},
            detail=entry.reason_text,
            kind=window.kind,
            pk=entry.pk,
        )
        for entry in window.apply(points_entries_for(customer=customer), at="at")
    ]


register_sections("profile", _profile_sections)
register_sections("points", _points_sections)
register_timeline("points", _points_timeline, label=_("Points"))
