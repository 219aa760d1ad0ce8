"""Rate limits: per token, per address without a valid token, per source on the webhooks; open when Redis is down.

The counters live in the cache across tests, so each test calls from an address of its own and uses fresh tokens.
"""

import json
import logging
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from hypothesis import given

from crm.lib.ratelimit import Rate, parse_rate
from crm.web.api import services
from crm.web.api.models import Scope
from crm.web.api.tests.conftest import ApiHttp
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from interactions.models import Interaction
from tests.hostile import hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db

SMS_URL = reverse("marketing:sms_inbound")
SMS_SECRET = "sms-inbound-test-secret"
POSTMARK_URL = "/webhooks/anymail/postmark/tracking/"
CLOSED_PORT = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def fresh_address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


def http(token: str | None, address: str) -> ApiHttp:
    api = ApiHttp(token)
    api.client.defaults["REMOTE_ADDR"] = address
    return api


def assert_throttled(response, *, window: int = 60) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/json"
    assert 1 <= int(response["Retry-After"]) <= window
    assert response.json()["detail"]


@override_settings(API_RATE="2/min")
def test_a_token_over_its_rate_is_429_with_retry_after_and_nothing_written(integration):
    api = integration(Scope.MEMBERS_WRITE)
    for n in range(2):
        assert api.post(reverse("api:members"), {"name": f"M{n}", "mobile": f"1390000100{n}"}).status_code == 201
    response = api.post(reverse("api:members"), {"name": "M3", "mobile": "13900001003"})
    assert_throttled(response)
    assert Customer.objects.count() == 2


@override_settings(API_RATE="1/min")
def test_tokens_are_counted_apart(integration):
    member_url = reverse("api:member", args=[CustomerFactory().crm_number])
    first, second = integration(Scope.LOOKUP, name="first"), integration(Scope.LOOKUP, name="second")
    assert first.get(member_url).status_code == 200
    assert_throttled(first.get(member_url))
    assert second.get(member_url).status_code == 200


@override_settings(API_RATE="1/min")
def test_a_token_may_have_a_rate_of_its_own(integration):
    member_url = reverse("api:member", args=[CustomerFactory().crm_number])
    api = integration(Scope.LOOKUP)
    services.api_client_update(
        client=api.api_client, name=api.api_client.name, scopes=[Scope.LOOKUP], active=True, rate_limit="3/hour"
    )
    assert [api.get(member_url).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert_throttled(api.get(member_url), window=3600)


@pytest.mark.parametrize("rate", ["lots", "10/fortnight", "0/min", "/min", "10 per minute"])
def test_a_token_rate_that_is_not_a_rate_is_refused(rate):
    with pytest.raises(ValidationError) as refused:
        services.api_client_create(name="Shop", scopes=[Scope.LOOKUP], rate_limit=rate)
    assert "rate_limit" in refused.value.message_dict
    assert not services.ApiClient.objects.exists()


@pytest.mark.parametrize(
    ("text", "rate"),
    [("600/min", Rate(600, 60)), ("10/s", Rate(10, 1)), ("5000/hour", Rate(5000, 3600)), ("100/5min", Rate(100, 300))],
)
def test_rates_are_read_as_requests_per_period(text, rate):
    assert parse_rate(text) == rate
    assert parse_rate("") is None


@override_settings(API_RATE_ANONYMOUS="2/min")
@pytest.mark.parametrize("token", [None, "crm_guessed", "garbage"])
def test_calls_without_a_valid_token_are_counted_per_address(token):
    address = fresh_address()
    url = reverse("api:members")
    assert [http(token, address).post(url, {"name": "x"}).status_code for _ in range(2)] == [401, 401]
    assert_throttled(http(token, address).post(url, {"name": "x"}))
    assert http(token, fresh_address()).post(url, {"name": "x"}).status_code == 401
    assert not Customer.objects.exists()


@override_settings(API_RATE_ANONYMOUS="1/min", CRM_TRUSTED_PROXIES=1)
def test_behind_a_proxy_the_address_it_saw_counts_not_what_the_caller_wrote():
    address, proxy = fresh_address(), fresh_address()
    url = reverse("api:rewards")
    first = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {address}").get(url)
    second = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"2.2.2.2, {address}").get(url)
    assert first.status_code == 401
    assert_throttled(second)


@override_settings(API_RATE="1/min", API_RATE_ANONYMOUS="1/min")
def test_a_valid_tokens_calls_do_not_use_up_its_addresss_anonymous_allowance(integration):
    api = integration(Scope.LOOKUP)
    api.client.defaults["REMOTE_ADDR"] = address = fresh_address()
    assert api.get(reverse("api:rewards")).status_code == 200
    assert http(None, address).get(reverse("api:rewards")).status_code == 401


@override_settings(API_RATE="1/min", WEBHOOK_RATE="2/min")
def test_the_mention_webhook_has_its_own_rate_per_token(integration):
    api = integration(Scope.MENTIONS_WRITE, Scope.LOOKUP)
    url = reverse("api:social_mention")
    codes = [api.post(url, {"platform": "weibo", "text": f"post {n}"}).status_code for n in range(2)]
    assert codes == [202, 202]
    assert_throttled(api.post(url, {"platform": "weibo", "text": "post 3"}))
    # The token's other calls are counted apart.
    assert api.get(reverse("api:rewards")).status_code == 200


@override_settings(WEBHOOK_RATE="2/min")
def test_the_sms_webhook_is_limited_per_source_address():
    address = fresh_address()
    member = CustomerFactory(mobile="+8613900000001", sms_opt_in=True)

    def reply(source: str):
        body = json.dumps({"from": "+8613900000001", "text": "TD"})
        return Client(REMOTE_ADDR=source).post(
            SMS_URL, body, content_type="application/json", HTTP_X_WEBHOOK_SECRET=SMS_SECRET
        )

    assert [reply(address).status_code for _ in range(2)] == [200, 200]
    member.sms_opt_in = True
    member.save(update_fields=["sms_opt_in"])
    assert_throttled(reply(address))
    member.refresh_from_db()
    assert member.sms_opt_in  # the refused reply changed nothing
    assert reply(fresh_address()).status_code == 200


@override_settings(WEBHOOK_RATE="1/min")
def test_the_e_mail_providers_webhooks_are_limited_per_source_address():
    address = fresh_address()
    first = Client(REMOTE_ADDR=address).post(POSTMARK_URL, "{}", content_type="application/json")
    assert first.status_code != 429
    assert_throttled(Client(REMOTE_ADDR=address).post(POSTMARK_URL, "{}", content_type="application/json"))


@override_settings(CACHES=CLOSED_PORT, API_RATE="1/min", API_RATE_ANONYMOUS="1/min", WEBHOOK_RATE="1/min")
def test_with_the_cache_down_the_api_and_webhooks_answer_and_the_log_says_why(integration, caplog):
    """override_settings(CACHES=...) resets the cache connections: the cache now points at a closed port."""
    api = integration(Scope.LOOKUP, Scope.INTERACTIONS_WRITE)
    member = CustomerFactory()
    with caplog.at_level(logging.WARNING, logger="crm.lib.ratelimit"):
        for _ in range(3):
            assert api.get(reverse("api:member", args=[member.crm_number])).status_code == 200
            assert http(None, "10.0.0.1").get(reverse("api:rewards")).status_code == 401
        body = {"member": member.crm_number, "channel": "phone", "subject": "Called"}
        assert api.post(reverse("api:interactions"), body).status_code == 201
        body = json.dumps({"from": "+8613900000009", "text": "hello"})
        sms = Client().post(SMS_URL, body, content_type="application/json", HTTP_X_WEBHOOK_SECRET=SMS_SECRET)
        assert sms.status_code == 200
    assert Interaction.objects.filter(customer=member).count() == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "crm.lib.ratelimit"]
    assert warnings and "cache unreachable" in warnings[0].getMessage()


@override_settings(API_RATE_ANONYMOUS="3/min", CRM_TRUSTED_PROXIES=2)
@given(authorization=hostile_text, forwarded=hostile_text)
def test_any_authorization_and_forwarded_for_header_is_a_401_or_429_and_writes_nothing(authorization, forwarded):
    with rolled_back():
        before = table_counts()
        # As a WSGI server hands headers over: their bytes (here UTF-8) each read as one latin-1 character.
        headers = {
            "HTTP_AUTHORIZATION": authorization.encode().decode("latin-1"),
            "HTTP_X_FORWARDED_FOR": forwarded.encode().decode("latin-1"),
        }
        response = Client(REMOTE_ADDR=fresh_address()).post(
            reverse("api:members"), '{"name": "x", "mobile": "13900006666"}', content_type="application/json", **headers
        )
        assert response.status_code in (401, 429), response.content
        assert table_counts() == before


def test_the_command_gives_a_client_its_own_rate(capsys):
    call_command("api_client_create", "ERP", "--scope", "lookup", "--rate", "50/s")
    assert services.api_client_for_token(token=capsys.readouterr().out.strip()).rate_limit == "50/s"
