"""What counts as a member being active, contributed by the apps that see it: the retention job
(customers.services.retention) erases members with none of it for RETENTION_INACTIVE_YEARS.

Why a registry: purchases, contacts, shop visits and opened messages belong to apps that depend on customers.
Each registers a function giving, for a cut-off time, a condition on Customer that holds when the member did
something of theirs since then (an Exists over their table, on an index that starts with the member): the job
keeps every member any condition holds for.
"""

import datetime
from collections.abc import Callable

from django.db.models import Exists, OuterRef, Q

from customers.models import ConsentEvent, PointsEntry, PointsKind

ActivitySince = Callable[[datetime.datetime], Q | Exists]

_sources: dict[str, ActivitySince] = {}


def register_activity(key: str, since: ActivitySince) -> None:
    """Keyed, so registering twice (tests, autoreload) replaces instead of duplicating."""
    _sources[key] = since


def activity_conditions(cutoff: datetime.datetime) -> list[Q | Exists]:
    return [since(cutoff) for since in _sources.values()]


def _joined_since(cutoff: datetime.datetime) -> Q:
    return Q(created_at__gte=cutoff) | Q(registered_on__gte=cutoff.date())


def _consent_given_since(cutoff: datetime.datetime) -> Exists:
    return Exists(ConsentEvent.objects.filter(customer=OuterRef("pk"), granted=True, at__gte=cutoff))


def _points_spent_since(cutoff: datetime.datetime) -> Exists:
    return Exists(PointsEntry.objects.filter(customer=OuterRef("pk"), kind=PointsKind.REDEEMED, at__gte=cutoff))


register_activity("joined", _joined_since)
register_activity("consent", _consent_given_since)
register_activity("points", _points_spent_since)
