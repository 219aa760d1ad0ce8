from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer, PointsEntry
from customers.tests.factories import CustomerFactory
from interactions import services
from interactions.models import Channel, Transaction, TransactionStatus
from interactions.tests.factories import ProductFactory, TransactionFactory

pytestmark = pytest.mark.django_db


def record_url(customer) -> str:
    return reverse("interactions:purchase_record", args=[customer.crm_number])


def refund_url(tx) -> str:
    return reverse("interactions:purchase_refund", args=[tx.customer.crm_number, tx.pk])


def test_sales_record_a_purchase_for_their_own_customer(sales_client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    ProductFactory(sku="TEA-1", name="龙井茶", price=Decimal("88.00"))
    response = sales_client.post(
        record_url(customer),
        {"amount": "176.00", "channel": Channel.STORE, "store": "西湖店", "sku": "tea-1", "quantity": "2"},
    )
    assert response.status_code == 302
    assert response.url == customer.get_absolute_url() + "?tab=purchases"
    tx = Transaction.objects.get(customer=customer)
    assert (tx.amount, tx.store, tx.recorded_by, tx.points_earned) == (Decimal("176.00"), "西湖店", sales_user, 176)
    assert [(line.description, line.quantity) for line in tx.lines.all()] == [("龙井茶", 2)]
    assert Customer.objects.get(pk=customer.pk).points_balance == 176


def test_the_purchase_page_opens_on_its_own_for_phones(service_client):
    body = service_client.get(record_url(CustomerFactory())).content.decode()
    assert 'name="amount"' in body and 'inputmode="decimal"' in body


@pytest.mark.parametrize("amount", ["0", "-5", ""])
def test_a_zero_negative_or_missing_amount_is_shown_as_an_error(service_client, amount):
    customer = CustomerFactory()
    response = service_client.post(record_url(customer), {"amount": amount, "channel": Channel.STORE})
    assert response.status_code == 400
    assert response.context["form"].errors["amount"]
    assert not Transaction.objects.exists() and not PointsEntry.objects.exists()
    assert Customer.objects.get(pk=customer.pk).points_balance == 0


def test_an_unknown_product_code_is_refused(service_client):
    response = service_client.post(
        record_url(CustomerFactory()), {"amount": "10", "channel": Channel.STORE, "sku": "NOPE"}
    )
    assert response.status_code == 400
    assert "No active product has the SKU NOPE" in response.content.decode()
    assert not Transaction.objects.exists() and not PointsEntry.objects.exists()


def test_a_flagged_purchase_is_recorded_with_a_warning(service_client):
    customer = CustomerFactory()
    TransactionFactory.create_batch(3, customer=customer, amount=Decimal("10"))
    response = service_client.post(record_url(customer), {"amount": "999", "channel": Channel.STORE}, follow=True)
    assert "Flagged for review" in response.content.decode()


def test_marketing_may_not_record_purchases(marketing_client):
    customer = CustomerFactory()
    assert marketing_client.get(record_url(customer)).status_code == 403
    assert marketing_client.post(record_url(customer), {"amount": "10", "channel": Channel.STORE}).status_code == 403
    assert not Transaction.objects.exists()


def test_sales_get_404_recording_for_another_sellers_customer(sales_client, other_sales_user):
    customer = CustomerFactory(owner=other_sales_user)
    assert sales_client.post(record_url(customer), {"amount": "10", "channel": Channel.STORE}).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete"])
def test_purchase_pages_refuse_other_methods(service_client, method):
    tx = TransactionFactory()
    assert getattr(service_client, method)(record_url(tx.customer)).status_code == 405
    assert getattr(service_client, method)(refund_url(tx)).status_code == 405


def test_service_refunds_part_of_a_purchase(service_client):
    tx = services.transaction_record(customer=CustomerFactory(), amount=Decimal("200"))
    response = service_client.post(refund_url(tx), {"amount": "50", "reason": "尺码不合适"})
    assert response.status_code == 302
    tx.refresh_from_db()
    assert (tx.status, tx.refunded_amount, tx.points_reversed) == (
        TransactionStatus.PARTIALLY_REFUNDED,
        Decimal("50"),
        50,
    )


def test_an_empty_refund_amount_refunds_the_rest(service_client):
    tx = services.transaction_record(customer=CustomerFactory(), amount=Decimal("200"))
    service_client.post(refund_url(tx), {"amount": "", "reason": "退货"})
    tx.refresh_from_db()
    assert tx.status == TransactionStatus.REFUNDED


def test_refunding_more_than_was_paid_is_shown_as_an_error(service_client):
    tx = services.transaction_record(customer=CustomerFactory(), amount=Decimal("200"))
    entries = PointsEntry.objects.count()
    response = service_client.post(refund_url(tx), {"amount": "500", "reason": "?"})
    assert response.status_code == 400
    assert "At most 200.00 can still be refunded." in response.content.decode()
    tx.refresh_from_db()
    assert (tx.refunded_amount, tx.status, tx.points_reversed) == (0, TransactionStatus.COMPLETED, 0)
    assert PointsEntry.objects.count() == entries


def test_sales_may_not_refund_even_their_own_customers_purchases(sales_client, sales_user):
    tx = TransactionFactory(customer=CustomerFactory(owner=sales_user))
    assert sales_client.post(refund_url(tx), {"reason": "x"}).status_code == 403


def test_a_purchase_of_another_customer_is_404_on_this_customers_url(service_client):
    tx = TransactionFactory()
    other = CustomerFactory()
    url = reverse("interactions:purchase_refund", args=[other.crm_number, tx.pk])
    assert service_client.get(url).status_code == 404
