"""What comes back from a message moves its row forward only, and an unsubscribe withdraws consent for good."""

import datetime

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from customers.models import ConsentChannel, ConsentEvent, ConsentMethod
from marketing.models import MessageStatus
from marketing.services.tracking import (
    EVENTS,
    message_complaint_record,
    message_event_record,
    message_unsubscribe,
    sms_reply_is_stop,
)
from marketing.tests.tracking_helpers import make_message
from tests.hostile import rolled_back

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


def test_delivered_then_opened_then_clicked_keeps_each_first_time():
    message = make_message()
    assert message_event_record(message=message, event=MessageStatus.DELIVERED, at=at(1))
    assert message_event_record(message=message, event=MessageStatus.OPENED, at=at(5))
    assert message_event_record(message=message, event=MessageStatus.CLICKED, at=at(6))
    assert not message_event_record(message=message, event=MessageStatus.OPENED, at=at(9))  # a second open
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED
    assert (message.delivered_at, message.opened_at, message.clicked_at) == (at(1), at(5), at(6))


def test_a_late_delivery_report_does_not_move_a_clicked_message_back():
    message = make_message()
    message_event_record(message=message, event=MessageStatus.CLICKED, at=at(5))
    message_event_record(message=message, event=MessageStatus.DELIVERED, at=at(1))
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED
    # the click proved the delivery and the open (images may be off): their times stay the click's
    assert message.delivered_at == at(5) and message.opened_at == at(5) and message.clicked_at == at(5)


def test_a_bounce_is_recorded_with_the_providers_reason():
    message = make_message()
    assert message_event_record(
        message=message, event=MessageStatus.BOUNCED, at=at(1), detail="550 5.1.1  no such user"
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED and message.error == "550 5.1.1 no such user"
    assert message.delivered_at is None


def test_a_bounce_after_a_click_keeps_what_the_member_did():
    message = make_message()
    message_event_record(message=message, event=MessageStatus.CLICKED, at=at(1))
    message_event_record(message=message, event=MessageStatus.BOUNCED, at=at(2), detail="late bounce")
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED and message.error == ""


@pytest.mark.parametrize(
    "status", [MessageStatus.HELD_OUT, MessageStatus.SKIPPED, MessageStatus.QUEUED, MessageStatus.SENDING, "failed"]
)
def test_a_message_never_handed_to_the_provider_is_not_touched(status):
    message = make_message(status=status)
    assert not message_event_record(message=message, event=MessageStatus.OPENED, at=at(1))
    message.refresh_from_db()
    assert message.status == status and message.opened_at is None


def test_an_unknown_message_that_the_provider_reports_delivered_is_delivered():
    message = make_message(status=MessageStatus.UNKNOWN)
    message_event_record(message=message, event=MessageStatus.DELIVERED, at=at(1))
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@given(events=st.lists(st.tuples(st.sampled_from(EVENTS), st.integers(0, 1000)), max_size=8))
def test_any_order_of_events_never_moves_a_row_backwards(events):
    rank = {MessageStatus.SENT: 0, MessageStatus.DELIVERED: 1, MessageStatus.BOUNCED: 2, MessageStatus.OPENED: 3}
    rank |= {MessageStatus.CLICKED: 4, MessageStatus.UNSUBSCRIBED: 5, MessageStatus.COMPLAINED: 6}
    with rolled_back():
        message = make_message()
        seen = MessageStatus.SENT
        for event, minute in events:
            message_event_record(message=message, event=event, at=at(minute))
            message.refresh_from_db()
            assert rank[message.status] >= rank[seen]
            seen = message.status
        if any(e == MessageStatus.CLICKED for e, _ in events):
            assert message.clicked_at is not None and message.opened_at is not None


def test_unsubscribing_withdraws_consent_with_its_history_once():
    message = make_message()
    assert message.customer.email_opt_in
    assert message_unsubscribe(message=message, at=at(3))
    assert not message_unsubscribe(message=message, at=at(4))  # a second click: nothing new
    message.refresh_from_db()
    message.customer.refresh_from_db()
    assert message.status == MessageStatus.UNSUBSCRIBED and message.unsubscribed_at == at(3)
    assert not message.customer.email_opt_in and message.customer.sms_opt_in  # only this channel
    event = ConsentEvent.objects.get(customer=message.customer)
    assert (event.channel, event.granted, event.method) == (ConsentChannel.EMAIL, False, ConsentMethod.UNSUBSCRIBE)
    assert message.campaign.name in event.note


def test_an_sms_campaigns_unsubscribe_withdraws_sms_consent():
    message = make_message(channel=ConsentChannel.SMS)
    message_unsubscribe(message=message)
    message.customer.refresh_from_db()
    assert not message.customer.sms_opt_in and message.customer.email_opt_in


def test_an_unsubscribe_is_honoured_even_before_the_row_says_sent():
    message = make_message(status=MessageStatus.SENDING)
    assert message_unsubscribe(message=message, at=timezone.now())
    message.customer.refresh_from_db()
    message.refresh_from_db()
    assert not message.customer.email_opt_in and message.status == MessageStatus.SENDING


def test_a_spam_complaint_withdraws_consent_too():
    message = make_message()
    message_complaint_record(message=message, at=at(2), detail="abuse report")
    message.refresh_from_db()
    message.customer.refresh_from_db()
    assert message.status == MessageStatus.COMPLAINED and not message.customer.email_opt_in
    assert ConsentEvent.objects.get(customer=message.customer).method == ConsentMethod.UNSUBSCRIBE


@pytest.mark.parametrize("text", ["T", "t", " td ", "TD。", "退订", "Stop", "STOP!", "unsubscribe", "ＴＤ", "S T O P"])
def test_stop_words_are_recognised(text):
    assert sms_reply_is_stop(text)


@pytest.mark.parametrize("text", ["", "Thanks", "TDD", "不退订", "stop it please", "好的", "T1"])
def test_other_replies_are_not_stop_words(text):
    assert not sms_reply_is_stop(text)


def test_a_providers_reason_with_control_characters_is_kept_as_one_line():
    message = make_message()
    message_event_record(message=message, event=MessageStatus.BOUNCED, detail="550\x00 no\x1b such\nuser " + "x" * 400)
    message.refresh_from_db()
    assert message.error.startswith("550  no  such user") and len(message.error) == 255
