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
    settings.CRM_TRUSTED_PROXIES = 1
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


def test_signing_in_failing_to_and_signing_out_are_recorded_without_the_password(client, service_user):
    service_user.set_password("right-password-2026")
    service_user.save()
    client.post(reverse("login"), {"username": "service", "password": "wrong-password"}, REMOTE_ADDR="192.0.2.1")
    client.post(reverse("login"), {"username": "service", "password": "right-password-2026"}, REMOTE_ADDR="192.0.2.1")
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.1")
    entries = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_name", "target", "ip"))
    assert entries[-3:] == [
        (AuditAction.LOGIN_FAILED, "", "service", "192.0.2.1"),
        (AuditAction.LOGIN, "service", "service", "192.0.2.1"),
        (AuditAction.LOGOUT, "service", "", "192.0.2.1"),
    ]
    assert "wrong-password" not in str(list(AuditEvent.objects.values()))


def test_a_role_given_and_taken_in_the_admin_is_recorded_against_the_admin(admin_client, sales_user):
    from django.contrib.auth.models import Group

    manager = Group.objects.get(name="Manager")
    url = reverse("admin:auth_user_change", args=[sales_user.pk])
    already = AuditEvent.objects.order_by("pk").last().pk
    form = {"username": sales_user.username, "groups": [manager.pk], "is_active": "on", "date_joined_0": "2026-01-01"}
    form |= {"date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"}
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    entries = AuditEvent.objects.filter(action=AuditAction.ROLES, target="sales", pk__gt=already).order_by("pk")
    changes = [e.changes for e in entries]
    assert {"relation": "user_groups", "added": ["Manager"]} in changes
    assert {"relation": "user_groups", "removed": ["Sales"]} in changes
    assert {e.actor_name for e in entries} == {"admin"}


def test_clearing_a_users_groups_names_what_was_removed(sales_user):
    sales_user.groups.clear()
    entry = AuditEvent.objects.filter(action=AuditAction.ROLES, target="sales").latest("pk")
    assert entry.changes == {"relation": "user_groups", "removed": ["Sales"]}


def test_making_someone_a_superuser_is_recorded(sales_user):
    sales_user.is_superuser = True
    sales_user.save()
    entry = AuditEvent.objects.filter(action=AuditAction.ROLES, target="sales").latest("pk")
    assert entry.changes == {"is_superuser": [False, True]}


def test_issuing_rotating_and_revoking_a_token_are_recorded(admin_user):
    from crm.web.api import services
    from crm.web.api.models import Scope

    client, _token = services.api_client_create(name="shop", scopes=[Scope.LOOKUP], actor=admin_user)
    services.api_client_rotate(client=client)
    services.api_client_revoke(client=client)
    entries = list(AuditEvent.objects.filter(target="shop").order_by("pk").values_list("action", "actor_name"))
    assert entries == [
        (AuditAction.TOKEN_ISSUE, "admin"),
        (AuditAction.TOKEN_ISSUE, ""),
        (AuditAction.TOKEN_REVOKE, ""),
    ]


def test_a_failed_login_keeps_the_name_typed_only_when_it_is_someones(client, db):
    client.post(reverse("login"), {"username": "MyPassw0rd!", "password": "x"})
    entry = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).latest("pk")
    assert (entry.target, entry.changes) == ("", {"unknown": True})


def test_resetting_someones_second_factor_is_recorded(manager_client, manager_user):
    from crm.two_factor import two_factor_reset

    assert two_factor_reset(user=manager_user) >= 1  # the manager's session was verified with an authenticator
    entry = AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR).latest("pk")
    assert entry.target == "manager" and entry.changes["reset"] >= 1
