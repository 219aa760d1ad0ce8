"""Merging customers (customers.merge) moves this app's rows without code of its own here."""

from decimal import Decimal

import pytest

from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory
from interactions.models import Transaction
from interactions.services import transaction_record

pytestmark = pytest.mark.django_db


def test_purchases_and_their_points_move_to_the_survivor(service_user):
    survivor, other = CustomerFactory.create_batch(2)
    transaction_record(customer=other, amount=Decimal("300.00"), actor=service_user)
    transaction_record(customer=survivor, amount=Decimal("100.00"), actor=service_user)
    other.refresh_from_db()
    survivor.refresh_from_db()
    expected_points = survivor.points_balance + other.points_balance

    customer_merge(survivor=survivor, other=other, actor=service_user)

    survivor.refresh_from_db()
    assert sorted(Transaction.objects.filter(customer=survivor).values_list("amount", flat=True)) == [
        Decimal("100.00"),
        Decimal("300.00"),
    ]
    assert survivor.points_balance == expected_points > 0
