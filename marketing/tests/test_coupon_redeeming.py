"""Redeeming at the desk's purchase form and through the API's purchase endpoint."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.web.api.models import Scope
from crm.web.api.tests.conftest import integration  # noqa: F401 -- the API client fixture
from customers.tests.factories import CustomerFactory
from interactions.models import Transaction
from marketing.models import CouponOffer, CouponStatus
from marketing.services import coupon_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def coupon():
    offer = CouponOffer.objects.create(name="20 off", value=Decimal("20"), min_spend=Decimal("100"))
    return coupon_issue(offer=offer, customer=CustomerFactory(), actor=None)


def test_the_desk_records_a_purchase_with_a_coupon_and_says_what_it_took_off(service_client, coupon):
    url = reverse("interactions:purchase_record", args=[coupon.customer.crm_number])
    response = service_client.post(
        url, {"amount": "150", "channel": "store", "coupon_code": coupon.code_display}, follow=True
    )
    assert f"Coupon {coupon.code_display} took" in response.content.decode()
    tx = Transaction.objects.get()
    assert (tx.amount, tx.discount) == (Decimal("130.00"), Decimal("20.00"))
    page = service_client.get(coupon.customer.get_absolute_url() + "?tab=purchases").content.decode()
    assert "coupon −" in page


def test_the_desk_keeps_what_was_typed_when_the_coupon_is_refused(service_client, coupon):
    url = reverse("interactions:purchase_record", args=[coupon.customer.crm_number])
    response = service_client.post(url, {"amount": "80", "channel": "store", "coupon_code": coupon.code})
    page = response.content.decode()
    assert response.status_code == 400 and "This coupon needs a purchase of at least 100.00." in page
    assert 'value="80"' in page and f'value="{coupon.code}"' in page
    assert not Transaction.objects.exists()


def test_the_api_redeems_a_coupon_and_answers_price_discount_and_paid(integration, coupon):  # noqa: F811
    api = integration(Scope.TRANSACTIONS_WRITE)
    body = {"member": coupon.customer.crm_number_display, "external_ref": "W-1", "amount": "150.00"}
    response = api.post(reverse("api:transactions"), body | {"coupon_code": coupon.code})
    assert response.status_code == 201, response.json()
    assert {k: response.json()[k] for k in ("amount", "discount", "paid")} == {
        "amount": "150.00",
        "discount": "20.00",
        "paid": "130.00",
    }
    coupon.refresh_from_db()
    assert coupon.status == CouponStatus.REDEEMED
    again = api.post(reverse("api:transactions"), body | {"coupon_code": coupon.code})
    assert again.status_code == 200  # the same order retried: the stored purchase, nothing redeemed twice


def test_the_api_refuses_a_used_coupon_with_its_reason(integration, coupon):  # noqa: F811
    api = integration(Scope.TRANSACTIONS_WRITE)
    body = {"member": coupon.customer.crm_number_display, "amount": "150.00", "coupon_code": coupon.code}
    assert api.post(reverse("api:transactions"), body | {"external_ref": "W-1"}).status_code == 201
    response = api.post(reverse("api:transactions"), body | {"external_ref": "W-2"})
    assert response.status_code == 400
    assert "This coupon has already been used." in str(response.json())
    assert Transaction.objects.count() == 1
