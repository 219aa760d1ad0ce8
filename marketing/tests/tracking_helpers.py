"""Messages in the states tracking meets them in, for the tracking and SMS tests."""

import itertools

from django.utils import timezone

from customers.models import ConsentChannel, Customer
from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, CampaignVariant, Message, MessageStatus, Segment

_names = itertools.count(1)


def make_campaign(*, channel: str = ConsentChannel.EMAIL, name: str = "") -> Campaign:
    segment = Segment.objects.create(name=f"Tracked {next(_names)}")
    campaign = Campaign.objects.create(name=name or f"Spring sale {next(_names)}", channel=channel, segment=segment)
    CampaignVariant.objects.create(campaign=campaign, label="A")
    return campaign


def make_message(
    *,
    campaign: Campaign | None = None,
    customer: Customer | None = None,
    status: str = MessageStatus.SENT,
    channel: str = ConsentChannel.EMAIL,
    **fields,
) -> Message:
    campaign = campaign or make_campaign(channel=channel)
    customer = customer or CustomerFactory(email_opt_in=True, sms_opt_in=True)
    if status not in (MessageStatus.HELD_OUT, MessageStatus.SKIPPED, MessageStatus.QUEUED):
        fields.setdefault("sent_at", timezone.now())
    if status == MessageStatus.SKIPPED:
        fields.setdefault("skip_reason", "no_consent")
    return Message.objects.create(
        campaign=campaign,
        customer=customer,
        variant=campaign.variants.first(),
        status=status,
        address=customer.mobile if campaign.channel == ConsentChannel.SMS else customer.email,
        **fields,
    )


def snapshot() -> tuple:
    """Everything tracking may write: message rows' progress, consent and its history."""
    return (
        list(
            Message.objects.order_by("pk").values_list(
                "pk", "status", "error", "delivered_at", "opened_at", "clicked_at", "unsubscribed_at"
            )
        ),
        list(Customer.objects.order_by("pk").values_list("pk", "email_opt_in", "sms_opt_in")),
        list(Customer.objects.values_list("consent_events__pk", flat=True).order_by("consent_events__pk")),
    )
