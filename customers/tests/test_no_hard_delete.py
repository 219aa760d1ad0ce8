"""No customer is ever deleted: not from the admin, not by the ORM, not by SQL; a merge is the one path, and
it deletes only the record it has emptied into the survivor."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from crm.models import AuditAction, AuditEvent
from customers.models import Customer, MergeRecord
from customers.services.erasure import customer_erase
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def refused(delete) -> None:
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic():
        delete()


def test_the_orm_cannot_delete_a_customer():
    customer = CustomerFactory()
    refused(customer.delete)
    refused(lambda: Customer.objects.filter(pk=customer.pk).delete())
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_sql_cannot_delete_a_customer():
    customer = CustomerFactory()

    def delete():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM customers_customer WHERE id = %s", [customer.pk])

    refused(delete)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_admin_offers_no_delete_and_refuses_one(admin_user, login_as):
    client = login_as(admin_user)
    customer = CustomerFactory()
    assert (
        client.post(reverse("admin:customers_customer_delete", args=[customer.pk]), {"post": "yes"}).status_code == 403
    )
    changelist = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "delete_selected" not in changelist
    client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "delete_selected", "_selected_action": [customer.pk], "post": "yes"},
    )
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_merge_still_deletes_the_record_it_emptied_and_nothing_after_it(manager_user):
    survivor, other, bystander = CustomerFactory(), CustomerFactory(), CustomerFactory()
    customer_merge(survivor=survivor, other=other, actor=manager_user)
    assert not Customer.objects.filter(pk=other.pk).exists()
    assert MergeRecord.objects.get(survivor=survivor).merged_crm_number == other.crm_number
    assert AuditEvent.objects.filter(customer_id=survivor.pk, action=AuditAction.MERGE).exists()
    # The merge's permission ended with its statement, though the transaction (this test's) goes on.
    refused(bystander.delete)
    assert Customer.objects.filter(pk=bystander.pk).exists()


def test_an_erased_record_opens_read_only_in_the_admin(admin_user, login_as):
    customer = CustomerFactory()
    customer_erase(customer=customer, actor=None, confirm_number=customer.crm_number, reason="")
    client = login_as(admin_user)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"name": "Back again"})
    customer.refresh_from_db()
    assert customer.is_erased and customer.name != "Back again"
