"""The rewards catalogue: points for an item, at the desk and through the API, all or nothing, race-safe."""

import threading
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.web.api.models import Scope
from crm.web.api.tests.conftest import integration  # noqa: F401 -- the API client fixture
from customers.models import Customer, PointsEntry
from customers.services import membership
from customers.tests.factories import CustomerFactory
from marketing.models import Coupon, CouponOffer, RewardExchange, RewardItem, RewardKind
from marketing.services import reward_exchange
from tests.hostile import hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


def member(points: int) -> Customer:
    customer = CustomerFactory()
    if points:
        membership.points_earn(customer=customer, points=points)
    customer.refresh_from_db()
    return customer


def gift(**fields) -> RewardItem:
    return RewardItem.objects.create(**({"name": "Tote bag", "points_price": 300, "stock": 2} | fields))


def test_a_gift_takes_the_points_and_one_from_stock():
    customer, item = member(500), gift()
    exchange = reward_exchange(item=item, customer=customer, actor=None)
    customer.refresh_from_db()
    item.refresh_from_db()
    assert (customer.points_balance, item.stock, exchange.points) == (200, 1, 300)
    assert exchange.points_entry.reason_text == "Exchanged for Tote bag"


def test_a_coupon_reward_issues_its_coupon_even_past_the_per_member_limit():
    offer = CouponOffer.objects.create(name="50 off", value=Decimal("50"), per_member_limit=1)
    item = gift(name="50 off coupon", kind=RewardKind.COUPON, offer=offer, stock=None, points_price=100)
    customer = member(500)
    first = reward_exchange(item=item, customer=customer, actor=None)
    second = reward_exchange(item=item, customer=customer, actor=None)
    assert first.coupon.customer == customer and second.coupon != first.coupon
    assert Coupon.objects.filter(customer=customer).count() == 2


@pytest.mark.parametrize(
    ("points", "item", "says"),
    [
        (100, {}, "Cannot redeem 300 points"),
        (500, {"stock": 0}, "Tote bag is out of stock."),
        (500, {"active": False}, "Tote bag is no longer offered."),
    ],
)
def test_short_points_or_stock_is_refused_and_nothing_is_written(points, item, says):
    customer, reward = member(points), gift(**item)
    before = (PointsEntry.objects.count(), RewardExchange.objects.count(), reward.stock)
    with pytest.raises(ValidationError, match=says):
        reward_exchange(item=reward, customer=customer, actor=None)
    reward.refresh_from_db()
    assert (PointsEntry.objects.count(), RewardExchange.objects.count(), reward.stock) == before


@pytest.mark.django_db(transaction=True)
def test_two_desks_taking_the_last_item_at_once_only_one_gets_it():
    item = gift(stock=1)
    customers = [member(500), member(500)]
    start = threading.Barrier(2)
    outcomes = []

    def desk(customer):
        try:
            start.wait(timeout=5)
            reward_exchange(item=item, customer=customer, actor=None)
            outcomes.append("ok")
        except ValidationError as e:
            outcomes.append(e.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=desk, args=[c]) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(outcomes) == ["Tote bag is out of stock.", "ok"]
    assert RewardExchange.objects.count() == 1
    assert sorted(Customer.objects.values_list("points_balance", flat=True)) == [200, 500]


def test_the_desk_exchanges_points_from_the_customer_page(service_client):
    customer, item = member(500), gift()
    url = reverse("marketing:reward_exchange", args=[customer.crm_number])
    response = service_client.post(url, {"item": item.pk}, follow=True)
    assert "300 points exchanged for Tote bag." in response.content.decode()
    customer.refresh_from_db()
    assert customer.points_balance == 200


def test_the_api_lists_rewards_and_exchanges_points(integration):  # noqa: F811
    customer, item = member(500), gift()
    gift(name="Gone", stock=0)
    api = integration(Scope.LOOKUP, Scope.REWARDS_WRITE)
    assert [r["name"] for r in api.get(reverse("api:rewards")).json()] == ["Tote bag"]
    url = reverse("api:member_rewards", args=[customer.crm_number_display])
    response = api.post(url, {"item": item.pk})
    assert response.status_code == 201 and response.json()["points_balance"] == 200
    again = api.post(url, {"item": item.pk})
    assert again.status_code == 400 and "Cannot redeem 300 points" in str(again.json())


def test_the_api_needs_the_rewards_scope(integration):  # noqa: F811
    customer, item = member(500), gift()
    response = integration(Scope.LOOKUP).post(
        reverse("api:member_rewards", args=[customer.crm_number_display]), {"item": item.pk}
    )
    assert response.status_code == 403 and not RewardExchange.objects.exists()


def test_hostile_exchanges_never_fail_and_write_nothing_on_error(integration):  # noqa: F811
    api = integration(Scope.REWARDS_WRITE)
    member(500)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        st.one_of(hostile_text, st.integers()),
        st.one_of(hostile_text, st.sampled_from(["1000-0013", "10000018", "%2F..", "1"])),
    )
    def post(item, number):
        with rolled_back():
            before = table_counts()
            response = api.post(f"/api/v1/members/{quote(number, safe='')}/rewards/", {"item": item})
            assert response.status_code < 500
            if response.status_code >= 400:
                assert table_counts() == before

    post()
