import pytest
from django.urls import reverse

from crm.models import AuditAction, AuditEvent
from customers import services
from customers.models import ConsentChannel, ConsentEvent, ConsentMethod, Customer, MergeRecord, PointsEntry, TierChange
from customers.services.membership import points_adjust
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user, login_as):
    return login_as(admin_user)


@pytest.mark.parametrize("model", ["customer", "tier", "tag", "category"])
def test_admin_changelist_and_add_pages_open(admin_client, model):
    CustomerFactory()
    assert admin_client.get(reverse(f"admin:customers_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:customers_{model}_add")).status_code == 200


HISTORY = ["consentevent", "mergerecord", "pointsentry", "tierchange"]


@pytest.fixture
def history(admin_user):
    """One row of each kind of history, written the way the services write them."""
    survivor, other = CustomerFactory(), CustomerFactory()
    services.consent_set(customer=survivor, channel=ConsentChannel.SMS, granted=True, method=ConsentMethod.PAPER)
    points_adjust(customer=other, points=10, reason="迁移", actor=admin_user)
    services.customer_update(customer=survivor, actor=admin_user, tier=TierFactory())
    customer_merge(survivor=survivor, other=other, actor=admin_user)
    return {
        "consentevent": ConsentEvent.objects.first(),
        "mergerecord": MergeRecord.objects.first(),
        "pointsentry": PointsEntry.objects.first(),
        "tierchange": TierChange.objects.first(),
    }


def snapshot() -> dict:
    return {m: list(m.objects.values()) for m in (ConsentEvent, AuditEvent, MergeRecord, PointsEntry, TierChange)}


@pytest.mark.parametrize("model", HISTORY)
def test_history_is_read_only_in_admin_for_admin_too(admin_client, history, model):
    row = history[model]
    before = snapshot()
    assert admin_client.get(reverse(f"admin:customers_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:customers_{model}_change", args=[row.pk])).status_code == 200  # view
    assert admin_client.get(reverse(f"admin:customers_{model}_add")).status_code == 403
    assert admin_client.post(reverse(f"admin:customers_{model}_change", args=[row.pk]), {}).status_code == 403
    assert (
        admin_client.post(reverse(f"admin:customers_{model}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    )
    assert snapshot() == before


def test_a_customer_cannot_be_deleted_from_admin(admin_client):
    customer = CustomerFactory()
    url = reverse("admin:customers_customer_delete", args=[customer.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    changelist = admin_client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "delete_selected" not in changelist
    assert admin_client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "delete_selected", "_selected_action": [customer.pk], "post": "yes"},
    ).status_code in (200, 302)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_admin_search_by_crm_number(admin_client):
    customer = CustomerFactory(name="后台查找")
    response = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": str(customer.crm_number)})
    assert "后台查找" in response.content.decode()


def test_crm_number_is_read_only_in_admin(admin_client):
    customer = CustomerFactory()
    body = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk])).content.decode()
    assert 'name="crm_number"' not in body
    assert str(customer.crm_number) in body


def test_admin_creates_customer_through_the_service(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:customers_customer_add"),
        {
            "name": "后台新建",
            "gender": "unknown",
            "mobile": "13700001111",
            "source": "store",
            "registered_on": "2026-11-01",
            "consent_events-TOTAL_FORMS": "0",
            "consent_events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer = Customer.objects.get(name="后台新建")
    assert customer.mobile == "+8613700001111"
    assert AuditEvent.objects.filter(customer_id=customer.pk, actor=admin_user, action=AuditAction.CREATE).exists()
