import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Q
from django.utils import timezone

from crm.segment_fields import Operator, segment_field
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from interactions.models import BehaviourKind
from interactions.services import LineInput, transaction_record
from interactions.tests.factories import ProductFactory, behaviour_events

pytestmark = pytest.mark.django_db

VIEW, CATEGORY_VIEW, CART = BehaviourKind.PRODUCT_VIEW, BehaviourKind.CATEGORY_VIEW, BehaviourKind.CART_ADD


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(datetime.datetime(2026, 11, 30, 12, tzinfo=datetime.UTC), tick=False):
        yield


def days_ago(n: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=n)


def count(*rules: dict) -> set[str]:
    """Who matches all these conditions, each compiled by its registered field (as marketing's rules do)."""
    q = Q()
    for rule in rules:
        params = {k: rule[k] for k in ("days", "times") if k in rule}
        q &= segment_field(rule["field"]).q(Operator(rule["operator"]), rule["value"], params)
    return set(Customer.objects.filter(q).values_list("name", flat=True))


@pytest.fixture
def shop():
    shoes = ProductFactory(sku="RUN-1")
    other_shoes = ProductFactory(sku="RUN-2", category=shoes.category)
    tea = ProductFactory(sku="TEA-1")
    browser, buyer, once, long_ago = (CustomerFactory(name=n) for n in ("browser", "buyer", "once", "long_ago"))
    CustomerFactory(name="nothing")
    # Three views of the category within the week: two product views (different shoes) and a category page.
    behaviour_events(
        browser,
        (VIEW, days_ago(1), shoes),
        (VIEW, days_ago(2), other_shoes),
        (CATEGORY_VIEW, days_ago(6), shoes.category),
    )
    behaviour_events(buyer, *[(VIEW, days_ago(n), shoes) for n in (0, 1, 2)], (CART, days_ago(0), shoes))
    transaction_record(
        customer=buyer, amount=Decimal("99.00"), actor=None, lines=[LineInput(product=shoes, quantity=1)]
    )
    behaviour_events(once, (VIEW, days_ago(3), shoes), (VIEW, days_ago(3), tea))
    behaviour_events(long_ago, *[(VIEW, days_ago(n), shoes) for n in (8, 9, 10)])
    return {"shoes": shoes, "tea": tea}


def test_viewed_a_category_three_times_in_a_week_and_did_not_buy_from_it(shop):
    category = shop["shoes"].category_id
    viewed = {"field": "viewed_category", "operator": "in", "value": [category], "days": 7, "times": 3}
    not_bought = {"field": "bought_category", "operator": "not_in", "value": [category], "days": 7}
    assert count(viewed) == {"browser", "buyer"}
    assert count(viewed, not_bought) == {"browser"}
    assert count({**viewed, "days": 14}) == {"browser", "buyer", "long_ago"}


def test_viewed_product_favourited_and_added_to_cart_count_their_own_kind(shop):
    shoes, tea = shop["shoes"].pk, shop["tea"].pk
    assert count({"field": "viewed_product", "operator": "in", "value": [tea], "days": 7, "times": 1}) == {"once"}
    assert count({"field": "viewed_product", "operator": "in", "value": [shoes, tea], "days": 7, "times": 2}) == {
        "buyer",
        "once",
    }
    assert count({"field": "added_to_cart", "operator": "in", "value": [shoes], "days": 7, "times": 1}) == {"buyer"}
    assert count({"field": "favourited", "operator": "in", "value": [shoes], "days": 30, "times": 1}) == set()
    assert count({"field": "added_to_cart", "operator": "not_in", "value": [shoes], "days": 7, "times": 1}) == {
        "browser",
        "once",
        "long_ago",
        "nothing",
    }


def test_the_behaviour_fields_are_registered_with_their_period_and_times():
    field = segment_field("viewed_category")
    assert [p.key for p in field.params] == ["days", "times"]
    assert field.params[0].default == 7
    assert {segment_field(k).group for k in ("viewed_product", "favourited", "added_to_cart")} == {field.group}
