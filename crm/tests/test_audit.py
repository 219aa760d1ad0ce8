"""The audit trail: who, from where, and that nobody can rewrite it, the admin and the database included."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from crm.models import AuditAction, AuditEvent
from customers.tests.factories import CustomerFactory


@pytest.fixture
def viewed(service_client, service_user):
    customer = CustomerFactory()
    service_client.get(reverse("customers:detail", args=[customer.crm_number]), REMOTE_ADDR="203.0.113.7")
    return AuditEvent.objects.get(customer_id=customer.pk, action=AuditAction.VIEW)


def test_a_page_view_records_who_and_from_which_address(viewed, service_user):
    assert (viewed.actor, viewed.actor_name, viewed.ip, viewed.api_client) == (
        service_user,
        service_user.username,
        "203.0.113.7",
        "",
    )


def test_behind_a_proxy_the_address_is_taken_the_configured_hops_back(service_client, settings):
    settings.AUDIT_TRUSTED_PROXIES = 1
    customer = CustomerFactory()
    # The client wrote the first address itself; the proxy appended the one it saw.
    service_client.get(
        reverse("customers:detail", args=[customer.crm_number]), HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4"
    )
    assert AuditEvent.objects.get(customer_id=customer.pk, action=AuditAction.VIEW).ip == "198.51.100.4"


def test_the_database_refuses_to_change_or_delete_an_entry(viewed):
    for change in (
        lambda: AuditEvent.objects.filter(pk=viewed.pk).update(action=AuditAction.UPDATE),
        lambda: AuditEvent.objects.filter(pk=viewed.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change()
    viewed.refresh_from_db()
    assert viewed.action == AuditAction.VIEW


def test_the_admin_may_read_the_trail_but_not_add_change_or_delete(admin_client, viewed):
    before = list(AuditEvent.objects.values())
    assert admin_client.get(reverse("admin:crm_auditevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:crm_auditevent_change", args=[viewed.pk])).status_code == 200
    assert admin_client.get(reverse("admin:crm_auditevent_add")).status_code == 403
    assert admin_client.post(reverse("admin:crm_auditevent_change", args=[viewed.pk]), {}).status_code == 403
    delete = admin_client.post(reverse("admin:crm_auditevent_delete", args=[viewed.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert list(AuditEvent.objects.values()) == before
