"""The fields a segment rule may name, contributed by the apps that own the data.

Why a registry: marketing compiles segment rules, but the facts they test belong to customers (profile),
interactions (purchases, contacts) and analytics (scores), and marketing may import none of analytics nor
analytics any of marketing. So each app registers its fields here from its AppConfig.ready(), as the customer
page's sections do, and the rule compiler knows a field only by what is registered: the whitelist.

A field says what kind of value it holds (which decides the operators a rule may use and how a value is
checked) and how a condition on it becomes a `Q` on Customer. Most fields are a plain lookup (`points_balance`);
a field that needs more (age from the birthday, tags through their table, a purchase fact in another app's
table) gives its own `build`.
"""

import datetime
import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Kind(StrEnum):
    """What a field holds: decides its operators and how a rule's value is checked."""

    NUMBER = "number"  # whole numbers
    DECIMAL = "decimal"  # amounts of money
    DATE = "date"
    TEXT = "text"
    CHOICE = "choice"  # one of a fixed or looked-up set (tier, gender, owner)
    CHOICES = "choices"  # a member has several (tags)
    BOOLEAN = "boolean"
    ANNIVERSARY = "anniversary"  # a date whose year does not matter (the birthday)


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    LT = "lt"
    GT = "gt"
    BETWEEN = "between"
    IS_EMPTY = "is_empty"
    IS_SET = "is_set"
    CONTAINS = "contains"
    IN_LAST_DAYS = "in_last_days"
    MORE_THAN_DAYS_AGO = "more_than_days_ago"
    IN_NEXT_DAYS = "in_next_days"

    @property
    def label(self) -> Promise:
        return OPERATOR_LABELS[self]


OPERATOR_LABELS = {
    Operator.EQ: _("is"),
    Operator.NE: _("is not"),
    Operator.IN: _("is any of"),
    Operator.NOT_IN: _("is none of"),
    Operator.LT: _("is less than"),
    Operator.GT: _("is more than"),
    Operator.BETWEEN: _("is between"),
    Operator.IS_EMPTY: _("is empty"),
    Operator.IS_SET: _("is set"),
    Operator.CONTAINS: _("contains"),
    Operator.IN_LAST_DAYS: _("in the last N days"),  # from N days ago up to today
    Operator.MORE_THAN_DAYS_AGO: _("more than N days ago"),
    Operator.IN_NEXT_DAYS: _("in the next N days"),
}

_ORDERED = (Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN, Operator.LT, Operator.GT, Operator.BETWEEN)
_PRESENCE = (Operator.IS_EMPTY, Operator.IS_SET)
_RELATIVE = (Operator.IN_LAST_DAYS, Operator.MORE_THAN_DAYS_AGO)

OPERATORS: dict[Kind, tuple[Operator, ...]] = {
    Kind.NUMBER: _ORDERED,
    Kind.DECIMAL: (Operator.LT, Operator.GT, Operator.BETWEEN),
    Kind.DATE: (Operator.EQ, Operator.LT, Operator.GT, Operator.BETWEEN, *_RELATIVE, *_PRESENCE),
    Kind.TEXT: (Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN, Operator.CONTAINS, *_PRESENCE),
    Kind.CHOICE: (Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN),
    Kind.CHOICES: (Operator.IN, Operator.NOT_IN, *_PRESENCE),
    Kind.BOOLEAN: (Operator.EQ,),
    Kind.ANNIVERSARY: (Operator.IN_NEXT_DAYS, *_PRESENCE),
}

Value = int | decimal.Decimal | datetime.date | str | bool | list | None
Build = Callable[..., Q]  # (operator, value, **params) -> Q


@dataclass(frozen=True)
class Param:
    """A number a field's condition takes besides its value: the period of "spend in the last N days", the
    times of "bought at least N times"."""

    key: str
    label: Promise
    default: int
    low: int = 1
    high: int = 3660


@dataclass(frozen=True)
class SegmentField:
    """One field rules may name. `lookup` is the Customer lookup of a plain field; `build` replaces it for
    a field that needs more. `choices` lists (value, label) for CHOICE/CHOICES fields, looked up when a rule is
    checked; `nullable` adds is empty / is set; `max_items` caps an in / not in list."""

    key: str
    label: Promise
    group: Promise
    kind: Kind
    lookup: str = ""
    build: Build | None = None
    choices: Callable[[], Sequence[tuple[object, str]]] | None = None
    nullable: bool = False
    max_items: int = 200
    min_value: int | None = None
    max_value: int | None = None
    operators: tuple[Operator, ...] = field(default=())
    shown: Callable[[object], object] | None = None  # the member's value, for "why does this member match"
    params: tuple[Param, ...] = ()

    def allowed_operators(self) -> tuple[Operator, ...]:
        ops = self.operators or OPERATORS[self.kind]
        if not self.nullable and self.kind not in (Kind.CHOICES, Kind.ANNIVERSARY):
            ops = tuple(op for op in ops if op not in _PRESENCE)
        if self.nullable and self.kind in (Kind.NUMBER, Kind.DECIMAL, Kind.CHOICE):
            ops = (*ops, *_PRESENCE)
        return ops

    def value_for(self, customer: object) -> str:
        """This member's value of the field as a person reads it."""
        if self.shown is not None:
            value = self.shown(customer)
        else:
            value = customer
            for part in self.lookup.split("__"):
                value = getattr(value, part, None)
        if self.kind == Kind.CHOICE and self.choices is not None and value is not None:
            value = dict(self.choices()).get(value, value)
        if isinstance(value, bool):
            return str(_("Yes") if value else _("No"))
        return "" if value in (None, "") else str(value)

    def q(self, operator: Operator, value: Value, params: dict[str, int] | None = None) -> Q:
        if self.build is not None:
            return self.build(operator, value, **(params or {}))
        return lookup_q(self.lookup, operator, value, text=self.kind == Kind.TEXT)


def lookup_q(lookup: str, operator: Operator, value: Value, *, text: bool = False) -> Q:
    """A condition on one column. "Is not" and "is none of" also match rows where the column is empty, as a
    person reading the rule expects ("tier is not Gold" includes members with no tier); text columns store
    blank as ''."""
    empty = Q(**{lookup: ""}) if text else Q(**{f"{lookup}__isnull": True})
    match operator:
        case Operator.EQ:
            return Q(**{lookup: value})
        case Operator.NE:
            return ~Q(**{lookup: value}) | empty
        case Operator.IN:
            return Q(**{f"{lookup}__in": value})
        case Operator.NOT_IN:
            return ~Q(**{f"{lookup}__in": value}) | empty
        case Operator.LT:
            return Q(**{f"{lookup}__lt": value})
        case Operator.GT:
            return Q(**{f"{lookup}__gt": value})
        case Operator.BETWEEN:
            low, high = value
            return Q(**{f"{lookup}__gte": low, f"{lookup}__lte": high})
        case Operator.IS_EMPTY:
            return empty
        case Operator.IS_SET:
            return ~empty
        case Operator.CONTAINS:
            return Q(**{f"{lookup}__icontains": value})
        case Operator.IN_LAST_DAYS:
            today = timezone.localdate()
            return Q(**{f"{lookup}__gte": today - datetime.timedelta(days=value), f"{lookup}__lte": today})
        case Operator.MORE_THAN_DAYS_AGO:
            return Q(**{f"{lookup}__lt": timezone.localdate() - datetime.timedelta(days=value)})
    raise ValueError(operator)  # the compiler checks operators against the field first


def holds(operator: Operator, actual: object, value: Value) -> bool:
    """The operator on one known value, in Python: lets a fact that defaults to zero ("orders" of a member who
    never bought) decide whether members without a row match."""
    match operator:
        case Operator.EQ:
            return actual == value
        case Operator.NE:
            return actual != value
        case Operator.IN:
            return actual in value
        case Operator.NOT_IN:
            return actual not in value
        case Operator.LT:
            return actual < value
        case Operator.GT:
            return actual > value
        case Operator.BETWEEN:
            return value[0] <= actual <= value[1]
    return False


def zero_default_q(lookup: str, operator: Operator, value: Value, *, missing: str) -> Q:
    """A condition on a number that is 0 for members with no row behind `lookup` (`missing` is the lookup that
    says the row is absent)."""
    q = lookup_q(lookup, operator, value)
    if operator in (Operator.NE, Operator.NOT_IN):
        q = ~Q(**{lookup: value} if operator == Operator.NE else {f"{lookup}__in": value})
    return q | Q(**{missing: True}) if holds(operator, 0, value) else q & Q(**{missing: False})


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_range_q(lookup: str, operator: Operator, value: Value) -> Q:
    """A date condition on a date-and-time column, as ranges of whole local days, so its index serves it."""
    one = datetime.timedelta(days=1)
    today = timezone.localdate()
    match operator:
        case Operator.EQ:
            return Q(**{f"{lookup}__gte": day_start(value), f"{lookup}__lt": day_start(value + one)})
        case Operator.LT:
            return Q(**{f"{lookup}__lt": day_start(value)})
        case Operator.GT:
            return Q(**{f"{lookup}__gte": day_start(value + one)})
        case Operator.BETWEEN:
            return Q(**{f"{lookup}__gte": day_start(value[0]), f"{lookup}__lt": day_start(value[1] + one)})
        case Operator.IN_LAST_DAYS:
            return Q(**{f"{lookup}__gte": day_start(today - datetime.timedelta(days=value))})
        case Operator.MORE_THAN_DAYS_AGO:
            return Q(**{f"{lookup}__lt": day_start(today - datetime.timedelta(days=value))})
        case Operator.IS_EMPTY:
            return Q(**{f"{lookup}__isnull": True})
        case Operator.IS_SET:
            return Q(**{f"{lookup}__isnull": False})
    raise ValueError(operator)


_fields: dict[str, SegmentField] = {}


def register(*fields: SegmentField) -> None:
    for f in fields:
        _fields[f.key] = f


def segment_field(key: str) -> SegmentField | None:
    return _fields.get(key)


def segment_fields() -> list[SegmentField]:
    return list(_fields.values())
