"""Whatever an outside system sends, the answer is a 4xx with reasons, never a 500."""

import pytest
from django.test import override_settings
from django.urls import reverse

from crm.api.models import Scope
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from interactions.models import Transaction

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
