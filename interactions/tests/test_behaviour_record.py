import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.services.merge import customer_merge
from customers.tests.factories import CategoryFactory, CustomerFactory
from interactions.models import BehaviourEvent, BehaviourKind
from interactions.services import EventInput, behaviour_record
from interactions.services.partitions import behaviour_partitions, partition_name
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def event(member, n=0, **overrides) -> EventInput:
    values = {
        "event_id": f"ev-{n}",
        "kind": BehaviourKind.PRODUCT_VIEW,
        "occurred_at": NOW - datetime.timedelta(hours=1),
        "number": str(member.crm_number),
        "sku": "RUN-1",
    }
    return EventInput(**(values | overrides))


def test_a_product_view_is_stored_with_the_products_category():
    member, product = CustomerFactory(), ProductFactory(sku="RUN-1")
    assert [o.status for o in behaviour_record(client_id=7, events=[event(member)])] == ["accepted"]
    stored = BehaviourEvent.objects.get()
    assert (stored.member, stored.product, stored.category_id, stored.client_id, stored.event_id) == (
        member,
        product,
        product.category_id,
        7,
        "ev-0",
    )
    assert stored.received_at == NOW


def test_a_member_is_found_by_phone_legacy_number_or_a_number_merged_away():
    ProductFactory(sku="RUN-1")
    member, legacy, gone = CustomerFactory(), CustomerFactory(legacy_number="L-77"), CustomerFactory()
    gone_number = gone.crm_number
    customer_merge(survivor=member, other=gone, actor=None)
    outcomes = behaviour_record(
        client_id=1,
        events=[
            event(member, 1, number="", phone=member.mobile),
            event(legacy, 2, number="L-77"),
            event(member, 3, number=str(gone_number)),
        ],
    )
    assert [o.status for o in outcomes] == ["accepted"] * 3
    assert sorted(BehaviourEvent.objects.values_list("member_id", flat=True)) == [member.pk, member.pk, legacy.pk]


def test_a_resent_batch_stores_nothing_twice():
    member = CustomerFactory()
    ProductFactory(sku="RUN-1")
    batch = [event(member, n) for n in range(3)]
    behaviour_record(client_id=1, events=batch)
    again = behaviour_record(client_id=1, events=[*batch, event(member, 3)])
    assert [o.status for o in again] == ["duplicate"] * 3 + ["accepted"]
    assert BehaviourEvent.objects.count() == 4


def test_the_same_event_twice_in_one_batch_is_stored_once_and_another_client_may_reuse_the_id():
    member = CustomerFactory()
    ProductFactory(sku="RUN-1")
    outcomes = behaviour_record(client_id=1, events=[event(member), event(member)])
    assert [o.status for o in outcomes] == ["accepted", "duplicate"]
    assert behaviour_record(client_id=2, events=[event(member)])[0].status == "accepted"
    assert BehaviourEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"occurred_at": datetime.datetime(2025, 10, 31, 23, 59, tzinfo=datetime.UTC)}, "older than"),
        ({"occurred_at": NOW + datetime.timedelta(days=1, minutes=1)}, "future"),
        ({"sku": ""}, "needs a product SKU"),
        ({"kind": BehaviourKind.CATEGORY_VIEW, "sku": ""}, "needs a category"),
        ({"sku": "NOPE"}, "No product has the SKU NOPE"),
        ({"kind": BehaviourKind.CATEGORY_VIEW, "sku": "", "category": "no such"}, "No category is no such"),
        ({"number": "10000018"}, "check digit"),
        ({"number": "", "phone": "+8613900000000"}, "No member"),
    ],
)
def test_an_event_that_cannot_be_stored_is_refused_with_its_reason_and_the_others_kept(overrides, reason):
    member = CustomerFactory()
    ProductFactory(sku="RUN-1")
    outcomes = behaviour_record(client_id=1, events=[event(member, 1), event(member, 2, **overrides)])
    assert outcomes[0].status == "accepted"
    assert outcomes[1].status == "refused" and reason in outcomes[1].reason
    assert list(BehaviourEvent.objects.values_list("event_id", flat=True)) == ["ev-1"]


def test_a_category_view_names_the_category_by_id_or_name():
    member, shoes = CustomerFactory(), CategoryFactory(name="Shoes")
    view = {"kind": BehaviourKind.CATEGORY_VIEW, "sku": ""}
    outcomes = behaviour_record(
        client_id=1, events=[event(member, 1, category=shoes.pk, **view), event(member, 2, category="Shoes", **view)]
    )
    assert [o.status for o in outcomes] == ["accepted", "accepted"]
    assert set(BehaviourEvent.objects.values_list("category_id", "product_id")) == {(shoes.pk, None)}


def test_a_month_without_a_partition_gets_one_on_demand():
    member = CustomerFactory()
    ProductFactory(sku="RUN-1")
    old = datetime.datetime(2026, 1, 15, tzinfo=datetime.UTC)
    assert datetime.date(2026, 1, 1) not in behaviour_partitions()
    assert behaviour_record(client_id=1, events=[event(member, occurred_at=old)])[0].status == "accepted"
    assert datetime.date(2026, 1, 1) in behaviour_partitions()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {partition_name(datetime.date(2026, 1, 1))}")  # noqa: S608 -- a date
        assert cursor.fetchone() == (1,)


def batch_queries(size: int) -> int:
    members = CustomerFactory.create_batch(3)
    ProductFactory(sku="RUN-1")
    shoes = CategoryFactory(name="Shoes")
    by_phone = {"kind": BehaviourKind.CATEGORY_VIEW, "sku": "", "category": shoes.pk, "number": ""}
    events = [
        event(members[n % 3], f"{size}-{n}", occurred_at=timezone.now() - datetime.timedelta(minutes=n))
        if n % 2
        else event(members[n % 3], f"{size}-{n}", phone=members[n % 3].mobile, **by_phone)
        for n in range(size)
    ]
    # The months' partitions made before counting: the batch reaches back `size` minutes, into last month's when run
    # in the first hours of a month.
    oldest = timezone.now() - datetime.timedelta(minutes=size)
    behaviour_record(client_id=1, events=[*events[:1], event(members[1], f"{size}-oldest", occurred_at=oldest)])
    with CaptureQueriesContext(connection) as queries:
        outcomes = behaviour_record(client_id=1, events=events)
    assert [o.status for o in outcomes] == ["duplicate"] + ["accepted"] * (size - 1)
    return len(queries)


def test_a_batch_of_500_costs_the_queries_of_a_batch_of_10():
    assert batch_queries(10) == batch_queries(500)
