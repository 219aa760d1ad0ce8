"""What interactions counts as a member being active (customers.activity): a purchase, a contact that reached
them, a visit to the shop. Registered from InteractionsConfig.ready()."""

import datetime

from django.db.models import Exists, OuterRef

from customers.activity import register_activity
from interactions.models import BehaviourEvent, Interaction, Outcome, Transaction


def _bought_since(cutoff: datetime.datetime) -> Exists:
    # The purchases themselves (an index on customer and time answers it), not the per-member facts: a facts row
    # missing or behind until the nightly reconcile must not get a buyer's personal data erased for good.
    return Exists(Transaction.objects.filter(customer=OuterRef("pk"), occurred_at__gte=cutoff))


def _contacted_since(cutoff: datetime.datetime) -> Exists:
    # A call nobody answered is staff's activity, not the member's.
    reached = Interaction.objects.filter(customer=OuterRef("pk"), occurred_at__gte=cutoff).exclude(
        outcome=Outcome.NO_ANSWER
    )
    return Exists(reached)


def _visited_since(cutoff: datetime.datetime) -> Exists:
    return Exists(BehaviourEvent.objects.filter(member=OuterRef("pk"), occurred_at__gte=cutoff))


def register() -> None:
    register_activity("purchases", _bought_since)
    register_activity("contacts", _contacted_since)
    register_activity("behaviour", _visited_since)
