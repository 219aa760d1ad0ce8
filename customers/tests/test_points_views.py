import pytest
from django.urls import reverse

from customers import membership
from customers.models import Customer, PointsEntry, PointsKind
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def adjust_url(customer) -> str:
    return reverse("points:adjust", args=[customer.crm_number])


def test_a_manager_adjusts_points_with_a_reason(manager_client, manager_user):
    customer = CustomerFactory()
    response = manager_client.post(adjust_url(customer), {"points": "25", "reason": "投诉补偿"})
    assert response.status_code == 302
    entry = PointsEntry.objects.get(customer=customer)
    assert (entry.kind, entry.points, entry.reason, entry.created_by) == (
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


def test_service_staff_may_not_adjust_points(service_client):
    customer = CustomerFactory()
    assert service_client.post(adjust_url(customer), {"points": "5", "reason": "x"}).status_code == 403


def test_adjusting_points_refuses_other_methods(manager_client):
    assert manager_client.delete(adjust_url(CustomerFactory())).status_code == 405
