import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.sections import TimelineWindow
from customers.tests.factories import CategoryFactory, CustomerFactory
from interactions.models import BehaviourKind
from interactions.sections.behaviour import behaviour_timeline
from interactions.tests.factories import ProductFactory, behaviour_events

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)  # 18:00 in Shanghai
VIEW, CATEGORY_VIEW, FAVOURITE, CART = BehaviourKind.values


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def hours_ago(n: float) -> datetime.datetime:
    return NOW - datetime.timedelta(hours=n)


def timeline(client, customer, **params) -> list:
    response = client.get(customer.get_absolute_url(), {"tab": "timeline", **params})
    return list(response.context["tab"].data["timeline"])


def test_a_days_views_are_one_summary_on_the_timeline(service_client):
    customer = CustomerFactory()
    shoes, bags = CategoryFactory(name="Shoes"), CategoryFactory(name="Bags")
    products = [ProductFactory(category=shoes) for _ in range(5)] + [ProductFactory(category=bags) for _ in range(2)]
    today = [(VIEW, hours_ago(1 + n / 10), p) for n, p in enumerate(products)]
    today += [
        (VIEW, hours_ago(2), products[0]),
        (CATEGORY_VIEW, hours_ago(3), shoes),
        (CART, hours_ago(1), products[0]),
    ]
    yesterday = [(CATEGORY_VIEW, hours_ago(30), shoes), (FAVOURITE, hours_ago(31), products[1])]
    behaviour_events(customer, *today, *yesterday)
    items = [i for i in timeline(service_client, customer) if i.kind == "behaviour"]
    assert [(i.title, i.detail) for i in items] == [
        ("Viewed 7 products and browsed 2 categories, added 1 to cart", "10 events in the shop"),
        ("Browsed 1 category, favourited 1 product", "2 events in the shop"),
    ]
    assert items[0].at == hours_ago(1)  # placed at the day's last event


def test_the_timeline_pages_through_days_in_order_among_other_kinds(service_client):
    customer, product = CustomerFactory(), ProductFactory()
    behaviour_events(customer, *[(VIEW, hours_ago(24 * day + 1), product) for day in range(25)])
    first = service_client.get(customer.get_absolute_url(), {"tab": "timeline", "timeline": "behaviour"})
    page = first.context["tab"].data["timeline"]
    second = timeline(service_client, customer, timeline="behaviour", timeline_page=page.older)
    days = [i.at for i in [*page, *second]]
    assert len(page.items) == 20 and len(second) == 5
    assert days == sorted(days, reverse=True) and len(set(days)) == 25


def test_a_role_without_the_permission_sees_no_behaviour(login_as, outsider, service_user):
    customer, product = CustomerFactory(), ProductFactory()
    behaviour_events(customer, (VIEW, hours_ago(1), product))
    assert [i.kind for i in timeline(login_as(service_user), customer)] == ["behaviour"]
    assert behaviour_timeline(outsider, customer, TimelineWindow(kind="behaviour", limit=20)) == []


def queries_for(client, events_per_day: int, days: int) -> int:
    customer, product = CustomerFactory(), ProductFactory()
    events = [(VIEW, hours_ago(24 * d + 1 + n / 100), product) for d in range(days) for n in range(events_per_day)]
    behaviour_events(customer, *events)
    client.get(customer.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        assert timeline(client, customer)
    return len(queries)


def test_the_timelines_queries_do_not_grow_with_the_events(service_client):
    assert queries_for(service_client, 1, 2) == queries_for(service_client, 30, 25)
