import pytest
from django.urls import reverse

from customers.models import AuditAction, AuditEvent, Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user, login_as):
    return login_as(admin_user)


@pytest.mark.parametrize("model", ["customer", "tier", "tag", "category", "consentevent", "auditevent", "mergerecord"])
def test_admin_changelist_and_add_pages_open(admin_client, model):
    CustomerFactory()
    assert admin_client.get(reverse(f"admin:customers_{model}_changelist")).status_code == 200


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
    assert AuditEvent.objects.filter(customer=customer, actor=admin_user, action=AuditAction.CREATE).exists()
