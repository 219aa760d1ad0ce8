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
        purchases = service_client.get(customer.get_absolute_url(), {"tab": "purchases"}).content.decode()
        timeline = service_client.get(customer.get_absolute_url(), {"tab": "timeline"}).content.decode()
    for text in [
        "¥1,600.00",  # lifetime spend in the header and spend in the window
        "2026-05-30" if "2026-05-30" in body else "5/30/2026",  # last purchase in the header
        "食品饮料",
        "¥400.00 more to reach 银卡",
        'id="action-record-purchase"',
    ]:
        assert text in body, text
    for text in ["¥800.00", "2 × 龙井茶", "西湖店"]:  # average order, lines and store in the purchases tab
        assert text in purchases and text not in body, text
    assert "Purchase ¥1,000.00" in timeline and "Purchase ¥1,000.00" not in body


def test_the_timeline_mixes_purchases_and_points_newest_first(service_client):
    customer = CustomerFactory()
    with time_machine.travel(NOW - datetime.timedelta(days=3), tick=False):
        services.transaction_record(customer=customer, amount=Decimal("50"))
    with time_machine.travel(NOW - datetime.timedelta(days=1), tick=False):
        membership.points_redeem(customer=customer, points=20, reason="兑换礼品")
    with time_machine.travel(NOW, tick=False):
        timeline = service_client.get(customer.get_absolute_url(), {"tab": "timeline"}).context["tab"].data["timeline"]
    assert [item.title for item in timeline] == ["Redeemed -20 points", "Earned +50 points", "Purchase ¥50.00"]


@pytest.mark.parametrize("tab", ["profile", "timeline", "purchases", "interactions", "points-ledger"])
def test_query_count_is_the_same_for_3_and_60_purchases(service_client, tab):
    few, many = _customer_with_history(3), _customer_with_history(60)
    service_client.get(few.get_absolute_url())
    with CaptureQueriesContext(connection) as few_queries:
        service_client.get(few.get_absolute_url(), {"tab": tab})
    with CaptureQueriesContext(connection) as many_queries:
        response = service_client.get(many.get_absolute_url(), {"tab": tab})
    assert response.context["tab"].key == tab
    assert len(many_queries) == len(few_queries) <= 20, tab  # 2 of them for the scores card (analytics)


def _tables_read(queries) -> set[str]:
    """The history tables a page read (the purchases' lines, as the purchase table's page prefetches them;
    the header's categories read lines too, summed, on every tab)."""
    marks = {
        "purchase lines": '"interactions_transactionline"."transaction_id" IN',
        "interactions": 'FROM "interactions_interaction"',
        "points ledger": 'FROM "customers_pointsentry"',
    }
    return {name for name, mark in marks.items() for q in queries.captured_queries if mark in q["sql"]}


def test_only_the_tab_shown_is_loaded(service_client):
    customer = _customer_with_history(12)
    service_client.get(customer.get_absolute_url())
    reads = {}
    for tab in ("profile", "purchases", "interactions", "points-ledger"):
        with CaptureQueriesContext(connection) as queries:
            response = service_client.get(customer.get_absolute_url(), {"tab": tab})
        reads[tab] = _tables_read(queries)
    assert reads == {
        "profile": set(),
        "purchases": {"purchase lines"},
        "interactions": {"interactions"},
        "points-ledger": {"points ledger"},
    }
    assert len(response.context["tab"].data["page"].object_list) == 10
    body = service_client.get(customer.get_absolute_url()).content.decode()
    assert 'id="purchases"' not in body and 'id="timeline"' not in body and 'id="points-ledger"' not in body


def test_a_tab_link_from_htmx_gets_the_tabs_alone(service_client):
    customer = _customer_with_history(2)
    response = service_client.get(customer.get_absolute_url(), {"tab": "purchases"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="customer-tabs"') and 'id="purchases"' in body
    assert 'id="summary"' not in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_a_tab_fetched_alone_reads_nothing_for_the_header_or_the_side(service_client):
    customer = _customer_with_history(3)
    service_client.get(customer.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        service_client.get(customer.get_absolute_url(), {"tab": "profile"}, headers={"HX-Request": "true"})
    read = " ".join(q["sql"] for q in queries.captured_queries)
    for table in ("interactions_", "customers_tier", "customers_tag"):
        assert f'FROM "{table}' not in read, table


def test_purchase_history_and_ledger_are_paginated(service_client):
    customer = _customer_with_history(12)
    body = service_client.get(customer.get_absolute_url() + "?purchases_page=2&points_page=2").content.decode()
    assert "Page 2 of 2" in body
    response = service_client.get(customer.get_absolute_url(), {"purchases_page": "2"})
    purchases = response.context["tab"].data["page"]
    assert purchases.number == 2 and len(purchases.object_list) == 2


def test_what_each_role_may_do_shows_on_the_page(login_as, sales_user, manager_user, marketing_user):
    customer = CustomerFactory(owner=sales_user)
    TransactionFactory(customer=customer)
    pages = {}
    for role, user in (("sales", sales_user), ("manager", manager_user), ("marketing", marketing_user)):
        client = login_as(user)
        pages[role] = "".join(
            client.get(customer.get_absolute_url(), {"tab": tab}).content.decode()
            for tab in ("purchases", "points-ledger")
        )
    sales, manager, marketing = pages["sales"], pages["manager"], pages["marketing"]
    assert 'id="action-record-purchase"' in sales and "/refund/" not in sales and "Adjust points" not in sales
    assert 'id="action-record-purchase"' in manager and "/refund/" in manager and "Adjust points" in manager
    assert 'id="action-record-purchase"' not in marketing and "/refund/" not in marketing


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
    sections = response.context["sections"]
    assert [s.key for s in sections["main"]] == ["profile", "timeline"]
    assert sections["summary"] == sections["side"] == sections["actions"] == []
    timeline = login_as(viewer).get(customer.get_absolute_url(), {"tab": "timeline"}).context["tab"].data["timeline"]
    assert list(timeline) == []
    assert "¥120.00" not in response.content.decode()
