"""Replies to our SMS, as the gateway forwards them: a stop word withdraws the member's SMS consent."""

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from customers.models import ConsentChannel, ConsentEvent, ConsentMethod
from customers.tests.factories import CustomerFactory
from marketing.models import MessageStatus
from marketing.services.tracking import sms_reply_is_stop
from marketing.tests.tracking_helpers import make_message, snapshot
from tests.hostile import hostile_text, rolled_back

pytestmark = pytest.mark.django_db

SECRET = "sms-inbound-test-secret"
URL = reverse("marketing:sms_inbound")


def reply(data: dict | str, *, secret: str = SECRET, json_body: bool = True):
    headers = {"HTTP_X_WEBHOOK_SECRET": secret} if secret is not None else {}
    if json_body:
        body = data if isinstance(data, str) else json.dumps(data)
        return Client(enforce_csrf_checks=True).post(URL, body, content_type="application/json", **headers)
    return Client(enforce_csrf_checks=True).post(URL, data, **headers)


@pytest.fixture
def member():
    return CustomerFactory(mobile="+8613900000001", email_opt_in=True, sms_opt_in=True)


@pytest.mark.parametrize("text", ["T", "td", "退订", "STOP", " Unsubscribe ", "ＴＤ"])
def test_a_stop_word_withdraws_sms_consent_with_its_history(member, text):
    response = reply({"from": "139 0000 0001", "text": text})
    assert response.status_code == 200 and response.json()["unsubscribed"] is True
    member.refresh_from_db()
    assert not member.sms_opt_in and member.email_opt_in
    event = ConsentEvent.objects.get(customer=member)
    assert (event.channel, event.granted, event.method, event.note) == (
        ConsentChannel.SMS,
        False,
        ConsentMethod.UNSUBSCRIBE,
        "SMS reply",
    )


def test_a_form_encoded_reply_works_too(member):
    assert reply({"from": "+8613900000001", "text": "TD"}, json_body=False).status_code == 200
    member.refresh_from_db()
    assert not member.sms_opt_in


def test_the_last_sms_they_were_sent_shows_the_unsubscribe(member):
    older = make_message(customer=member, channel=ConsentChannel.SMS)
    last = make_message(customer=member, channel=ConsentChannel.SMS)
    email = make_message(customer=member, channel=ConsentChannel.EMAIL)
    reply({"from": "13900000001", "text": "退订"})
    for message in (older, last, email):
        message.refresh_from_db()
    assert (older.status, last.status, email.status) == (
        MessageStatus.SENT,
        MessageStatus.UNSUBSCRIBED,
        MessageStatus.SENT,
    )


def test_a_second_stop_changes_nothing_more(member):
    reply({"from": "13900000001", "text": "T"})
    assert reply({"from": "13900000001", "text": "T"}).json()["unsubscribed"] is False
    assert ConsentEvent.objects.filter(customer=member).count() == 1


@pytest.mark.parametrize("text", ["Thanks!", "TDD", "", "不要退订吗"])
def test_other_replies_change_nothing(member, text):
    before = snapshot()
    assert reply({"from": "13900000001", "text": text}).status_code == 200
    assert snapshot() == before


def test_an_unknown_number_changes_nothing(member):
    before = snapshot()
    assert reply({"from": "13900000009", "text": "TD"}).status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("secret", ["wrong", "", None])
def test_without_the_secret_the_reply_is_refused(member, secret):
    before = snapshot()
    assert reply({"from": "13900000001", "text": "TD"}, secret=secret).status_code == 403
    assert snapshot() == before


@override_settings(CRM_SMS_INBOUND_SECRET="")
def test_with_no_secret_configured_the_webhook_is_off(member):
    assert reply({"from": "13900000001", "text": "TD"}, secret="").status_code == 404
    member.refresh_from_db()
    assert member.sms_opt_in


def test_get_is_not_allowed():
    assert Client().get(URL).status_code == 405


@override_settings(CRM_SMS_INBOUND_FROM_FIELD="msisdn", CRM_SMS_INBOUND_TEXT_FIELD="content")
def test_the_field_names_follow_the_settings(member):
    reply({"msisdn": "8613900000001", "content": "STOP"})
    member.refresh_from_db()
    assert not member.sms_opt_in


@given(
    sender=st.one_of(hostile_text, st.just("13900000001"), st.integers(), st.none()),
    text=st.one_of(hostile_text, st.sampled_from(["T", "TD", "退订", "stop"]), st.integers(), st.none()),
    json_body=st.booleans(),
)
def test_any_reply_never_fails_and_only_a_members_stop_changes_anything(sender, text, json_body):
    with rolled_back():
        CustomerFactory(mobile="+8613900000001", sms_opt_in=True)
        before = snapshot()
        data = {"from": sender, "text": text}
        if not json_body:
            data = {k: "" if v is None else str(v) for k, v in data.items()}
        response = reply(data, json_body=json_body)
        assert response.status_code in (200, 400)  # 400: a NUL in a form body, refused at the edge
        if snapshot() != before:
            assert str(sender) == "13900000001" and isinstance(text, str) and sms_reply_is_stop(text)


@given(body=hostile_text)
def test_any_body_never_fails(body):
    with rolled_back():
        CustomerFactory(mobile="+8613900000001", sms_opt_in=True)
        before = snapshot()
        assert reply(body).status_code == 200
        assert snapshot() == before
