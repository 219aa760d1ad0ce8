import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import AuditAction, AuditEvent
from customers.tests.factories import CustomerFactory
from interactions.services import LineInput, transaction_record
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(service_user):
    customer = CustomerFactory()
    scarf = ProductFactory(name="丝巾", price=Decimal("150.00"))
    transaction_record(
        customer=customer,
        amount=Decimal("300.00"),
        store="西湖店",
        actor=service_user,
        lines=[LineInput(product=scarf, quantity=2)],
    )
    transaction_record(customer=customer, amount=Decimal("88.00"), actor=service_user)
    return customer


def url(customer, fmt):
    return reverse("interactions:purchase_export", args=[customer.crm_number]) + f"?format={fmt}"


def test_manager_downloads_a_customers_purchases_as_csv(manager_client, manager_user, customer):
    response = manager_client.get(url(customer, "csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Date" and len(rows) == 3
    assert {r[5] for r in rows[1:]} == {"300.00", "88.00"}
    assert any("2 × 丝巾" in r[4] for r in rows[1:])
    assert AuditEvent.objects.filter(actor=manager_user, customer_id=customer.pk, action=AuditAction.EXPORT).exists()


def test_purchases_as_xlsx(manager_client, customer):
    response = manager_client.get(url(customer, "xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 3


def test_the_customer_page_offers_the_download_to_managers_only(manager_client, service_client, customer):
    purchases = {"tab": "purchases"}
    assert url(customer, "csv") in manager_client.get(customer.get_absolute_url(), purchases).content.decode()
    assert url(customer, "csv") not in service_client.get(customer.get_absolute_url(), purchases).content.decode()


def test_staff_without_export_permission_get_403(service_client, customer):
    assert service_client.get(url(customer, "csv")).status_code == 403


def test_unknown_format_is_a_400(manager_client, customer):
    assert manager_client.get(url(customer, "pdf")).status_code == 400


def test_post_is_405(manager_client, customer):
    assert manager_client.post(url(customer, "csv")).status_code == 405
