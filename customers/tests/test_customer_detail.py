import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import services
from customers.models import AuditAction, AuditEvent, ConsentMethod
from customers.tests.factories import CategoryFactory, CustomerFactory, TagFactory, TierFactory

pytestmark = pytest.mark.django_db


def test_detail_shows_profile_tier_points_tags_and_consent(service_client, service_user):
    customer = services.customer_create(
        actor=service_user,
        name="陈静",
        mobile="13600001234",
        tier=TierFactory(name="金卡"),
        tags=[TagFactory(name="VIP")],
        preferred_categories=[CategoryFactory(name="美妆护肤")],
        sms_opt_in=True,
        consent_method=ConsentMethod.PAPER,
    )
    body = service_client.get(customer.get_absolute_url()).content.decode()
    for text in ["陈静", customer.crm_number_display, "136 0000 1234", "金卡", "VIP", "美妆护肤", "Signed paper form"]:
        assert text in body


def test_viewing_a_customer_is_audited(service_client, service_user):
    customer = CustomerFactory()
    service_client.get(customer.get_absolute_url())
    assert AuditEvent.objects.filter(customer=customer, actor=service_user, action=AuditAction.VIEW).count() == 1


def test_sales_get_404_for_a_customer_they_do_not_own(sales_client, other_sales_user):
    customer = CustomerFactory(owner=other_sales_user)
    assert sales_client.get(customer.get_absolute_url()).status_code == 404


def test_marketing_sees_masked_contacts(marketing_client):
    customer = CustomerFactory(mobile="+8613600001234", email="chen@example.com")
    body = marketing_client.get(customer.get_absolute_url()).content.decode()
    assert "+86136****1234" in body and "c***@example.com" in body
    assert "chen@example.com" not in body


def test_query_count_is_fixed_whatever_the_tags_and_consent_history(service_client, service_user):
    lean = CustomerFactory()
    rich = CustomerFactory(tags=TagFactory.create_batch(6), tier=TierFactory())
    rich.preferred_categories.set(CategoryFactory.create_batch(4))
    for i in range(6):
        services.customer_update(customer=rich, actor=service_user, sms_opt_in=i % 2 == 0)
    service_client.get(lean.get_absolute_url())
    with CaptureQueriesContext(connection) as lean_queries:
        service_client.get(lean.get_absolute_url())
    with CaptureQueriesContext(connection) as rich_queries:
        service_client.get(rich.get_absolute_url())
    assert len(rich_queries) == len(lean_queries) <= 18  # 12 for the profile, the rest for purchases and points
