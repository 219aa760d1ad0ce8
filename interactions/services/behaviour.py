"""Recording shop behaviour (views, favourites, cart additions) that arrives in batches from a shop.

A batch costs a fixed number of queries whatever its size: members, products and categories are each
found in one query, and the events go in with one INSERT … ON CONFLICT DO NOTHING on the key (client,
event id, time), which makes a resent batch harmless. Each event gets its own answer: accepted, duplicate
(sent before, or twice in this batch), or refused with the reason.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib import crm_number
from customers.models import Category, MergeRecord
from customers.selectors import members_by_keys
from interactions.models import BehaviourKind, Product
from interactions.services.partitions import behaviour_partitions_ensure, month_of, retention_start

MAX_BATCH = 1000
FUTURE_SLACK = datetime.timedelta(days=1)  # a shop's clock may run ahead; further is a mistake
PRODUCT_KINDS = (BehaviourKind.PRODUCT_VIEW, BehaviourKind.FAVOURITE, BehaviourKind.CART_ADD)

INSERT = """
INSERT INTO interactions_behaviourevent
    (occurred_at, received_at, member_id, product_id, category_id, client_id, kind, event_id)
SELECT t.occurred_at, %s, t.member_id, t.product_id, t.category_id, %s, t.kind, t.event_id
FROM unnest(%s::timestamptz[], %s::bigint[], %s::bigint[], %s::bigint[], %s::smallint[], %s::text[])
    AS t(occurred_at, member_id, product_id, category_id, kind, event_id)
ON CONFLICT DO NOTHING
RETURNING event_id, occurred_at
"""


class Status(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


@dataclass(frozen=True)
class EventInput:
    """One event as the transport parsed it: the member by CRM number (digits, as typed) or by phone
    (normalised), the product by SKU, the category by id or name."""

    event_id: str
    kind: BehaviourKind
    occurred_at: datetime.datetime
    number: str = ""
    phone: str = ""
    sku: str = ""
    category: int | str | None = None


@dataclass(frozen=True)
class Outcome:
    status: Status
    reason: str = ""


@dataclass
class _Row:
    index: int
    event: EventInput
    member_id: int
    product_id: int | None
    category_id: int | None


def _members(events: Sequence[EventInput]) -> tuple[dict[str, int], dict[str, int], set[str]]:
    """(CRM number or legacy number as sent -> member id, phone -> member id, numbers with a wrong check digit):
    one query, and one more when a number was merged away (it names the member it was merged into)."""
    numbers, mistyped = {}, set()
    for e in events:
        if e.number:
            try:
                numbers[e.number] = crm_number.parse(e.number)
            except crm_number.InvalidCrmNumber:
                numbers[e.number] = None
                mistyped.add(e.number)
    phones = {e.phone for e in events if e.phone}
    if not numbers and not phones:
        return {}, {}, set()
    parsed = {n for n in numbers.values() if n}
    by_crm, by_legacy, by_phone = {}, {}, {}
    for member in members_by_keys(crm_numbers=parsed, legacy_numbers=list(numbers), mobiles=phones):
        by_crm[member.crm_number], by_legacy[member.legacy_number], by_phone[member.mobile] = (member.pk,) * 3
    if unknown := parsed - by_crm.keys():
        by_crm.update(
            MergeRecord.objects.filter(merged_crm_number__in=unknown).values_list("merged_crm_number", "survivor")
        )
    members = {}
    for text, number in numbers.items():
        pk = by_crm.get(number) if number else None
        pk = pk or by_legacy.get(text)  # a legacy number may look like a CRM number with a wrong check digit
        if pk is not None:
            members[text] = pk
            mistyped.discard(text)
    return members, {p: by_phone[p] for p in phones if p in by_phone}, mistyped


def _products(events: Sequence[EventInput]) -> dict[str, tuple[int, int | None]]:
    skus = {e.sku for e in events if e.sku}
    if not skus:
        return {}
    return {
        sku: (pk, cat) for pk, sku, cat in Product.objects.filter(sku__in=skus).values_list("pk", "sku", "category")
    }


def _categories(events: Sequence[EventInput]) -> dict[int | str, int]:
    wanted = {e.category for e in events if e.category is not None}
    if not wanted:
        return {}
    ids = {c for c in wanted if isinstance(c, int)}
    names = {c for c in wanted if isinstance(c, str)}
    found = {}
    named = Q(name__in=names) | Q(name_en__in=names) | Q(name_zh_hans__in=names)  # any name it goes by
    for pk, *names_of in Category.objects.filter(Q(pk__in=ids) | named).values_list(
        "pk", "name", "name_en", "name_zh_hans"
    ):
        found[pk] = pk
        found.update({name: pk for name in names_of if name})
    return found


def _check(event: EventInput, *, oldest: datetime.datetime, latest: datetime.datetime) -> str:
    if event.occurred_at < oldest:
        return _("The event is older than the %(start)s retention start.") % {"start": oldest.date().isoformat()}
    if event.occurred_at > latest:
        return _("The event's time is more than a day in the future.")
    if event.kind in PRODUCT_KINDS and not event.sku:
        return _("This kind of event needs a product SKU.")
    if event.kind == BehaviourKind.CATEGORY_VIEW and event.category is None:
        return _("A category view needs a category.")
    return ""


def behaviour_record(*, client_id: int, events: Sequence[EventInput]) -> list[Outcome]:
    """Record a batch of events from one API client; an outcome per event, in order."""
    if len(events) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} events a batch")  # the transport refuses bigger batches first
    now = timezone.now()
    oldest, latest = retention_start(now), now + FUTURE_SLACK
    # A month without a partition gets one first, committed on its own: made inside the batch's transaction,
    # its lock on the whole table would stay until the batch commits, holding up every other batch and read.
    behaviour_partitions_ensure(months={month_of(e.occurred_at) for e in events if oldest <= e.occurred_at <= latest})
    with transaction.atomic():
        return _record(client_id=client_id, events=events, now=now, oldest=oldest, latest=latest)


def _record(
    *,
    client_id: int,
    events: Sequence[EventInput],
    now: datetime.datetime,
    oldest: datetime.datetime,
    latest: datetime.datetime,
) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(events)
    members, phones, mistyped = _members(events)
    products, categories = _products(events), _categories(events)
    rows, seen = [], set()
    for index, event in enumerate(events):
        reason = _check(event, oldest=oldest, latest=latest)
        member_id = members.get(event.number) if event.number else phones.get(event.phone)
        product = products.get(event.sku) if event.sku else None
        category_id = categories.get(event.category) if event.category is not None else None
        if reason:
            pass
        elif event.number in mistyped:
            reason = _("%(number)s is not a valid CRM number: the check digit does not match (mistyped?).") % {
                "number": event.number
            }
        elif member_id is None:
            reason = _("No member has this CRM number or mobile number.")
        elif event.sku and product is None:
            reason = _("No product has the SKU %(sku)s.") % {"sku": event.sku}
        elif event.category is not None and category_id is None:
            reason = _("No category is %(category)s.") % {"category": event.category}
        if reason:
            outcomes[index] = Outcome(Status.REFUSED, reason)
            continue
        key = (event.event_id, event.occurred_at)
        if key in seen:
            outcomes[index] = Outcome(Status.DUPLICATE)
            continue
        seen.add(key)
        if category_id is None and product is not None:
            category_id = product[1]  # a product's event counts for its category too
        rows.append(_Row(index, event, member_id, product[0] if product else None, category_id))
    inserted = _insert(client_id=client_id, rows=rows, now=now)
    for row in rows:
        accepted = (row.event.event_id, row.event.occurred_at) in inserted
        outcomes[row.index] = Outcome(Status.ACCEPTED if accepted else Status.DUPLICATE)
    return outcomes


def _insert(*, client_id: int, rows: list[_Row], now: datetime.datetime) -> set[tuple[str, datetime.datetime]]:
    if not rows:
        return set()
    columns = (
        [r.event.occurred_at for r in rows],
        [r.member_id for r in rows],
        [r.product_id for r in rows],
        [r.category_id for r in rows],
        [int(r.event.kind) for r in rows],
        [r.event.event_id for r in rows],
    )
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [now, client_id, *columns])
        return {(event_id, occurred_at) for event_id, occurred_at in cursor.fetchall()}
