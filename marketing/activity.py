"""What marketing counts as a member being active (customers.activity): opening or clicking a message.
Registered from MarketingConfig.ready()."""

import datetime

from django.db.models import Exists, OuterRef, Q

from customers.activity import register_activity
from marketing.models import Message


def _read_since(cutoff: datetime.datetime) -> Exists:
    return Exists(
        Message.objects.filter(customer=OuterRef("pk"), sent_at__gte=cutoff).filter(
            Q(opened_at__gte=cutoff) | Q(clicked_at__gte=cutoff)
        )
    )


def register() -> None:
    register_activity("messages", _read_since)
