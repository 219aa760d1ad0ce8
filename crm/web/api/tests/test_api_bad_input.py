"""Whatever an outside system sends, the answer is a 4xx with reasons, never a 500."""

import http.client
import json
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.test import override_settings
from django.urls import reverse

from crm.web.api import services
from crm.web.api.errors import exception_handler
from crm.web.api.models import Scope
from crm.web.api.parsers import MAX_JSON_DEPTH
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from interactions.models import Transaction
from tests.hostile import deep_json, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(integration):
    return integration(Scope.MEMBERS_WRITE, Scope.TRANSACTIONS_WRITE, Scope.LOOKUP)


def test_malformed_json_is_400(api):
    response = api.post(reverse("api:members"), raw='{"name": "x",')
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_a_json_list_instead_of_an_object_is_400(api):
    response = api.post(reverse("api:members"), raw="[1, 2]")
    assert response.status_code == 400
    assert response.json()["errors"]


def test_wrong_types_get_a_reason_per_field(api):
    customer = CustomerFactory()
    response = api.post(
        reverse("api:transactions"),
        {
            "member": customer.crm_number,
            "external_ref": ["not", "a", "string"],
            "amount": "lots",
            "occurred_at": "yesterday",
            "channel": "fax",
            "lines": "none",
        },
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"external_ref", "amount", "occurred_at", "channel", "lines"}
    response = api.post(reverse("api:members"), {"name": {"first": "x"}, "birthday": 12, "email_opt_in": "maybe"})
    assert response.status_code == 400
    assert {"name", "birthday", "email_opt_in"} <= set(response.json()["errors"])


def test_missing_fields_are_named(api):
    response = api.post(reverse("api:transactions"), {})
    assert response.status_code == 400
    assert {"member", "external_ref", "amount"} <= set(response.json()["errors"])
    response = api.post(reverse("api:members"), {})
    assert "name" in response.json()["errors"]


def test_unknown_crm_number_and_bad_check_digit(api):
    response = api.post(reverse("api:transactions"), {"member": "1000-0018", "external_ref": "A", "amount": "5"})
    assert response.status_code == 400
    assert "check digit" in response.json()["errors"]["member"][0]
    response = api.get(reverse("api:member", args=["1000-0018"]))
    assert response.status_code == 400


@override_settings(API_MAX_BODY_BYTES=1000)
def test_an_oversized_body_is_413(api):
    response = api.post(reverse("api:members"), {"name": "x" * 2000, "email": "big@example.com"})
    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    assert not Customer.objects.exists()


def test_too_long_values_are_400_not_database_errors(api):
    customer = CustomerFactory()
    response = api.post(
        reverse("api:transactions"), {"member": customer.crm_number, "external_ref": "R" * 65, "amount": "1"}
    )
    assert response.status_code == 400
    assert "external_ref" in response.json()["errors"]
    response = api.post(reverse("api:members"), {"name": "x" * 101, "email": "long@example.com"})
    assert response.status_code == 400
    assert not Transaction.objects.exists()


def test_form_encoded_bodies_are_415(api):
    response = api.client.post(reverse("api:members"), {"name": "x"})
    assert response.status_code == 415


# Issue 7, point 5: text the database cannot hold is refused at the edge, in the parser, naming the field.


def test_a_nul_byte_in_a_json_value_is_400_naming_the_field(api):
    customer = CustomerFactory()
    body = {"member": f"{customer.crm_number_display}\x00", "external_ref": "NUL-1", "amount": "5"}
    response = api.post(reverse("api:transactions"), body)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert "NUL" in response.json()["errors"]["member"][0]
    assert not Transaction.objects.exists()


def test_a_nul_byte_in_a_key_or_deep_inside_a_value_is_400(api):
    customer = CustomerFactory()
    order = {"member": customer.crm_number, "external_ref": "NUL-2", "amount": "5"}
    response = api.post(reverse("api:transactions"), {**order, "lines": [{"sku": "A\x00"}]})
    assert "NUL" in response.json()["errors"]["lines"][0]
    response = api.post(reverse("api:transactions"), {**order, "note\x00": "x"})
    assert "NUL" in response.json()["errors"]["non_field_errors"][0]
    response = api.post(reverse("api:members"), {"name": "Nul", "email": "nul@example.com", "x": {"y\x00": 1}})
    assert response.status_code == 400
    assert "x" in response.json()["errors"]
    assert not Transaction.objects.exists()
    assert Customer.objects.count() == 1


def test_an_unpaired_surrogate_escape_is_400_not_an_encoding_error(api):
    raw = json.dumps({"member": "SURROGATE", "external_ref": "S-1", "amount": "5"}).replace("SURROGATE", "\\ud800")
    response = api.post(reverse("api:transactions"), raw=raw)
    assert response.status_code == 400
    assert "member" in response.json()["errors"]
    # A properly paired escape is ordinary text.
    response = api.post(reverse("api:members"), raw='{"name": "\\ud83d\\ude00 Smile", "email": "smile@example.com"}')
    assert response.status_code == 201
    assert response.json()["name"] == "\U0001f600 Smile"


def test_control_characters_in_a_crm_number_are_400_in_the_body_and_in_the_path(api):
    customer = CustomerFactory()
    number = f"{customer.crm_number_display}\x01"
    response = api.post(reverse("api:transactions"), {"member": number, "external_ref": "CC-1", "amount": "5"})
    assert response.status_code == 400
    assert "member" in response.json()["errors"]
    response = api.get(reverse("api:member", args=[number]))
    assert response.status_code == 400
    assert "crm_number" in response.json()["errors"]
    # Whitespace inside still separates digit groups, as a person copying a number may type it.
    response = api.get(reverse("api:member", args=[str(customer.crm_number).replace("0", "0\t", 1)]))
    assert response.status_code == 200


@pytest.mark.parametrize("phone", ["\x00", "138\x001234\x005678", "\x01\x02", "1e309"])
def test_hostile_phone_query_parameters_are_400(api, phone):
    response = api.get(reverse("api:member_by_phone"), {"phone": phone})
    assert response.status_code == 400
    assert response.json()["detail"]


# Issue 7, point 6: nesting is limited before decoding.

DEEP_ENDPOINTS = ["api:members", "api:transactions", "api:interactions", "api:social_mention"]


@pytest.mark.parametrize("name", DEEP_ENDPOINTS)
def test_deeply_nested_json_is_400(integration, name):
    api = integration(*Scope.values)
    response = api.post(reverse(name), raw=deep_json(5000))
    assert response.status_code == 400
    assert str(MAX_JSON_DEPTH) in response.json()["detail"]


def test_deeply_nested_json_in_an_update_is_400(api):
    customer = CustomerFactory(name="Before")
    response = api.patch(reverse("api:member", args=[customer.crm_number]), raw='{"name": ' + "[" * 5000)
    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.name == "Before"


def test_nesting_up_to_the_limit_is_decoded_and_brackets_in_strings_do_not_count(api):
    within = '{"name": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    response = api.post(reverse("api:members"), raw=within)
    assert response.status_code == 400
    assert "name" in response.json()["errors"]  # reached the serializer: a list is not a name
    response = api.post(reverse("api:members"), {"name": "[" * 500 + "{" * 500, "email": "brackets@example.com"})
    assert response.status_code == 400  # too long a name, but decoded
    assert "name" in response.json()["errors"]


# Issue 7, point 12: every oversized body is our 413, also past Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).

TWENTY_MB = 20 * 1024 * 1024


def huge_body() -> str:
    return json.dumps({"name": "x" * TWENTY_MB, "email": "huge@example.com", "member": "1", "text": "t"})


@pytest.mark.parametrize("name", DEEP_ENDPOINTS)
def test_a_20_mb_body_is_413_json_with_nothing_written(integration, name):
    api = integration(*Scope.values)
    before = table_counts()
    response = api.post(reverse(name), raw=huge_body())
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert str(settings.API_MAX_BODY_BYTES) in response.json()["detail"]
    assert table_counts() == before


def test_a_20_mb_update_is_413_json(api):
    customer = CustomerFactory(name="Before")
    response = api.patch(reverse("api:member", args=[customer.crm_number]), raw=huge_body())
    assert response.status_code == 413
    assert response.json()["detail"]
    customer.refresh_from_db()
    assert customer.name == "Before"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_the_api_limit_alone_decides_not_djangos_form_limit(api):
    response = api.post(reverse("api:members"), {"name": "L" * 100, "email": "long.enough@example.com"})
    assert response.status_code == 201, response.content


def test_djangos_request_data_too_big_is_also_our_413():
    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert str(settings.API_MAX_BODY_BYTES) in response.data["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_20_mb_body_is_413_json_from_a_real_server(live_server):
    """The test client passes the body as a file; a real server reads a socket: check both."""
    _, token = services.api_client_create(name="live", scopes=[Scope.MEMBERS_WRITE])
    url = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection.request("POST", reverse("api:members"), body=huge_body().encode(), headers=headers)
    response = connection.getresponse()
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/json"
    assert "detail" in json.loads(response.read())
    connection.close()
    assert not Customer.objects.exists()


# The class of issue 7, point 11, in the API: every date from outside is bounded (crm.web.api.fields.EARLIEST/LATEST).

EXTREME_DATES = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31T00:00+00:00"]


@pytest.mark.parametrize("when", EXTREME_DATES)
def test_extreme_dates_are_400_naming_the_field_on_every_endpoint(integration, when):
    api = integration(*Scope.values)
    customer = CustomerFactory()
    before = table_counts()
    for route, body, field in [
        ("api:transactions", {"member": customer.crm_number, "external_ref": "D", "amount": "1"}, "occurred_at"),
        ("api:interactions", {"member": customer.crm_number, "channel": "phone", "subject": "s"}, "occurred_at"),
        ("api:interactions", {"member": customer.crm_number, "channel": "phone", "subject": "s"}, "follow_up_on"),
        ("api:social_mention", {"platform": "weibo", "text": "t"}, "posted_at"),
    ]:
        value = when[:10] if field == "follow_up_on" else when
        response = api.post(reverse(route), {**body, field: value})
        assert response.status_code == 400, (route, field, response.content)
        assert field in response.json()["errors"]
    assert table_counts() == before


def test_dates_within_the_bounds_are_accepted(integration):
    api = integration(*Scope.values)
    customer = CustomerFactory()
    body = {"member": customer.crm_number, "external_ref": "OLD", "amount": "1", "occurred_at": "1900-01-01T12:00"}
    assert api.post(reverse("api:transactions"), body).status_code == 201
    body = {"platform": "weibo", "text": "t", "posted_at": "2100-12-31T12:00:00+08:00"}
    assert api.post(reverse("api:social_mention"), body).status_code == 202


def test_a_superscript_digit_in_a_crm_number_is_400(api):
    response = api.post(reverse("api:transactions"), {"member": "123456²", "external_ref": "SUP", "amount": "1"})
    assert response.status_code == 400


def test_a_chunked_body_without_a_length_is_411_not_an_empty_body(api):
    response = api.client.post(
        reverse("api:members"),
        '{"name": "x", "mobile": "13900007777"}',
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411 and "Content-Length" in response.json()["detail"]
    assert not Customer.objects.exists()
