"""Reads of customers shared by pages, jobs and the API."""

import datetime
import operator
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from functools import reduce
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Case, DateField, Func, Q, QuerySet, Value, When
from django.db.models.functions import Upper

from crm.lib import crm_number
from crm.lib.phone import normalize_phone
from crm.lib.text import normalize_email
from crm.roles import OWNER_ROLES
from customers import birthdays
from customers.models import Customer, PointsEntry


def customers_visible_to(user: AbstractBaseUser) -> QuerySet[Customer]:
    """Everyone for users granted all customers, otherwise the ones they own."""
    qs = Customer.objects.all()
    if not user.has_perm("customers.view_all_customers"):
        qs = qs.filter(owner=user)
    return qs


def customer_owners() -> QuerySet:
    """Staff who can own customers (crm.roles.OWNER_ROLES): what the owner fields and filters offer."""
    return get_user_model().objects.filter(is_active=True, groups__name__in=OWNER_ROLES).distinct().order_by("username")


def customers_listed(user: AbstractBaseUser) -> QuerySet[Customer]:
    """What lists and searches show: the visible customers, less the erased ones unless the user may erase (an
    anonymised record is noise to everyone else; its CRM number still opens it, for a refund at the desk)."""
    qs = customers_visible_to(user)
    if not user.has_perm("customers.erase_customer"):
        qs = qs.filter(erased_at__isnull=True)
    return qs


def customer_list(*, user: AbstractBaseUser) -> QuerySet[Customer]:
    return customers_listed(user).select_related("tier", "owner").prefetch_related("tags")


def customer_search(queryset: QuerySet[Customer], text: str, *, contacts: bool) -> QuerySet[Customer]:
    """Match a CRM number, legacy number or part of the name; and phone or e-mail when `contacts`.

    A user who sees contacts masked searches without them: otherwise repeated searches
    would reveal the hidden digits one by one.
    """
    text = text.strip()
    q = Q()
    # Asked apart, so the name's index conditions are not OR-ed with it: an OR makes Postgres recompute every
    # matching row's name bigrams (38 ms of SQL for 张伟 at a million members; 10 ms without).
    if queryset.filter(legacy_number=text).exists():
        q |= Q(legacy_number=text)
    try:
        number = crm_number.parse(text)
    except crm_number.InvalidCrmNumber:
        number = None
    if number is not None:
        q |= Q(crm_number=number)
    digits = re.sub(r"[\s\-+()]", "", text)
    if not digits.isdigit():
        q |= _name_contains(text)
    if contacts:
        q |= _contact_matches(text, digits)
    if not q:  # nothing the text could match (an empty Q would match everyone)
        return queryset.none()
    return queryset.alias(name_bigrams=NAME_BIGRAMS).filter(q)


def _contact_matches(text: str, digits: str) -> Q:
    try:
        phone = normalize_phone(text)
    except ValidationError:
        phone = ""
    q = Q()
    if phone:
        q |= Q(mobile=phone)  # a whole number: the unique index answers at once
    elif digits.isdigit() and len(digits) >= 4:
        q |= Q(mobile__contains=digits)
    if "@" in text or (len(text) >= 3 and text.isascii() and not digits.isdigit()):
        q |= Q(email__icontains=text)
    return q


# The list's filters, as plain values: field -> lookup.
LIST_FILTERS = {
    "tier": "tier_id",
    "province": "province",
    "city": "city",
    "owner": "owner_id",
    "tag": "tags",
    "source": "source",
    "birthday_month": "birthday__month",
    "ids": "pk__in",  # the rows ticked for a bulk action (customers.services.bulk), not a list filter
}


def customers_filtered(queryset: QuerySet[Customer], *, filters: dict, contacts: bool) -> QuerySet[Customer]:
    """The customer list's search, filters and sort, from plain values (text, ids, field names).

    One home for the list page (customers.filters.CustomerFilter parses the query string into these)
    and the export job (which keeps them in its params). `contacts`: whether the search may match
    phones and e-mails (see customer_search).
    """
    if text := (filters.get("q") or "").strip():
        queryset = customer_search(queryset, text, contacts=contacts)
    for name, lookup in LIST_FILTERS.items():
        if filters.get(name) not in (None, ""):
            queryset = queryset.filter(**{lookup: filters[name]})
    if sort := filters.get("sort"):
        if not contacts:  # the order of birthdays would tell the masked years apart
            sort = [key for key in sort if key.lstrip("-") != "birthday"]
        queryset = queryset.order_by(*sort)
    return queryset


# Two-character pieces of the upper-cased name, GIN-indexed (migration 0006): most Chinese
# names are two or three characters, too short for trigrams, so this is what finds 张伟 fast.
NAME_BIGRAMS = Func(Upper("name"), function="crm_bigrams", output_field=ArrayField(models.TextField()))


def bigrams(text: str) -> list[str]:
    text = text.upper()
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def _name_contains(text: str) -> Q:
    q = Q(name__icontains=text)
    if len(text) == 2:
        # Two characters give trigrams nothing to match; longer text is for the trigram index.
        q &= Q(name_bigrams__contains=bigrams(text))
    return q


def customer_by_number(*, text: str, queryset: QuerySet[Customer]) -> Customer | None:
    """The customer a lookup box entry names: CRM number (any separators) or legacy number.

    Raises crm_number.InvalidCrmNumber when the text is a CRM number with a wrong check digit
    and no legacy number matches it either.
    """
    text = text.strip()
    try:
        number = crm_number.parse(text)
        error = None
    except crm_number.InvalidCrmNumber as e:
        number, error = None, e
    if number is not None:
        found = queryset.filter(crm_number=number).first() or customer_merged_from(number=number, queryset=queryset)
        if found:
            return found
    found = queryset.filter(legacy_number=text).first() if text else None
    if found is None and error is not None:
        raise error
    return found


def customer_by_contact(*, phone: str = "", email: str = "", queryset: QuerySet[Customer]) -> Customer | None:
    """The customer in `queryset` with this (already normalised) phone, else this e-mail."""
    if phone and (found := queryset.filter(mobile=phone).first()):
        return found
    if email:
        return queryset.filter(email=normalize_email(email)).first()
    return None


class KeyedMember(NamedTuple):
    pk: int
    crm_number: int
    legacy_number: str | None
    mobile: str
    email: str


# An arm per key: each key probes its unique index once (LATERAL ... LIMIT 1). A WHERE of big IN lists ORed
# together scans the table instead (Postgres proves a partial index's `mobile <> ''` only for lists of up to
# 100 items, and otherwise may answer `mobile = ANY(...)` from the trigram index: 2,000 keys took a minute),
# and a plain join picks a hash join over a scan when the table has no statistics yet (a first import).
_MEMBER_BY = (
    "SELECT m.* FROM unnest(%s::{}[]) AS k CROSS JOIN LATERAL (SELECT c.id, c.crm_number, c.legacy_number,"
    " c.mobile, c.email FROM customers_customer c WHERE {} LIMIT 1) AS m"
)
_KEY_ARMS = {
    "crm_numbers": _MEMBER_BY.format("bigint", "c.crm_number = k"),
    "legacy_numbers": _MEMBER_BY.format("text", "c.legacy_number = k"),
    "mobiles": _MEMBER_BY.format("text", "c.mobile = k AND c.mobile <> ''"),
    "emails": _MEMBER_BY.format("text", "c.email = k AND c.email <> ''"),
}


def members_by_keys(
    *,
    crm_numbers: Collection[int] = (),
    legacy_numbers: Collection[str] = (),
    mobiles: Collection[str] = (),
    emails: Collection[str] = (),
) -> list[KeyedMember]:
    """The members any of these keys name (already parsed or normalised), in one query for a batch of any
    size: imports, segment uploads and the events API resolve their rows through here."""
    given = {"crm_numbers": crm_numbers, "legacy_numbers": legacy_numbers, "mobiles": mobiles, "emails": emails}
    arms, params = [], []
    for name, keys in given.items():
        if keys:
            arms.append(_KEY_ARMS[name])
            params.append(list(keys))
    if not arms:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ".join(arms), params)
        return [KeyedMember(*row) for row in cursor.fetchall()]


def customers_same_name_and_birthday(
    *, name: str, birthday: datetime.date | None, queryset: QuerySet[Customer]
) -> list[Customer]:
    """Customers who may be this new one (same name, any case, and same birthday): a warning, not a refusal."""
    if not name.strip() or birthday is None:
        return []
    return list(queryset.filter(name__iexact=name.strip(), birthday=birthday).order_by("crm_number")[:5])


def customer_merged_from(*, number: int, queryset: QuerySet[Customer]) -> Customer | None:
    """The customer that the customer with this CRM number was merged into."""
    return queryset.filter(merge_records__merged_crm_number=number).first()


def customer_duplicates(*, mobile: str, email: str, exclude_pk: int | None = None) -> Iterator[tuple[str, Customer]]:
    """(field, other customer) for each other customer sharing this phone or e-mail."""
    email = normalize_email(email)
    others = Customer.objects.sharing_contacts(mobile=mobile, email=email, exclude_pk=exclude_pk)
    for other in others.only("pk", "crm_number", "name", "mobile", "email"):
        if mobile and other.mobile == mobile:
            yield "mobile", other
        if email and other.email == email:
            yield "email", other


def points_entries_for(*, customer: Customer) -> QuerySet[PointsEntry]:
    """The customer's points ledger, newest first."""
    return PointsEntry.objects.filter(customer=customer).select_related("created_by").order_by("-at", "-id")


def birthdays_between(queryset: QuerySet[Customer], *, first: datetime.date, last: datetime.date) -> QuerySet[Customer]:
    """The customers of `queryset` whose birthday, solar or lunar, falls from `first` to `last` (both included,
    counted as customers.birthdays counts it), each with `birthday_on`: that day. Soonest first.

    One query: each day's conditions (calendar, month = N and day IN (...), so the month reads
    customer_birth_month_idx) OR-ed, and a CASE of the same conditions naming the day each member matched."""
    arms: list[tuple[Q, datetime.date]] = []
    for day in birthdays.days(first, last):
        arms.append((Q(birthday_is_lunar=False) & _month_and_days(birthdays.solar_birthdays_on(day)), day))
        if (lunar := birthdays.lunar_birthdays_on(day)) is not None:
            arms.append((Q(birthday_is_lunar=True) & _month_and_days(lunar[1]), day))
    if not arms:
        return queryset.none()
    # The months alone, AND-ed in front, so one scan of customer_birth_month_idx finds the candidates instead of a
    # scan of every member (Postgres does not gather the month out of the OR-ed arms itself).
    months = sorted({month for condition, _ in arms for month in _months(condition)})
    return (
        queryset.filter(birthday__month__in=months)
        .filter(reduce(operator.or_, (condition for condition, _ in arms)))
        .annotate(
            birthday_on=Case(*(When(condition, then=Value(day)) for condition, day in arms), output_field=DateField())
        )
        .order_by("birthday_on", "name", "pk")
    )


def _months(condition: Q) -> Iterator[int]:
    for child in condition.children:
        if isinstance(child, Q):
            yield from _months(child)
        elif child[0] == "birthday__month":
            yield child[1]


def _month_and_days(month_days: Iterable[tuple[int, int]]) -> Q:
    by_month: dict[int, list[int]] = defaultdict(list)
    for month, day in month_days:
        by_month[month].append(day)
    return reduce(
        operator.or_, (Q(birthday__month=month, birthday__day__in=days) for month, days in sorted(by_month.items()))
    )
