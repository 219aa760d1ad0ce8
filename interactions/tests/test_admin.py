from decimal import Decimal

import pytest
from django.urls import reverse

from customers.services import membership
from customers.tests.factories import CustomerFactory
from interactions import services
from interactions.models import Product
from interactions.services import LineInput
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user, login_as):
    return login_as(admin_user)


@pytest.fixture
def purchase():
    customer = CustomerFactory()
    tx = services.transaction_record(
        customer=customer, amount=Decimal("120"), lines=[LineInput(product=ProductFactory(name="保温杯"))]
    )
    membership.points_redeem(customer=customer, points=20, reason="Voucher")
    return tx


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:interactions_product_changelist",
        "admin:interactions_transaction_changelist",
        "admin:customers_pointsentry_changelist",
        "admin:customers_tierchange_changelist",
    ],
)
def test_admin_lists_of_purchases_products_and_ledgers_open(admin_client, purchase, url_name):
    assert admin_client.get(reverse(url_name)).status_code == 200


def test_a_purchase_is_read_only_in_admin_with_its_lines(admin_client, purchase):
    body = admin_client.get(reverse("admin:interactions_transaction_change", args=[purchase.pk])).content.decode()
    assert "保温杯" in body
    assert 'name="amount"' not in body


@pytest.mark.parametrize(
    "url_name",
    ["admin:interactions_transaction_add", "admin:customers_pointsentry_add", "admin:customers_tierchange_add"],
)
def test_ledgers_cannot_be_added_to_by_hand_in_admin(admin_client, url_name):
    assert admin_client.get(reverse(url_name)).status_code == 403


def test_products_can_be_searched_by_sku(admin_client):
    ProductFactory(sku="MUG-7", name="马克杯")
    body = admin_client.get(reverse("admin:interactions_product_changelist"), {"q": "MUG-7"}).content.decode()
    assert "马克杯" in body


def test_admin_adds_and_edits_products_through_the_service(admin_client):
    response = admin_client.post(
        reverse("admin:interactions_product_add"), {"sku": "CUP-1", "name": "茶杯", "price": "39.00", "active": "on"}
    )
    assert response.status_code == 302
    product = Product.objects.get(sku="CUP-1")
    admin_client.post(
        reverse("admin:interactions_product_change", args=[product.pk]),
        {"sku": "CUP-2", "name": "茶杯", "price": "-1", "active": "on"},
    )
    product.refresh_from_db()
    assert (product.sku, product.price) == ("CUP-1", Decimal("39.00"))  # a negative price is refused
    admin_client.post(
        reverse("admin:interactions_product_change", args=[product.pk]),
        {"sku": "CUP-2", "name": "茶杯", "price": "45", "active": "on"},
    )
    assert Product.objects.get(pk=product.pk).sku == "CUP-2"
    assert Product.objects.count() == 1
