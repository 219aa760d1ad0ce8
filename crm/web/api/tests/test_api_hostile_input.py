"""Property tests, one per endpoint: whatever an integration sends, the answer is never a 5xx,
and an answer in the 4xx range is our JSON error and has written nothing.

Bodies are the endpoint's own fields, each plausible, hostile (NUL, control characters, huge
strings, extreme dates and numbers) or of the wrong JSON type, plus unknown keys; or any JSON
shape, deep nesting, broken JSON and raw bytes. Every example runs in a savepoint that is
rolled back, so examples do not see each other.
"""

import datetime
import json
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import event, given
from hypothesis import strategies as st

from crm.web.api.models import Scope
from customers.models import Gender, Source
from customers.tests.factories import CustomerFactory
from interactions.models import Channel, Direction, InteractionChannel, Outcome
from interactions.tests.factories import ProductFactory
from tests.hostile import deep_json, hostile_date, hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db

MOBILE = "+8613900001111"
EMAIL = "known@example.com"
SKU = "SKU-1"

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),  # NaN and Infinity included: json.dumps writes them, the parser must refuse them
    hostile_text,
    hostile_number,
    hostile_date,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)
hostile_datetime = st.one_of(
    hostile_date,
    st.tuples(
        hostile_date, st.sampled_from(["T00:00:00", "T23:59:59.999999", "T00:00:00+14:00", "T23:59-12:00", "Z"])
    ).map("".join),
    st.datetimes().map(datetime.datetime.isoformat),
    st.sampled_from(
        ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00Z", "9999-12-31T00:00:00+00:00"]
    ),
)
raw_body = st.one_of(
    st.integers(min_value=15, max_value=3000).map(deep_json),
    st.binary(max_size=200),
    st.sampled_from(
        [
            "",
            "{",
            '{"name":',
            "\ufeff{}",
            "null",
            "[]",
            '"\\u0000"',
            '{"member": "\\ud800"}',
            '{"name": "\\udfff", "email": "a@example.com"}',
            '{"amount": 1e999}',
            '{"amount": NaN}',
            "9" * 5000,
            '{"a": "' + '\\"' * 3000,
        ]
    ),
)


def _without_nul(value):
    """The same JSON with NUL taken out, so an example also reaches the fields behind the parser."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


DROP = object()


@st.composite
def hostile_bodies(draw, valid: dict, fields: dict[str, st.SearchStrategy]) -> dict:
    """A valid body with up to three fields made hostile, of the wrong type or dropped, and maybe an unknown key."""
    body = dict(valid)
    for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
        value = draw(st.one_of(fields[key], fields[key], hostile_text, json_value, st.just(DROP)))
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    body.update(draw(st.dictionaries(hostile_text, json_value, max_size=1)))
    return _without_nul(body) if draw(st.booleans()) else body


def payloads(valid: dict, fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy[str | bytes]:
    """Mostly a hostile version of a valid body; else any JSON at all, deep nesting, broken JSON or raw bytes."""
    body = hostile_bodies(valid, fields).map(json.dumps)
    return st.one_of(body, body, body, json_value.map(json.dumps), raw_body)


def member_values(number: str) -> st.SearchStrategy:
    return st.one_of(
        st.just(number),
        st.just(int(number)),
        st.just(f"{number[:-4]}-{number[-4:]}"),
        hostile_text,
        hostile_number,
    )


def path_values(number: str) -> st.SearchStrategy[str]:
    """A path segment: mostly the real number, else hostile text; never empty or with a slash (routed elsewhere)."""
    return st.one_of(st.just(number), st.just(number), hostile_text, hostile_number).map(
        lambda s: s.replace("/", "") or "x"
    )


def assert_safe(send):
    """Send inside a rolled-back savepoint: no 5xx; a 4xx is our JSON error shape and wrote nothing."""
    with rolled_back():
        before = table_counts()
        response = send()
        event(f"status {response.status_code}")  # pytest --hypothesis-show-statistics: what the examples reached
        assert response.status_code < 500, response.content[:500]
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/json", response.content[:500]
            assert response.json()["detail"]
            assert table_counts() == before


@pytest.fixture
def api(integration):
    return integration(*Scope.values)


@pytest.fixture
def member(api):
    """A member with a known phone and e-mail, and a purchase, an interaction and a mention already posted,
    so that repeats (200) and reused references (409) are reachable too."""
    ProductFactory(sku=SKU, price="10.00")
    customer = CustomerFactory(mobile=MOBILE, email=EMAIL)
    for route, body in [
        ("api:transactions", {"member": customer.crm_number, "external_ref": "ORDER-1", "amount": "10.00"}),
        (
            "api:interactions",
            {"member": customer.crm_number, "channel": "phone", "subject": "Call", "external_ref": "CALL-1"},
        ),
        (
            "api:social_mention",
            {"platform": "weibo", "text": "Hi", "phone": MOBILE, "handle": "@known", "external_id": "post-1"},
        ),
    ]:
        assert api.post(reverse(route), body).status_code == 201
    return customer


def member_fields() -> dict[str, st.SearchStrategy]:
    return {
        "name": hostile_text,
        "mobile": st.one_of(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.just("138 0000 1111"), hostile_number),
        "email": st.one_of(st.emails(), st.just(EMAIL.upper())),
        "birthday": st.one_of(hostile_date, st.none()),
        "gender": st.sampled_from(Gender.values),
        "source": st.sampled_from(Source.values),
        "email_opt_in": st.one_of(st.booleans(), st.sampled_from(["yes", "0", 2])),
        "sms_opt_in": st.booleans(),
    }


@given(data=st.data())
def test_member_sign_up_never_fails_on_hostile_bodies(api, member, data):
    valid = {"name": "王芳", "mobile": "13812345678", "email": "wang.fang@example.com"}
    body = data.draw(payloads(valid, member_fields()))
    assert_safe(lambda: api.post(reverse("api:members"), raw=body))


@given(data=st.data())
def test_member_update_never_fails_on_hostile_bodies_or_paths(api, member, data):
    number = data.draw(path_values(str(member.crm_number)))
    body = data.draw(payloads({"name": "New Name", "sms_opt_in": True}, member_fields()))
    assert_safe(lambda: api.patch(f"/api/v1/members/{quote(number, safe='')}/", raw=body))


@given(number=st.one_of(hostile_text, hostile_number).map(lambda s: s.replace("/", "") or "x"))
def test_member_lookup_never_fails_on_hostile_paths(api, member, number):
    assert_safe(lambda: api.get(f"/api/v1/members/{quote(number, safe='')}/"))


query_values = st.one_of(hostile_text, hostile_number, st.lists(hostile_text, min_size=2, max_size=3))


@given(
    phone=st.one_of(st.just(MOBILE), st.just("139 0000 1111"), query_values),
    extra=st.dictionaries(hostile_text, query_values, max_size=2),
)
def test_member_by_phone_never_fails_on_hostile_query_strings(api, member, phone, extra):
    assert_safe(lambda: api.get(reverse("api:member_by_phone"), {**extra, "phone": phone}))


@given(data=st.data())
def test_recording_a_purchase_never_fails_on_hostile_bodies(api, member, data):
    line = st.fixed_dictionaries(
        {},
        optional={
            "sku": st.one_of(st.just(SKU), hostile_text),
            "description": hostile_text,
            "quantity": st.one_of(st.integers(), hostile_number),
            "unit_price": st.one_of(st.decimals(allow_nan=False).map(str), hostile_number),
        },
    )
    fields = {
        "member": member_values(str(member.crm_number)),
        "external_ref": st.one_of(st.just("ORDER-1"), hostile_text),
        "amount": st.one_of(st.decimals(places=2, allow_nan=False, allow_infinity=False).map(str), hostile_number),
        "currency": st.one_of(st.just("CNY"), hostile_text),
        "occurred_at": hostile_datetime,
        "channel": st.sampled_from(Channel.values),
        "store": hostile_text,
        "coupon_code": hostile_text,
        "lines": st.lists(line, max_size=3),
    }
    valid = {
        "member": str(member.crm_number),
        "external_ref": "ORDER-2",
        "amount": "20.00",
        "lines": [{"sku": SKU, "quantity": 2}],
    }
    body = data.draw(payloads(valid, fields))
    assert_safe(lambda: api.post(reverse("api:transactions"), raw=body))


@given(data=st.data())
def test_logging_an_interaction_never_fails_on_hostile_bodies(api, member, data):
    fields = {
        "member": member_values(str(member.crm_number)),
        "channel": st.sampled_from(InteractionChannel.values),
        "direction": st.sampled_from(Direction.values),
        "subject": hostile_text,
        "notes": hostile_text,
        "outcome": st.sampled_from(Outcome.values),
        "occurred_at": hostile_datetime,
        "satisfaction": st.one_of(st.integers(), hostile_number, st.none()),
        "follow_up_on": st.one_of(hostile_date, st.none()),
        "external_ref": st.one_of(st.just("CALL-1"), hostile_text),
        "external_url": st.one_of(st.just("https://example.com/call/1"), hostile_text),
    }
    valid = {"member": member.crm_number_display, "channel": "chat", "subject": "Question", "external_ref": "CHAT-2"}
    body = data.draw(payloads(valid, fields))
    assert_safe(lambda: api.post(reverse("api:interactions"), raw=body))


@given(data=st.data())
def test_the_social_mention_webhook_never_fails_on_hostile_bodies(api, member, data):
    fields = {
        "platform": st.one_of(st.sampled_from(["weibo", "wechat"]), hostile_text),
        "text": hostile_text,
        "handle": st.one_of(st.just("@known"), hostile_text),
        "author_name": hostile_text,
        "phone": st.one_of(st.just(MOBILE), hostile_number),
        "email": st.one_of(st.just(EMAIL), st.emails()),
        "url": st.one_of(st.just("https://weibo.com/1/2"), hostile_text),
        "external_id": st.one_of(st.just("post-1"), hostile_text),
        "posted_at": hostile_datetime,
    }
    valid = {"platform": "douyin", "text": "Great service", "email": EMAIL, "external_id": "post-2"}
    body = data.draw(payloads(valid, fields))
    assert_safe(lambda: api.post(reverse("api:social_mention"), raw=body))


header_text = st.text(st.characters(max_codepoint=0xFF), max_size=80)


@given(
    route=st.sampled_from(["api:members", "api:transactions", "api:interactions", "api:social_mention"]),
    authorization=st.one_of(header_text, header_text.map("Bearer ".__add__), st.just("Bearer crm_\x00")),
)
def test_hostile_authorization_headers_are_401_never_5xx(route, authorization):
    with rolled_back():
        before = table_counts()
        response = Client().post(
            reverse(route), json.dumps({"name": "x"}), content_type="application/json", HTTP_AUTHORIZATION=authorization
        )
        assert response.status_code == 401, response.content[:500]
        assert response.json()["detail"]
        assert table_counts() == before


schema_params = st.sampled_from(["format", "lang", "version"]) | hostile_text


@given(query=st.dictionaries(schema_params, query_values, max_size=3))
def test_the_schema_never_fails_on_hostile_query_strings(api, query):
    with rolled_back():
        response = api.get(reverse("api:schema"), query)
        assert response.status_code < 500, response.content[:500]


def test_a_line_break_in_the_schema_version_parameter_is_not_a_500(api):
    response = api.get(reverse("api:schema"), {"version": "1\nX-Injected: yes"})
    assert response.status_code == 200


@given(
    route=st.sampled_from(["api:docs", "api:redoc"]),
    query=st.dictionaries(hostile_text, query_values, max_size=3),
)
def test_the_api_docs_never_fail_on_hostile_query_strings(login_as, admin_user, route, query):
    client = login_as(admin_user)
    with rolled_back():
        response = client.get(reverse(route), query)
        assert response.status_code < 500, response.content[:500]
