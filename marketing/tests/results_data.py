"""Campaigns with message rows and purchases written straight to the tables, for the results tests (the engine
that writes rows for real is tested in test_sending*)."""

import datetime as dt
from decimal import Decimal

from customers.tests.factories import CustomerFactory
from interactions.tests.factories import TransactionFactory
from marketing.models import Campaign, CampaignStatus, CampaignVariant, Message, MessageStatus, Segment

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def campaign_make(name: str = "Spring", **kwargs) -> Campaign:
    segment, _ = Segment.objects.get_or_create(name="everyone")
    values = {"segment": segment, "status": CampaignStatus.SENT, "started_at": T0, "control_percent": 10}
    campaign = Campaign.objects.create(name=name, **(values | kwargs))
    Campaign.objects.filter(pk=campaign.pk).update(created_at=T0 - DAY)  # drafted the day before
    campaign.refresh_from_db()
    return campaign


def row(campaign: Campaign, status: MessageStatus = MessageStatus.SENT, *, customer=None, **fields) -> Message:
    """A message row; `sent` defaults to an hour after the start for statuses past sending."""
    past_send = status not in (MessageStatus.HELD_OUT, MessageStatus.SKIPPED, MessageStatus.QUEUED)
    if past_send and status not in (MessageStatus.FAILED, MessageStatus.UNKNOWN, MessageStatus.SENDING):
        fields.setdefault("sent_at", T0 + HOUR)
    created_at = fields.pop("created_at", None)
    message = Message.objects.create(campaign=campaign, customer=customer or CustomerFactory(), status=status, **fields)
    Message.objects.filter(pk=message.pk).update(created_at=created_at or campaign.started_at or T0)
    return message


def buy(message: Message, amount: str, at: dt.datetime, refunded: str = "0"):
    return TransactionFactory(
        customer=message.customer, amount=Decimal(amount), refunded_amount=Decimal(refunded), occurred_at=at
    )


def variants(campaign: Campaign, labels: str = "AB") -> list[CampaignVariant]:
    return [CampaignVariant.objects.create(campaign=campaign, label=label) for label in labels]
