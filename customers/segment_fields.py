"""The profile fields segment rules may name (registered from CustomersConfig.ready)."""

import datetime
from collections.abc import Sequence

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.segment_fields import Kind, Operator, SegmentField, Value, register
from customers.models import Customer, Gender, Source, Tag, Tier
from customers.selectors import customer_owners

PROFILE = _("Profile")
_LIST_OPS = (Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN)


def age_q(operator: Operator, value: Value) -> Q:
    """Age in whole years today, as a range of birthdays: "age at least n" is "born on or before today less n
    years", so the index on the birthday serves it and no age is computed per row."""
    today = timezone.localdate()

    def at_least(years: int) -> Q:
        return Q(birthday__lte=today - relativedelta(years=years))

    def exactly(years: int) -> Q:
        return at_least(years) & ~at_least(years + 1)

    unknown = Q(birthday__isnull=True)
    match operator:
        case Operator.EQ:
            return exactly(value)
        case Operator.NE:
            return ~exactly(value) | unknown
        case Operator.IN | Operator.NOT_IN:
            any_of = Q()
            for years in value:
                any_of |= exactly(years)
            return any_of if operator == Operator.IN else ~any_of | unknown
        case Operator.LT:
            return Q(birthday__isnull=False) & ~at_least(value)
        case Operator.GT:
            return at_least(value + 1)
        case Operator.BETWEEN:
            low, high = value
            return at_least(low) & ~at_least(high + 1)
        case Operator.IS_EMPTY:
            return unknown
        case Operator.IS_SET:
            return ~unknown
    raise ValueError(operator)


def anniversary_days(today: datetime.date, days: int) -> dict[int, list[int]]:
    """Month -> days of the month falling from today to today + `days`. Members born on 29 February have
    their birthday on the 28th in other years."""
    out: dict[int, list[int]] = {}
    for offset in range(days + 1):
        day = today + datetime.timedelta(days=offset)
        out.setdefault(day.month, []).append(day.day)
        if (day.month, day.day) == (2, 28) and (day + datetime.timedelta(days=1)).month == 3:
            out[2].append(29)
    return out


def birthday_q(operator: Operator, value: Value) -> Q:
    if operator == Operator.IS_EMPTY:
        return Q(birthday__isnull=True)
    if operator == Operator.IS_SET:
        return Q(birthday__isnull=False)
    q = Q()
    for month, days in anniversary_days(timezone.localdate(), value).items():
        for first, last in _runs(sorted(set(days))):
            q |= Q(birthday__month=month, birthday__day__gte=first, birthday__day__lte=last)
    return q


def _runs(days: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 9, 10] -> [(1, 3), (9, 10)]: a month met twice in a year's window holds two runs."""
    runs: list[tuple[int, int]] = []
    for day in days:
        if runs and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def tags_q(operator: Operator, value: Value) -> Q:
    links = Customer.tags.through.objects.filter(customer_id=OuterRef("pk"))
    match operator:
        case Operator.IN:
            return Q(Exists(links.filter(tag_id__in=value)))
        case Operator.NOT_IN:
            return ~Q(Exists(links.filter(tag_id__in=value)))
        case Operator.IS_EMPTY:
            return ~Q(Exists(links))
        case Operator.IS_SET:
            return Q(Exists(links))
    raise ValueError(operator)


def _age(customer: Customer) -> int | None:
    if customer.birthday is None:
        return None
    today = timezone.localdate()
    born = customer.birthday
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _birthday(customer: Customer) -> str:
    return customer.birthday.strftime("%m-%d") if customer.birthday else ""


def _tag_names(customer: Customer) -> str:
    return ", ".join(t.name for t in customer.tags.all())


def _tiers() -> Sequence[tuple[object, str]]:
    return [(t.pk, str(t)) for t in Tier.objects.all()]


def _tags() -> Sequence[tuple[object, str]]:
    return list(Tag.objects.values_list("pk", "name"))


def _owners() -> Sequence[tuple[object, str]]:
    return [(u.pk, u.get_full_name() or u.get_username()) for u in customer_owners()]


def register_fields() -> None:
    register(
        SegmentField("tier", _("Tier"), PROFILE, Kind.CHOICE, lookup="tier_id", choices=_tiers, nullable=True),
        SegmentField("points_balance", _("Points balance"), PROFILE, Kind.NUMBER, lookup="points_balance"),
        SegmentField("province", _("Province"), PROFILE, Kind.TEXT, lookup="province", nullable=True),
        SegmentField("city", _("City"), PROFILE, Kind.TEXT, lookup="city", nullable=True),
        SegmentField("gender", _("Gender"), PROFILE, Kind.CHOICE, lookup="gender", choices=lambda: Gender.choices),
        SegmentField(
            "age", _("Age"), PROFILE, Kind.NUMBER, build=age_q, nullable=True, min_value=0, max_value=130, shown=_age
        ),
        SegmentField(
            "birthday_month",
            _("Birthday month"),
            PROFILE,
            Kind.NUMBER,
            lookup="birthday__month",
            nullable=True,
            min_value=1,
            max_value=12,
            operators=_LIST_OPS,
        ),
        SegmentField("birthday", _("Birthday"), PROFILE, Kind.ANNIVERSARY, build=birthday_q, shown=_birthday),
        SegmentField("registered_on", _("Registration date"), PROFILE, Kind.DATE, lookup="registered_on"),
        SegmentField(
            "source", _("Source channel"), PROFILE, Kind.CHOICE, lookup="source", choices=lambda: Source.choices
        ),
        SegmentField("tags", _("Tags"), PROFILE, Kind.CHOICES, build=tags_q, choices=_tags, shown=_tag_names),
        SegmentField("owner", _("Owner"), PROFILE, Kind.CHOICE, lookup="owner_id", choices=_owners, nullable=True),
        SegmentField("email_consent", _("E-mail consent"), PROFILE, Kind.BOOLEAN, lookup="email_opt_in"),
        SegmentField("sms_consent", _("SMS consent"), PROFILE, Kind.BOOLEAN, lookup="sms_opt_in"),
        SegmentField(
            "crm_number",
            _("CRM number"),
            PROFILE,
            Kind.NUMBER,
            lookup="crm_number",
            operators=(Operator.IN, Operator.NOT_IN),
            max_items=10_000,
        ),
    )
