"""The coupon pages as a marketer and the desk use them."""

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.models import Job, JobStatus
from customers.tests.factories import CustomerFactory
from interactions.services import transaction_record, transaction_refund
from marketing.models import Coupon, CouponOffer, CouponStatus, Segment
from marketing.services import coupon_issue
from marketing.tasks import coupons_issue_task
from tests.hostile import hostile_date, hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


def test_a_marketer_creates_an_offer(marketing_client):
    data = {
        "name": "Spring 10%",
        "kind": "percent",
        "value": "10",
        "min_spend": "0",
        "per_member_limit": "1",
        "active": "on",
    }
    response = marketing_client.post(reverse("marketing:offer_create"), data)
    offer = CouponOffer.objects.get()
    assert response.url == offer.get_absolute_url() and offer.value == Decimal("10")


def test_a_bad_offer_keeps_what_was_typed(marketing_client):
    data = {"name": "Too much", "kind": "percent", "value": "150", "min_spend": "0", "per_member_limit": "1"}
    response = marketing_client.post(reverse("marketing:offer_create"), data)
    assert response.status_code == 400 and "A percentage is at most 100." in response.content.decode()
    assert 'value="Too much"' in response.content.decode() and not CouponOffer.objects.exists()


def test_the_offer_page_counts_coupons_and_the_revenue_they_brought(marketing_client):
    offer = CouponOffer.objects.create(name="20 off", value=Decimal("20"))
    members = [CustomerFactory() for _ in range(3)]
    used, refunded, _waiting = (coupon_issue(offer=offer, customer=m, actor=None) for m in members)
    transaction_record(customer=members[0], amount=Decimal("120"), coupon_code=used.code)
    tx = transaction_record(customer=members[1], amount=Decimal("50"), coupon_code=refunded.code)
    transaction_refund(transaction=tx)
    page = marketing_client.get(offer.get_absolute_url()).content.decode()
    assert 'id="issued">3<' in page and 'id="redeemed">1<' in page and 'id="outstanding">2<' in page
    assert 'id="revenue">¥100.00<' in page or 'id="revenue">100.00<' in page


def test_issuing_to_a_segment_runs_as_a_job_once(marketing_client, django_capture_on_commit_callbacks):
    for _ in range(3):
        CustomerFactory()
    segment = Segment.objects.create(name="all")
    offer = CouponOffer.objects.create(name="welcome", value=Decimal("5"))
    for run in range(2):
        with django_capture_on_commit_callbacks():
            response = marketing_client.post(
                reverse("marketing:offer_issue_segment", args=[offer.pk]), {"segment": segment.pk}
            )
        job = Job.objects.order_by("-pk").first()
        assert response.url == job.get_absolute_url()
        coupons_issue_task(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.DONE and job.message == (
            "3 coupons issued." if run == 0 else "0 coupons issued."
        )
    assert Coupon.objects.count() == 3


def test_the_desk_sees_a_members_coupons_and_a_marketer_issues_one(marketing_client, service_client):
    member = CustomerFactory()
    offer = CouponOffer.objects.create(name="Birthday 30", value=Decimal("30"))
    response = marketing_client.post(reverse("marketing:coupon_issue", args=[member.crm_number]), {"offer": offer.pk})
    coupon = Coupon.objects.get()
    assert response.url == member.get_absolute_url() + "?tab=coupons" and coupon.customer == member
    page = service_client.get(member.get_absolute_url() + "?tab=coupons").content.decode()
    assert coupon.code_display in page and "Birthday 30" in page
    assert "Issue coupon" not in page  # the desk sees coupons, marketing issues them
    timeline = service_client.get(member.get_absolute_url() + "?tab=timeline").content.decode()
    assert f"Coupon {coupon.code_display} issued" in timeline


def test_a_second_coupon_past_the_limit_is_refused_on_the_form(marketing_client):
    member = CustomerFactory()
    offer = CouponOffer.objects.create(name="Once", value=Decimal("30"))
    url = reverse("marketing:coupon_issue", args=[member.crm_number])
    marketing_client.post(url, {"offer": offer.pk})
    response = marketing_client.post(url, {"offer": offer.pk})
    assert response.status_code == 400 and "the most a member may have" in response.content.decode()
    assert Coupon.objects.filter(status=CouponStatus.ISSUED).count() == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.fixed_dictionaries(
        {
            "name": hostile_text,
            "kind": st.one_of(st.sampled_from(["percent", "amount"]), hostile_text),
            "value": hostile_number,
            "min_spend": hostile_number,
            "valid_from": hostile_date,
            "valid_to": hostile_date,
            "valid_days": hostile_number,
            "per_member_limit": hostile_number,
            "max_issued": hostile_number,
            "products": hostile_number,
        }
    )
)
def test_hostile_offer_forms_never_fail_and_write_nothing_on_error(marketing_client, data):
    with rolled_back():
        before = table_counts()
        response = marketing_client.post(reverse("marketing:offer_create"), data)
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            assert table_counts() == before
