"""E-mail providers' tracking webhooks (through django-anymail) into the message rows: Postmark's and Mailgun's
payloads as their documentation gives them, posted with the credentials the test settings configure."""

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client, override_settings
from hypothesis import given
from hypothesis import strategies as st

from customers.models import ConsentEvent
from marketing.models import MessageStatus
from marketing.tests.tracking_helpers import make_message, snapshot
from tests.hostile import hostile_text, rolled_back

pytestmark = pytest.mark.django_db

POSTMARK = "/webhooks/anymail/postmark/tracking/"
MAILGUN = "/webhooks/anymail/mailgun/tracking/"
AUTH = "Basic " + base64.b64encode(b"anymail-test:webhook-secret").decode()
POSTMARK_ID = "883953f4-6105-42a2-a16a-77a8eac79483"


def postmark(payload: dict, *, auth: str = AUTH):
    return Client().post(POSTMARK, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=auth)


# From Postmark's webhook documentation (test payloads), with our message's id.
DELIVERY = {
    "RecordType": "Delivery",
    "ServerID": 23,
    "MessageStream": "outbound",
    "MessageID": POSTMARK_ID,
    "Recipient": "john@example.com",
    "Tag": "welcome-email",
    "DeliveredAt": "2026-11-30T16:34:52Z",
    "Details": "Test delivery webhook details",
    "Metadata": {"example": "value"},
}
BOUNCE = {
    "RecordType": "Bounce",
    "ID": 42,
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Tag": "Test",
    "MessageID": POSTMARK_ID,
    "ServerID": 1234,
    "MessageStream": "outbound",
    "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details": "Test bounce details",
    "Email": "john@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2026-11-30T16:33:54.9070259Z",
    "DumpAvailable": True,
    "Inactive": True,
    "CanActivate": True,
    "Subject": "Test subject",
    "Content": "Test content",
    "Metadata": {},
}
OPEN = {
    "RecordType": "Open",
    "MessageStream": "outbound",
    "Metadata": {},
    "FirstOpen": True,
    "Recipient": "john@example.com",
    "MessageID": POSTMARK_ID,
    "ReceivedAt": "2026-11-30T16:40:54.9070259Z",
    "Platform": "WebMail",
    "ReadSeconds": 5,
    "Tag": "welcome-email",
    "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
}
CLICK = {
    "RecordType": "Click",
    "MessageStream": "outbound",
    "Metadata": {},
    "Recipient": "john@example.com",
    "MessageID": POSTMARK_ID,
    "ReceivedAt": "2026-11-30T16:41:54.9070259Z",
    "Platform": "Desktop",
    "ClickLocation": "HTML",
    "OriginalLink": "https://example.com",
    "Tag": "welcome-email",
    "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
}
SPAM = {
    "RecordType": "SpamComplaint",
    "ID": 42,
    "Type": "SpamComplaint",
    "TypeCode": 512,
    "Name": "Spam complaint",
    "Tag": "Test",
    "MessageID": POSTMARK_ID,
    "ServerID": 1234,
    "MessageStream": "outbound",
    "Description": "",
    "Details": "Test spam complaint details",
    "Email": "john@example.com",
    "From": "sender@example.com",
    "BouncedAt": "2026-11-30T16:50:54Z",
    "Metadata": {},
}
UNSUBSCRIBE = {
    "RecordType": "SubscriptionChange",
    "MessageID": POSTMARK_ID,
    "ServerID": 123456,
    "MessageStream": "outbound",
    "ChangedAt": "2026-11-30T16:53:34.416071Z",
    "Recipient": "john@example.com",
    "Origin": "Recipient",
    "SuppressSending": True,
    "SuppressionReason": "ManualSuppression",
    "Tag": "my-tag",
    "Metadata": {},
}


@pytest.fixture
def message():
    return make_message(provider_id=POSTMARK_ID)


def test_delivered_opened_clicked_arrive_on_the_row(message):
    for payload in (DELIVERY, OPEN, CLICK):
        assert postmark(payload).status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.CLICKED
    assert message.delivered_at.isoformat() == "2026-11-30T16:34:52+00:00"
    assert message.opened_at.minute == 40 and message.clicked_at.minute == 41


def test_a_hard_bounce_is_recorded_with_its_reason(message):
    assert postmark(BOUNCE).status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.BOUNCED and "unable to deliver" in message.error
    message.customer.refresh_from_db()
    assert message.customer.email_opt_in  # an address that bounces is no withdrawal of consent


def test_a_spam_complaint_withdraws_consent(message):
    assert postmark(SPAM).status_code == 200
    message.refresh_from_db()
    message.customer.refresh_from_db()
    assert message.status == MessageStatus.COMPLAINED and not message.customer.email_opt_in


def test_an_unsubscribe_at_the_provider_withdraws_consent_with_its_history(message):
    assert postmark(UNSUBSCRIBE).status_code == 200
    assert postmark(UNSUBSCRIBE).status_code == 200  # providers retry: once is recorded
    message.refresh_from_db()
    message.customer.refresh_from_db()
    assert message.status == MessageStatus.UNSUBSCRIBED and not message.customer.email_opt_in
    assert ConsentEvent.objects.filter(customer=message.customer, granted=False).count() == 1


def test_an_event_for_a_message_we_did_not_send_changes_nothing(message):
    before = snapshot()
    assert postmark(DELIVERY | {"MessageID": "00000000-0000-0000-0000-000000000000"}).status_code == 200
    assert snapshot() == before


def test_without_the_webhook_secret_nothing_is_recorded(message):
    before = snapshot()
    wrong = "Basic " + base64.b64encode(b"anymail-test:guess").decode()
    assert postmark(UNSUBSCRIBE, auth=wrong).status_code == 400
    assert postmark(UNSUBSCRIBE, auth="").status_code == 400
    assert snapshot() == before


@override_settings(ANYMAIL={})
def test_with_no_webhook_secret_configured_events_are_not_trusted(message):
    before = snapshot()
    with pytest.warns(Warning):  # anymail's own warning that the webhook is open to anyone
        assert postmark(UNSUBSCRIBE, auth="").status_code == 200
    assert snapshot() == before


SIGNING_KEY = "key-mailgun-test"


def mailgun(event_data: dict, *, key: str = SIGNING_KEY):
    timestamp, token = "1764520000", "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    payload = {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": event_data}
    return Client().post(MAILGUN, json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=AUTH)


@override_settings(
    ANYMAIL={"WEBHOOK_SECRET": "anymail-test:webhook-secret", "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
)
def test_mailgun_finds_an_smtp_message_id_with_or_without_brackets():
    # Mailgun reports the Message-ID header bare; anymail adds the angle brackets; we stored it as sent.
    message = make_message(provider_id="<20261130182626.18666.16540@crm.example.com>")
    event = {
        "event": "opened",
        "timestamp": 1764520000.329574,
        "id": "CPgfbmQMTCKtHW6uIWtuVe",
        "recipient": "alice@example.com",
        "message": {"headers": {"message-id": "20261130182626.18666.16540@crm.example.com"}},
    }
    assert mailgun(event).status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.OPENED
    bare = make_message(provider_id="bare.1@crm.example.com")
    assert mailgun(event | {"message": {"headers": {"message-id": "bare.1@crm.example.com"}}}).status_code == 200
    bare.refresh_from_db()
    assert bare.status == MessageStatus.OPENED
    before = snapshot()
    assert mailgun(event, key="forged").status_code == 400
    assert snapshot() == before


@given(body=hostile_text, auth=st.sampled_from(["", "Basic Zm9vOmJhcg==", "Bearer x"]))
def test_unauthenticated_posts_never_fail_or_write(body, auth):
    with rolled_back():
        make_message(provider_id=POSTMARK_ID)
        before = snapshot()
        response = Client().post(POSTMARK, body, content_type="application/json", HTTP_AUTHORIZATION=auth)
        assert response.status_code == 400
        assert snapshot() == before


@given(
    record=st.sampled_from([DELIVERY, BOUNCE, OPEN, CLICK, SPAM, UNSUBSCRIBE]),
    message_id=st.one_of(hostile_text, st.integers(), st.none()),
)
def test_events_for_any_other_message_id_never_fail_or_write(record, message_id):
    with rolled_back():
        make_message(provider_id=POSTMARK_ID)
        before = snapshot()
        if message_id in (POSTMARK_ID, f"<{POSTMARK_ID}>"):
            return
        assert postmark(record | {"MessageID": message_id}).status_code == 200
        assert snapshot() == before


@given(description=hostile_text, details=hostile_text)
def test_any_bounce_reason_is_recorded_without_failing(description, details):
    with rolled_back():
        message = make_message(provider_id=POSTMARK_ID)
        assert postmark(BOUNCE | {"Description": description, "Details": details}).status_code == 200
        message.refresh_from_db()
        assert message.status == MessageStatus.BOUNCED and "\x00" not in message.error and len(message.error) <= 255
