import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given

from crm.models import AuditAction, AuditEvent
from customers import services
from customers.models import ConsentMethod
from customers.tests.factories import CategoryFactory, CustomerFactory, TagFactory, TierFactory
from tests.hostile import hostile_text, rolled_back, table_counts

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
    for text in ["陈静", customer.crm_number_display, "+86136****1234", "金卡", "VIP", "美妆护肤", "Signed paper form"]:
        assert text in body
    assert "136 0000 1234" not in body  # masked for everyone until revealed (customers/tests/test_personal.py)


def test_viewing_a_customer_is_audited(service_client, service_user):
    customer = CustomerFactory()
    service_client.get(customer.get_absolute_url())
    assert AuditEvent.objects.filter(customer_id=customer.pk, actor=service_user, action=AuditAction.VIEW).count() == 1


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


# --- the summary header, tabs and forms on demand (issue 9) ------------------------------------------------


def _summary(body: str) -> str:
    start = body.index('id="summary"')
    return body[start : body.index("</section>", start)]


def test_the_summary_header_shows_who_the_member_is_first(service_client, service_user, sales_user):
    customer = services.customer_create(
        actor=service_user,
        name="陈静",
        mobile="13600001234",
        tier=TierFactory(name="金卡"),
        tags=[TagFactory(name="VIP")],
        sms_opt_in=True,
        consent_method=ConsentMethod.PAPER,
        owner=sales_user,
    )
    body = service_client.get(customer.get_absolute_url()).content.decode()
    summary = _summary(body)
    assert body.index('id="summary"') < body.index('id="customer-tabs"')
    for text in ["陈静", customer.crm_number_display, "金卡", 'id="points">0<', "VIP", "sales", "+86136****1234"]:
        assert text in summary, text
    assert 'class="btn btn-link btn-sm p-0 align-baseline text-nowrap reveal-button"' in summary
    assert 'data-channel="sms"' in summary and 'data-channel="email"' in summary
    sms = summary[summary.index('data-channel="sms"') :]
    email = summary[summary.index('data-channel="email"') :]
    assert sms.index("Opted in") < sms.index("</span></span>") and "Not opted in" in email[: email.index("</dd>")]
    assert 'id="lifetime-spend">¥0.00<' in summary and 'id="last-purchase">—<' in summary


def test_the_summary_masks_the_mobile_for_a_role_without_contact_details(marketing_client):
    customer = CustomerFactory(mobile="+8613600001234", email="chen@example.com")
    summary = _summary(marketing_client.get(customer.get_absolute_url()).content.decode())
    assert "+86136****1234" in summary and "136 0000 1234" not in summary


def test_the_page_has_no_form_fields_until_one_is_asked_for(manager_client):
    customer = CustomerFactory()
    body = manager_client.get(customer.get_absolute_url()).content.decode()
    assert "<form" not in body.split('id="quick-action"')[1].split("</main>")[0]
    for field in ('name="amount"', 'name="subject"', 'name="points"', 'name="reason"'):
        assert field not in body, field
    for action in ("log-contact", "record-purchase", "redeem-points"):
        assert f'id="action-{action}"' in body, action


def test_quick_actions_are_only_those_the_viewer_may_use(login_as, marketing_user, sales_user):
    customer = CustomerFactory(owner=sales_user)
    marketing = login_as(marketing_user).get(customer.get_absolute_url()).content.decode()
    sales = login_as(sales_user).get(customer.get_absolute_url()).content.decode()
    assert 'id="action-issue-coupon"' in marketing  # marketers issue coupons, and do nothing at the till
    assert not any(f'id="action-{a}"' in marketing for a in ("log-contact", "record-purchase", "redeem-points"))
    assert all(f'id="action-{a}"' in sales for a in ("log-contact", "record-purchase", "redeem-points"))


def test_an_unknown_tab_opens_the_profile(service_client):
    customer = CustomerFactory()
    response = service_client.get(customer.get_absolute_url(), {"tab": "nope"})
    assert response.status_code == 200 and response.context["tab"].key == "profile"


@given(tab=hostile_text, page=hostile_text)
def test_hostile_tab_and_page_parameters_never_fail(service_client, tab, page):
    customer = CustomerFactory()
    with rolled_back():
        before = table_counts()
        params = {"tab": tab, "purchases_page": page, "points_page": page, "timeline_page": page, "timeline": tab}
        response = service_client.get(customer.get_absolute_url(), params, headers={"HX-Request": "true"})
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert table_counts() == before
