"""Body size limits on the API and the webhooks: over the limit is a 413 in JSON before the body is read, and a
Content-Length that lies can neither get more read than it declares nor cause a 500; nothing is written either way."""

import base64
import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from crm.web.api.models import Scope
from customers.tests.factories import CustomerFactory
from tests.hostile import rolled_back, table_counts

pytestmark = pytest.mark.django_db

LIMIT = 1000
API_ENDPOINTS = ["api:members", "api:transactions", "api:interactions", "api:social_mention", "api:segments"]
SMS_URL = reverse("marketing:sms_inbound")
POSTMARK_URL = "/webhooks/anymail/postmark/tracking/"
WEBHOOK_HEADERS = {
    "HTTP_X_WEBHOOK_SECRET": "sms-inbound-test-secret",
    "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"anymail-test:webhook-secret").decode(),
}

oversize_body = st.one_of(
    st.binary(min_size=LIMIT + 1, max_size=3 * LIMIT),
    st.text(min_size=1, max_size=20).map(lambda s: json.dumps({"name": s * (LIMIT // len(s) + 1), "text": s})),
    st.integers(min_value=LIMIT, max_value=5 * LIMIT).map(lambda n: json.dumps({"events": [{"kind": "x"}] * n})),
)


@pytest.fixture
def api(integration):
    return integration(*Scope.values)


@pytest.fixture
def member():
    return CustomerFactory(mobile="+8613900000001", sms_opt_in=True)


def post(client: Client, url: str, body: str | bytes, **extra):
    return client.post(url, body, content_type="application/json", **extra)


@override_settings(API_MAX_BODY_BYTES=LIMIT, WEBHOOK_MAX_BODY_BYTES=LIMIT)
@given(body=oversize_body, target=st.sampled_from([*API_ENDPOINTS, "sms", "postmark"]))
def test_any_body_over_the_limit_is_413_json_and_writes_nothing(api, member, body, target):
    with rolled_back():
        before = table_counts()
        if target == "sms":
            response = post(Client(), SMS_URL, body, **WEBHOOK_HEADERS)
        elif target == "postmark":
            response = post(Client(), POSTMARK_URL, body, **WEBHOOK_HEADERS)
        else:
            response = post(api.client, reverse(target), body)
        assert response.status_code == 413, response.content
        assert response["Content-Type"] == "application/json"
        assert str(LIMIT) in response.json()["detail"]
        assert table_counts() == before
        member.refresh_from_db()
        assert member.sms_opt_in


@override_settings(API_MAX_BODY_BYTES=LIMIT)
def test_a_body_at_the_limit_is_read_and_one_byte_more_is_not(api):
    body = json.dumps({"name": "x", "mobile": "13900002222"})
    body = body[:-1] + " " * (LIMIT - len(body)) + "}"
    assert post(api.client, reverse("api:members"), body + " ").status_code == 413
    assert post(api.client, reverse("api:members"), body).status_code == 201


@override_settings(API_MAX_BODY_BYTES=LIMIT, WEBHOOK_MAX_BODY_BYTES=LIMIT)
@given(declared=st.integers(min_value=LIMIT + 1, max_value=2**62), target=st.sampled_from([*API_ENDPOINTS, "sms"]))
def test_a_content_length_over_the_limit_is_413_whatever_the_body(api, member, declared, target):
    """Refused on the declared length alone: a small body sent with a huge length is never waited for."""
    with rolled_back():
        before = table_counts()
        body = json.dumps({"from": "+8613900000001", "text": "TD", "name": "Small", "mobile": "13900003333"})
        if target == "sms":
            response = post(Client(), SMS_URL, body, CONTENT_LENGTH=str(declared), **WEBHOOK_HEADERS)
        else:
            response = post(api.client, reverse(target), body, CONTENT_LENGTH=str(declared))
        assert response.status_code == 413
        assert table_counts() == before
        member.refresh_from_db()
        assert member.sms_opt_in


@override_settings(API_MAX_BODY_BYTES=LIMIT, WEBHOOK_MAX_BODY_BYTES=LIMIT)
@given(declared=st.integers(min_value=0, max_value=LIMIT), target=st.sampled_from([*API_ENDPOINTS, "sms"]))
def test_a_content_length_shorter_than_the_body_is_all_that_is_read(api, member, declared, target):
    """A big body declared small is cut at the declared length (WSGI reads no further): a 4xx or, for the SMS
    webhook, its usual 200 for a body it cannot use; never more read, never a 500, nothing written."""
    with rolled_back():
        before = table_counts()
        body = json.dumps({"from": "+8613900000001", "text": "TD", "name": "Big " * 5000, "mobile": "13900004444"})
        if target == "sms":
            response = post(Client(), SMS_URL, body, CONTENT_LENGTH=str(declared), **WEBHOOK_HEADERS)
            assert response.status_code == 200 and response.json()["unsubscribed"] is False
        else:
            response = post(api.client, reverse(target), body, CONTENT_LENGTH=str(declared))
            assert 400 <= response.status_code < 500, response.content
        assert table_counts() == before
        member.refresh_from_db()
        assert member.sms_opt_in


@pytest.mark.parametrize("declared", ["abc", "-5", "1e9", " "])
def test_a_content_length_that_is_not_a_length_is_no_500(api, declared):
    before = table_counts()
    response = post(
        api.client, reverse("api:members"), '{"name": "x", "mobile": "13900005555"}', CONTENT_LENGTH=declared
    )
    assert 400 <= response.status_code < 500
    assert table_counts() == before


@override_settings(WEBHOOK_MAX_BODY_BYTES=LIMIT)
def test_a_webhook_body_within_the_limit_still_works(member):
    body = json.dumps({"from": "+8613900000001", "text": "TD"})
    response = post(Client(), SMS_URL, body, **WEBHOOK_HEADERS)
    assert response.status_code == 200 and response.json()["unsubscribed"] is True
    member.refresh_from_db()
    assert not member.sms_opt_in
