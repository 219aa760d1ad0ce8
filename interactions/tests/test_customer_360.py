"""The customer page with purchases, points, tier progress and the timeline (sections from customers/sections.py)."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.services import membership
from customers.tests.factories import CategoryFactory, CustomerFactory, TierFactory
from interactions import services
from interactions.services import LineInput
from interactions.tests.factories import ProductFactory, TransactionFactory, TransactionLineFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def tiers():
    return [
        TierFactory(name="普通", rank=0, min_spend=Decimal("0")),
        TierFactory(name="银卡", rank=1, min_spend=Decimal("2000")),
        TierFactory(name="金卡", rank=2, min_spend=Decimal("8000")),
    ]


def _customer_with_history(n: int):
    customer = CustomerFactory()
    product = ProductFactory()
    for i in range(n):
        tx = TransactionFactory(customer=customer, occurred_at=NOW - datetime.timedelta(days=i))
        TransactionLineFactory(transaction=tx, product=product)
        membership.points_earn(customer=customer, points=10, reference=f"transaction:{tx.pk}")
    return customer


def test_the_page_shows_totals_tier_progress_categories_and_history(service_client, tiers):
    customer = CustomerFactory(tier=tiers[0])
    tea = ProductFactory(sku="TEA", name="龙井茶", price=Decimal("300"), category=CategoryFactory(name="食品饮料"))
    with time_machine.travel(NOW - datetime.timedelta(days=40), tick=False):
        services.transaction_record(
            customer=customer, amount=Decimal("600"), lines=[LineInput(product=tea, quantity=2)]
        )
    with time_machine.travel(NOW - datetime.timedelta(days=2), tick=False):
        services.transaction_record(customer=customer, amount=Decimal("1000"), store="西湖店")
    with time_machine.travel(NOW, tick=False):
        body = service_client.get(customer.get_absolute_url()).content.decode()
    for text in [
        "¥1,600.00",  # lifetime spend and spend in the window
        "¥800.00",  # average order
        "2 × 龙井茶",
        "西湖店",
        "食品饮料",
        "¥400.00 more to reach 银卡",
        "Purchase ¥1,000.00",  # timeline
        'id="record-purchase"',
    ]:
        assert text in body, text


def test_the_timeline_mixes_purchases_and_points_newest_first(service_client):
    customer = CustomerFactory()
    with time_machine.travel(NOW - datetime.timedelta(days=3), tick=False):
        services.transaction_record(customer=customer, amount=Decimal("50"))
    with time_machine.travel(NOW - datetime.timedelta(days=1), tick=False):
        membership.points_redeem(customer=customer, points=20, reason="兑换礼品")
    with time_machine.travel(NOW, tick=False):
        timeline = service_client.get(customer.get_absolute_url()).context["timeline"]
    assert [item.title for item in timeline] == ["Redeemed -20 points", "Earned +50 points", "Purchase ¥50.00"]


def _section(response, key):
    return next(s for column in response.context["sections"].values() for s in column if s.key == key)


def test_query_count_is_the_same_for_3_and_60_purchases(service_client):
    few, many = _customer_with_history(3), _customer_with_history(60)
    service_client.get(few.get_absolute_url())
    with CaptureQueriesContext(connection) as few_queries:
        service_client.get(few.get_absolute_url())
    with CaptureQueriesContext(connection) as many_queries:
        response = service_client.get(many.get_absolute_url())
    assert len(many_queries) == len(few_queries) <= 21  # 18, and 3 for the interactions card, reminders and timeline
    assert len(_section(response, "purchases").data["page"].object_list) == 10


def test_purchase_history_and_ledger_are_paginated(service_client):
    customer = _customer_with_history(12)
    body = service_client.get(customer.get_absolute_url() + "?purchases_page=2&points_page=2").content.decode()
    assert "Page 2 of 2" in body
    response = service_client.get(customer.get_absolute_url(), {"purchases_page": "2"})
    purchases = _section(response, "purchases").data["page"]
    assert purchases.number == 2 and len(purchases.object_list) == 2


def test_what_each_role_may_do_shows_on_the_page(login_as, sales_user, manager_user, marketing_user):
    customer = CustomerFactory(owner=sales_user)
    TransactionFactory(customer=customer)
    sales = login_as(sales_user).get(customer.get_absolute_url()).content.decode()
    manager = login_as(manager_user).get(customer.get_absolute_url()).content.decode()
    marketing = login_as(marketing_user).get(customer.get_absolute_url()).content.decode()
    assert 'id="record-purchase"' in sales and "/refund/" not in sales and "Adjust points" not in sales
    assert 'id="record-purchase"' in manager and "/refund/" in manager and "Adjust points" in manager
    assert 'id="record-purchase"' not in marketing and "/refund/" not in marketing


def test_staff_without_purchase_and_points_permissions_do_not_see_them(login_as, make_user):
    viewer = make_user(None, username="reader")
    viewer.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_customer", "view_all_customers"], content_type__app_label="customers"
        )
    )
    customer = CustomerFactory()
    services.transaction_record(customer=customer, amount=Decimal("120"))
    response = login_as(viewer).get(customer.get_absolute_url())
    assert response.status_code == 200
    assert response.context["sections"] == {"main": [], "side": []}
    assert list(response.context["timeline"]) == []
    assert "¥120.00" not in response.content.decode()
