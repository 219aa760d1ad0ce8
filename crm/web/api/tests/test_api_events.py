import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from crm.web.api.models import Scope
from crm.web.api.tests.test_api_hostile_input import hostile_bodies, hostile_datetime, json_value, payloads
from customers.tests.factories import CategoryFactory, CustomerFactory
from interactions.models import BehaviourEvent, BehaviourKind
from interactions.tests.factories import ProductFactory
from tests.hostile import hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"
SKU = "RUN-1"


@pytest.fixture
def api(integration):
    return integration(Scope.EVENTS_WRITE)


@pytest.fixture
def member():
    ProductFactory(sku=SKU)
    CategoryFactory(name="Shoes")
    return CustomerFactory(mobile="+8613900001111")


def view(customer, n=0, **overrides) -> dict:
    at = timezone.now() - datetime.timedelta(minutes=n)
    return {
        "event_id": f"e{n}",
        "kind": "product_view",
        "occurred_at": at.isoformat(),
        "member": customer.crm_number_display,
        "sku": SKU,
    } | overrides


def test_the_route_is_the_one_named():
    assert reverse("api:events") == URL


def test_a_batch_is_answered_per_event_and_only_good_events_are_stored(api, member):
    first = view(member, 0)
    batch = [
        first,
        view(member, 1, kind="category_view", sku=None, category="Shoes", member=None, phone="139 0000 1111"),
        view(member, 2, kind="cart_add", sku="NOPE"),
        view(member, 3, kind="wishlist"),
        "not an event",
        first,
    ]
    response = api.post(URL, {"events": batch})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["refused"]) == (2, 1, 3)
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "accepted",
        "refused",
        "refused",
        "refused",
        "duplicate",
    ]
    assert [r["index"] for r in body["results"]] == list(range(6))
    assert "No product has the SKU NOPE" in body["results"][2]["reason"]
    assert "kind must be one of" in body["results"][3]["reason"]
    kinds = set(BehaviourEvent.objects.values_list("kind", "client_id", "member_id"))
    client_id = api.api_client.pk
    assert kinds == {
        (BehaviourKind.PRODUCT_VIEW, client_id, member.pk),
        (BehaviourKind.CATEGORY_VIEW, client_id, member.pk),
    }


def test_a_category_is_found_by_its_id_as_text_and_by_its_name_in_either_language(api, member):
    running = CategoryFactory(name="跑步", name_en="Running", name_zh_hans="跑步")
    batch = [
        view(member, n, kind="category_view", sku=None, category=category)
        for n, category in enumerate([str(running.pk), "Running", "跑步", running.pk])
    ]
    body = api.post(URL, {"events": batch}).json()
    assert body["accepted"] == 4, body["results"]
    assert set(BehaviourEvent.objects.values_list("category_id", flat=True)) == {running.pk}


def test_a_resent_batch_inserts_nothing_twice(api, member):
    batch = [view(member, n) for n in range(5)]
    assert api.post(URL, {"events": batch}).json()["accepted"] == 5
    again = api.post(URL, {"events": batch}).json()
    assert (again["accepted"], again["duplicate"]) == (0, 5)
    assert BehaviourEvent.objects.count() == 5


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({}, "non-empty list"),
        ({"events": []}, "non-empty list"),
        ({"events": {"a": 1}}, "non-empty list"),
        ([{"event_id": "x"}], "non-empty list"),
    ],
)
def test_a_body_that_is_not_a_batch_is_400_and_writes_nothing(api, member, body, reason):
    response = api.post(URL, body)
    assert response.status_code == 400
    assert reason in response.json()["errors"]["events"][0]
    assert BehaviourEvent.objects.count() == 0


def test_more_than_a_thousand_events_is_400_and_writes_nothing(api, member):
    response = api.post(URL, {"events": [view(member, n) for n in range(1001)]})
    assert response.status_code == 400
    assert "at most 1000" in response.json()["errors"]["events"][0]
    assert BehaviourEvent.objects.count() == 0


def test_a_full_batch_fits_the_endpoints_body_limit(api, member):
    batch = [view(member, n, event_id=f"{n:064d}") for n in range(1000)]
    assert len(json.dumps({"events": batch})) > 64 * 1024  # over the other endpoints' limit
    assert api.post(URL, {"events": batch}).json()["accepted"] == 1000


def test_a_body_over_the_endpoints_limit_is_413_and_writes_nothing(api, member):
    batch = [view(member, n, event_id="x" * 64, sku="y" * 40) for n in range(1000)]
    response = api.post(URL, {"events": batch, "padding": "z" * 1024 * 1024})
    assert response.status_code == 413
    assert BehaviourEvent.objects.count() == 0


def test_a_token_without_the_scope_is_403_and_a_get_is_405(integration, member):
    assert integration(Scope.TRANSACTIONS_WRITE).post(URL, {"events": [view(member)]}).status_code == 403
    assert integration(Scope.EVENTS_WRITE).get(URL).status_code == 405
    assert BehaviourEvent.objects.count() == 0


def queries_for_batch(api, size: int) -> int:
    members = CustomerFactory.create_batch(3)
    batch = [
        view(
            members[n % 3],
            n,
            event_id=f"{size}-{n}",
            **({"member": None, "phone": members[n % 3].mobile} if n % 2 else {}),
        )
        for n in range(size)
    ]
    # The token touched and the months' partitions made before counting: the batch reaches back `size` minutes,
    # into last month's when run in the first hours of a month.
    api.post(URL, {"events": [*batch[:1], view(members[1], size, event_id=f"{size}-oldest")]})
    with CaptureQueriesContext(connection) as queries:
        response = api.post(URL, {"events": batch})
    assert response.json()["accepted"] == size - 1
    return len(queries)


def test_a_batch_of_500_costs_the_queries_of_a_batch_of_10(api, member):
    assert queries_for_batch(api, 10) == queries_for_batch(api, 500)


@override_settings(CRM_BEHAVIOUR_RETENTION_MONTHS=13)
@given(data=st.data())
def test_posting_events_never_fails_and_stores_exactly_what_it_accepts(api, member, data):
    event_fields = {
        "event_id": st.one_of(st.just("e1"), hostile_text),
        "kind": st.one_of(st.sampled_from(["product_view", "category_view", "favourite", "cart_add"]), hostile_text),
        "occurred_at": hostile_datetime,
        "member": st.one_of(st.just(member.crm_number_display), st.just(member.crm_number), hostile_number),
        "phone": st.one_of(st.just("13900001111"), hostile_number),
        "sku": st.one_of(st.just(SKU), hostile_text),
        "category": st.one_of(st.just("Shoes"), st.integers(), hostile_text, json_value),
    }
    events = st.lists(st.one_of(hostile_bodies(view(member), event_fields), json_value), max_size=5)
    batch = events.map(lambda e: json.dumps({"events": e}))
    body = data.draw(st.one_of(batch, batch, payloads({"events": [view(member)]}, {"events": events})))
    with rolled_back():
        before = table_counts()
        response = api.post(URL, raw=body)
        assert response.status_code < 500, response.content[:500]
        if response.status_code >= 400:
            assert response.json()["detail"]
            assert table_counts() == before
        else:
            stored = BehaviourEvent.objects.count() - before["interactions.BehaviourEvent"]
            assert stored == response.json()["accepted"]
