import pytest
from django.core.management import call_command
from django.db.models import Sum

from customers.models import Customer, PointsEntry
from interactions import services
from interactions.models import Transaction

pytestmark = pytest.mark.django_db


def test_demo_purchases_agree_with_points_and_tiers_and_a_rerun_adds_nothing():
    call_command("load_demo", customers=25, stdout=None)
    assert Transaction.objects.count() > 25
    for customer in Customer.objects.all():
        lots = PointsEntry.objects.filter(customer=customer).aggregate(left=Sum("remaining"), net=Sum("points"))
        assert customer.points_balance == (lots["left"] or 0) == (lots["net"] or 0)
    assert services.tiers_evaluate() == 0  # spend was drawn to fit each customer's tier

    count = Transaction.objects.count()
    call_command("load_demo_purchases", stdout=None)
    assert Transaction.objects.count() == count
