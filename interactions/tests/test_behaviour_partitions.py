import datetime

import pytest
import time_machine

from customers.tests.factories import CustomerFactory
from interactions.models import BehaviourEvent, BehaviourKind
from interactions.services.partitions import behaviour_partitions, behaviour_partitions_ensure
from interactions.tasks import behaviour_partitions_task
from interactions.tests.factories import ProductFactory, behaviour_events

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def month(year: int, number: int) -> datetime.date:
    return datetime.date(year, number, 1)


def test_the_daily_job_makes_the_coming_months_and_drops_those_past_retention(settings):
    settings.CRM_BEHAVIOUR_RETENTION_MONTHS = 13
    member, product = CustomerFactory(), ProductFactory()
    with time_machine.travel(datetime.datetime(2025, 10, 20, tzinfo=UTC), tick=False):
        behaviour_events(member, (BehaviourKind.PRODUCT_VIEW, datetime.datetime(2025, 10, 5, tzinfo=UTC), product))
    with time_machine.travel(datetime.datetime(2026, 11, 2, tzinfo=UTC), tick=False):
        behaviour_events(member, (BehaviourKind.PRODUCT_VIEW, datetime.datetime(2025, 11, 5, tzinfo=UTC), product))
        assert behaviour_partitions_task() == {"made": 3, "dropped": 1}
        months = behaviour_partitions()
    # November 2025 is the 13th month back from November 2026: kept with its event; October 2025 dropped.
    assert months[0] == month(2025, 11) and month(2025, 10) not in months
    assert months[-3:] == [month(2026, 11), month(2026, 12), month(2027, 1)]
    assert list(BehaviourEvent.objects.values_list("occurred_at", flat=True)) == [
        datetime.datetime(2025, 11, 5, tzinfo=UTC)
    ]


def test_running_the_job_again_changes_nothing():
    with time_machine.travel(datetime.datetime(2026, 11, 2, tzinfo=UTC), tick=False):
        behaviour_partitions_task()
        before = behaviour_partitions()
        assert behaviour_partitions_task() == {"made": 0, "dropped": 0}
        assert behaviour_partitions() == before


def test_a_partition_is_made_once_when_asked_twice():
    assert behaviour_partitions_ensure(months={month(2031, 1)}) == [month(2031, 1)]
    assert behaviour_partitions_ensure(months={month(2031, 1), month(2031, 2)}) == [month(2031, 2)]
