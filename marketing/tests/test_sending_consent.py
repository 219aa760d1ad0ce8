"""Nobody is messaged without consent at that moment: random consent histories (grants and withdrawals at
random times, recorded through the consent service) and a random send time, checked against the history.
A member is messaged when they consented both as the membership was frozen and at the send.
And a test send to any text a form may pass: sent, or refused with the reason, never a crash or a row."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from customers.models import ConsentChannel, ConsentEvent, ConsentMethod
from customers.services import consent_set
from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, Message, MessageStatus, SkipReason
from marketing.services.sending import campaign_start, message_send_test
from marketing.tests import sending_fixtures
from marketing.tests.sending_fixtures import make_campaign, send_all

fast_sending = sending_fixtures.fast_sending
pytestmark = pytest.mark.django_db
START = timezone.make_aware(datetime.datetime(2027, 3, 1, 10, 0))

history = st.lists(st.tuples(st.integers(min_value=-120, max_value=240), st.booleans()), max_size=5)


def consent_at(customer, at: datetime.datetime) -> bool:
    """What the recorded history says the member's e-mail consent was at that moment."""
    last = (
        ConsentEvent.objects.filter(customer=customer, channel=ConsentChannel.EMAIL, at__lte=at)
        .order_by("-at", "-id")
        .first()
    )
    return bool(last and last.granted)


@given(histories=st.lists(history, min_size=1, max_size=4), send_minute=st.integers(min_value=0, max_value=240))
def test_nobody_is_messaged_without_consent_at_that_moment(fast_sending, histories, send_minute):
    mail.outbox = []
    with time_machine.travel(START - datetime.timedelta(hours=3), tick=False):
        people = [CustomerFactory() for _ in histories]
        campaign = make_campaign(people)
    events = sorted((minute, index, granted) for index, events in enumerate(histories) for minute, granted in events)
    send_at = START + datetime.timedelta(minutes=send_minute)

    def apply(minute: int, index: int, granted: bool) -> None:
        with time_machine.travel(START + datetime.timedelta(minutes=minute), tick=False):
            consent_set(
                customer=people[index], channel=ConsentChannel.EMAIL, granted=granted, method=ConsentMethod.FORM
            )

    for minute, index, granted in events:
        if minute < 0:  # before the campaign starts
            apply(minute, index, granted)
    with time_machine.travel(START, tick=False):
        campaign_start(campaign=campaign, actor=None)
    for minute, index, granted in events:
        if 0 <= minute <= send_minute:
            apply(minute, index, granted)
    with time_machine.travel(send_at, tick=False):
        send_all(campaign)
    for minute, index, granted in events:
        if minute > send_minute:
            apply(minute, index, granted)

    rows = {row.customer_id: row for row in Message.objects.filter(campaign=campaign)}
    sent_to = [message.to[0] for message in mail.outbox]
    for person in people:
        row = rows[person.pk]
        # Judged as the membership is frozen (before that minute's changes) and again at the send.
        at_start = consent_at(person, START - datetime.timedelta(seconds=1))
        if at_start and consent_at(person, send_at):
            assert row.status == MessageStatus.SENT and row.sent_at == send_at
            assert sent_to.count(person.email) == 1
        else:
            assert (row.status, row.skip_reason) == (MessageStatus.SKIPPED, SkipReason.NO_CONSENT)
            assert person.email not in sent_to


@given(to=st.text(max_size=60))
def test_a_test_send_to_any_text_sends_or_says_why_and_writes_no_row(fast_sending, to):
    campaign = Campaign.objects.filter(name="test-send").first() or make_campaign([], name="test-send")
    mail.outbox = []
    try:
        message_send_test(variant=campaign.variants.get(), language="en", to=to, actor=None)
    except ValidationError as error:
        assert error.messages and not mail.outbox
    else:
        assert [message.to for message in mail.outbox] == [[to.strip()]]
    assert not Message.objects.exists()
