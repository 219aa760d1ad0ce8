from decimal import Decimal

import pytest
from django.urls import reverse

from crm.web.api.models import Scope
from customers.tests.factories import CustomerFactory
from interactions.models import Transaction, TransactionSource
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory()


def order(customer, **overrides):
    return {
        "member": customer.crm_number_display,
        "external_ref": "SHOP-1001",
        "amount": "258.00",
        "channel": "online",
        "occurred_at": "2026-11-01T10:30:00+08:00",
        **overrides,
    }


def test_posting_an_order_records_a_purchase_from_the_api_with_points(integration, customer):
    product = ProductFactory(sku="TEA-01", price=Decimal("129.00"))
    response = integration(Scope.TRANSACTIONS_WRITE).post(
        reverse("api:transactions"), order(customer, lines=[{"sku": "TEA-01", "quantity": 2}])
    )
    assert response.status_code == 201, response.json()
    tx = Transaction.objects.get()
    assert (tx.source, tx.external_ref, tx.customer, tx.amount) == (
        TransactionSource.API,
        "SHOP-1001",
        customer,
        Decimal("258.00"),
    )
    assert tx.lines.get().product == product
    assert response.json()["points_earned"] == tx.points_earned == 258
    customer.refresh_from_db()
    assert customer.points_balance == 258


def test_the_same_order_posted_twice_is_stored_once_and_answered_200(integration, customer):
    api = integration(Scope.TRANSACTIONS_WRITE)
    first = api.post(reverse("api:transactions"), order(customer))
    again = api.post(reverse("api:transactions"), order(customer))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Transaction.objects.count() == 1
    customer.refresh_from_db()
    assert customer.points_balance == 258


def test_an_order_number_reused_for_another_amount_is_409(integration, customer):
    api = integration(Scope.TRANSACTIONS_WRITE)
    api.post(reverse("api:transactions"), order(customer))
    response = api.post(reverse("api:transactions"), order(customer, amount="1.00"))
    assert response.status_code == 409
    assert "amount" in response.json()["errors"]
    assert Transaction.objects.count() == 1


def test_an_order_number_reused_for_another_member_is_409_naming_the_stored_order(integration, customer):
    api = integration(Scope.TRANSACTIONS_WRITE)
    first = api.post(reverse("api:transactions"), order(customer)).json()
    response = api.post(reverse("api:transactions"), order(CustomerFactory()))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Conflicts with existing data.",
        "errors": {"member": ["This order was recorded for another member."]},
        "existing_id": first["id"],
    }


def test_the_same_order_number_from_staff_entry_does_not_block_the_api(integration, customer):
    from interactions.tests.factories import TransactionFactory

    TransactionFactory(customer=customer, source=TransactionSource.IMPORT, external_ref="SHOP-1001")
    response = integration(Scope.TRANSACTIONS_WRITE).post(reverse("api:transactions"), order(customer))
    assert response.status_code == 201


def test_unknown_member_and_bad_check_digit_are_400_with_reasons(integration, customer):
    api = integration(Scope.TRANSACTIONS_WRITE)
    digits = str(customer.crm_number)
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    response = api.post(reverse("api:transactions"), order(customer, member=wrong))
    assert response.status_code == 400
    assert "check digit" in response.json()["errors"]["member"][0]
    response = api.post(reverse("api:transactions"), order(customer, member="legacy-404"))
    assert response.status_code == 400
    assert "No member" in response.json()["errors"]["member"][0]
    assert not Transaction.objects.exists()


def test_unknown_sku_and_zero_amount_are_400(integration, customer):
    api = integration(Scope.TRANSACTIONS_WRITE)
    response = api.post(reverse("api:transactions"), order(customer, lines=[{"sku": "NOPE"}]))
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]["lines"]["0"]
    response = api.post(reverse("api:transactions"), order(customer, amount="0"))
    assert response.status_code == 400
    assert "amount" in response.json()["errors"]


def test_posting_without_the_scope_is_403(integration, customer):
    response = integration(Scope.LOOKUP, Scope.MEMBERS_WRITE).post(reverse("api:transactions"), order(customer))
    assert response.status_code == 403
    assert not Transaction.objects.exists()


def test_revoked_or_missing_token_is_401(integration, anonymous_api, customer):
    from crm.web.api import services

    assert anonymous_api.post(reverse("api:transactions"), order(customer)).status_code == 401
    api = integration(Scope.TRANSACTIONS_WRITE)
    services.api_client_revoke(client=api.api_client)
    assert api.post(reverse("api:transactions"), order(customer)).status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_wrong_methods_are_405(integration, method):
    assert getattr(integration(Scope.TRANSACTIONS_WRITE), method)(reverse("api:transactions")).status_code == 405
