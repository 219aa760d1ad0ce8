import pytest
from django.urls import reverse

from customers.models import Customer, PointsEntry, PointsKind
from customers.services import membership
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def adjust_url(customer) -> str:
    return reverse("customers:points_adjust", args=[customer.crm_number])


def test_a_manager_adjusts_points_with_a_reason(manager_client, manager_user):
    customer = CustomerFactory()
    response = manager_client.post(adjust_url(customer), {"points": "25", "reason": "投诉补偿"})
    assert response.status_code == 302
    entry = PointsEntry.objects.get(customer=customer)
    assert (entry.kind, entry.points, entry.reason_text, entry.created_by) == (
        PointsKind.ADJUSTED,
        25,
        "投诉补偿",
        manager_user,
    )


def test_an_adjustment_without_a_reason_is_refused(manager_client):
    customer = CustomerFactory()
    response = manager_client.post(adjust_url(customer), {"points": "25", "reason": ""})
    assert response.status_code == 400
    assert not PointsEntry.objects.exists()


def test_taking_away_more_than_the_balance_is_shown_as_an_error(manager_client):
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=10)
    response = manager_client.post(adjust_url(customer), {"points": "-11", "reason": "Typo"})
    assert response.status_code == 400
    assert "the balance is only 10" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).points_balance == 10
    assert PointsEntry.objects.filter(customer=customer).count() == 1


def test_service_staff_may_not_adjust_points(service_client):
    customer = CustomerFactory()
    assert service_client.post(adjust_url(customer), {"points": "5", "reason": "x"}).status_code == 403


def test_adjusting_points_refuses_other_methods(manager_client):
    assert manager_client.delete(adjust_url(CustomerFactory())).status_code == 405


def redeem_url(customer) -> str:
    return reverse("customers:points_redeem", args=[customer.crm_number])


@pytest.fixture
def member_with_points(manager_user):
    customer = CustomerFactory()
    membership.points_adjust(customer=customer, points=100, reason="开卡礼", actor=manager_user)
    return customer


def test_service_staff_redeem_points_for_a_gift(service_client, service_user, member_with_points):
    response = service_client.post(redeem_url(member_with_points), {"points": "60", "reason": "雨伞"})
    assert response.status_code == 302
    member_with_points.refresh_from_db()
    assert member_with_points.points_balance == 40
    entry = member_with_points.points_entries.first()
    assert (entry.kind, entry.points, entry.reason_text, entry.created_by) == (
        PointsKind.REDEEMED,
        -60,
        "雨伞",
        service_user,
    )


def test_redeeming_more_than_the_balance_keeps_the_form_and_says_why(service_client, member_with_points):
    response = service_client.post(redeem_url(member_with_points), {"points": "150", "reason": "行李箱"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "the balance is only 100" in body and 'value="行李箱"' in body
    member_with_points.refresh_from_db()
    assert member_with_points.points_balance == 100
    assert member_with_points.points_entries.count() == 1  # only the opening grant


def test_the_ledger_offers_redemption_to_staff_who_may(service_client, marketing_client, member_with_points):
    assert redeem_url(member_with_points) in service_client.get(member_with_points.get_absolute_url()).content.decode()
    marketing_page = marketing_client.get(member_with_points.get_absolute_url()).content.decode()
    assert redeem_url(member_with_points) not in marketing_page


def test_marketing_may_not_redeem(marketing_client, member_with_points):
    assert marketing_client.post(redeem_url(member_with_points), {"points": "1", "reason": "x"}).status_code == 403


def test_sales_get_404_for_another_owners_member(sales_client, member_with_points):
    assert sales_client.get(redeem_url(member_with_points)).status_code == 404


def test_redeem_refuses_other_methods(service_client, member_with_points):
    assert service_client.delete(redeem_url(member_with_points)).status_code == 405
