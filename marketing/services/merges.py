"""What a merge of two members does to their messages."""

from django.db.models import F, Value
from django.db.models.functions import Concat, Left

from customers.models import Customer
from marketing.models import Message


def messages_settle_merge(*, survivor: Customer, other: Customer, **kwargs: object) -> None:
    """Before a merge moves the other's rows to the survivor: a message the other got for a campaign and
    occasion the survivor also got stays a message (it was sent, and counts towards the frequency cap), under
    an occasion naming the merged record, so the move cannot break "one message per member and occasion"."""
    taken = set(Message.objects.filter(customer=survivor).values_list("campaign", "occasion"))
    clashing = [
        pk
        for pk, campaign, occasion in Message.objects.filter(customer=other).values_list("pk", "campaign", "occasion")
        if (campaign, occasion) in taken
    ]
    Message.objects.filter(pk__in=clashing).update(
        occasion=Left(Concat(F("occasion"), Value(f":merged:{other.crm_number}")), 60)
    )
