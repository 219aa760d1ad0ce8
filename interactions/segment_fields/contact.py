"""The contact facts segment rules may name: the latest contact and satisfaction, contacts through a channel."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.lookups import Exact, GreaterThan, LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.segment_fields import Kind, Operator, SegmentField, Value, day_start, register
from interactions.models import Interaction, InteractionChannel
from interactions.segment_fields.common import RECENT_DAYS, TIMES, since

CONTACT = pgettext_lazy("segment fields", "Contact")


def last_contact_q(operator: Operator, value: Value) -> Q:
    """The latest contact's day, as existence checks on the index (customer, time): "before D" is "some
    contact, and none on or after D"."""
    contacts = Interaction.objects.filter(customer_id=OuterRef("pk"))

    def any_from(moment: datetime.datetime) -> Q:
        return Q(Exists(contacts.filter(occurred_at__gte=moment)))

    one = datetime.timedelta(days=1)
    today = timezone.localdate()
    match operator:
        case Operator.IS_EMPTY:
            return ~Q(Exists(contacts))
        case Operator.IS_SET:
            return Q(Exists(contacts))
        case Operator.EQ:
            return any_from(day_start(value)) & ~any_from(day_start(value + one))
        case Operator.LT:
            return Q(Exists(contacts)) & ~any_from(day_start(value))
        case Operator.GT:
            return any_from(day_start(value + one))
        case Operator.BETWEEN:
            return any_from(day_start(value[0])) & ~any_from(day_start(value[1] + one))
        case Operator.IN_LAST_DAYS:
            return any_from(day_start(today - datetime.timedelta(days=value)))
        case Operator.MORE_THAN_DAYS_AGO:
            return Q(Exists(contacts)) & ~any_from(day_start(today - datetime.timedelta(days=value)))
    raise ValueError(operator)


def last_satisfaction_q(operator: Operator, value: Value) -> Q:
    scored = Interaction.objects.filter(customer_id=OuterRef("pk"), satisfaction__isnull=False)
    latest = Subquery(scored.order_by("-occurred_at", "-id").values("satisfaction")[:1])
    # Comparing with no score at all gives NULL in SQL, which a NOT group would keep as NULL and drop: each
    # comparison is guarded by "has a score" so it is plainly true or false.
    has_score = Q(Exists(scored))
    match operator:
        case Operator.EQ:
            return has_score & Q(Exact(latest, value))
        case Operator.NE:  # a member never scored "is not 1" too, as with every other field
            return ~(has_score & Q(Exact(latest, value)))
        case Operator.LT:
            return has_score & Q(LessThan(latest, value))
        case Operator.GT:
            return has_score & Q(GreaterThan(latest, value))
        case Operator.IS_EMPTY:
            return ~Q(Exists(scored))
        case Operator.IS_SET:
            return Q(Exists(scored))
    raise ValueError(operator)


def contacts_q(operator: Operator, value: Value, days: int = 30, times: int = 1) -> Q:
    """Contacts through any of these channels, at least `times` in the last `days` days."""
    members = (
        Interaction.objects.filter(occurred_at__gte=since(days), channel__in=value)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=times)
        .values("customer_id")
    )
    q = Q(pk__in=members)
    return q if operator == Operator.IN else ~q


def _latest_contact(customer) -> object:
    latest = Interaction.objects.filter(customer=customer).order_by("-occurred_at").first()
    return timezone.localdate(latest.occurred_at) if latest else None


def _latest_satisfaction(customer) -> object:
    latest = customer.interactions.filter(satisfaction__isnull=False).order_by("-occurred_at", "-id").first()
    return latest.satisfaction if latest else None


def register_fields() -> None:
    register(
        SegmentField(
            "last_contact",
            _("Last contact"),
            CONTACT,
            Kind.DATE,
            nullable=True,
            build=last_contact_q,
            shown=_latest_contact,
        ),
        SegmentField(
            "last_satisfaction",
            _("Latest satisfaction score"),
            CONTACT,
            Kind.NUMBER,
            nullable=True,
            build=last_satisfaction_q,
            operators=(Operator.EQ, Operator.NE, Operator.LT, Operator.GT),
            min_value=1,
            max_value=5,
            shown=_latest_satisfaction,
        ),
        SegmentField(
            "contacts_in_period",
            _("Contacts through"),
            CONTACT,
            Kind.CHOICES,
            build=contacts_q,
            choices=lambda: InteractionChannel.choices,
            operators=(Operator.IN, Operator.NOT_IN),
            params=(RECENT_DAYS, TIMES),
        ),
    )
