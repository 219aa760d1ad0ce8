"""The nightly segment snapshots: members, revenue over 365 days and its share of everyone's, RFM mix."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.schedule import BEAT_SCHEDULE
from marketing.models import Segment, SegmentSnapshot
from marketing.services.reports import segment_snapshot_take, segment_snapshots_take
from marketing.tasks import segment_snapshots_task
from marketing.tests.report_helpers import SHANGHAI, member, no_rfm_breakdown, rfm_breakdown, static_list

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


@pytest.fixture
def people():
    """Two Shanghai members (¥300 and ¥100 over the year, one with none), two in Hangzhou (¥600, nothing)."""
    return {
        "sh_300": member("300", city="上海市"),
        "sh_100": member("100", city="上海市"),
        "sh_none": member(city="上海市"),
        "hz_600": member("600", city="杭州市"),
        "hz_none": member(city="杭州市"),
    }


def test_a_snapshot_counts_members_their_revenue_and_its_share_of_everyones(people):
    shanghai = Segment.objects.create(name="Shanghai", rules=SHANGHAI)
    with no_rfm_breakdown():
        segment_snapshots_take(day=DAY)
    snapshot = SegmentSnapshot.objects.get(segment=shanghai, day=DAY)
    assert snapshot.members == 3
    assert snapshot.revenue_365d == Decimal("400.00")
    assert snapshot.total_revenue_365d == Decimal("1000.00")
    assert snapshot.revenue_share == pytest.approx(0.4)
    assert snapshot.average_value == Decimal("133.33")  # ¥400 over 3 members, the one who bought nothing too
    assert snapshot.rfm_mix == []  # no RFM breakdown registered: no mix, and no error


def test_every_segment_is_counted_and_its_size_kept_on_the_segment(people):
    everyone = Segment.objects.create(name="Everyone")
    hangzhou_list = static_list("Hangzhou list", [people["hz_600"], people["hz_none"]])
    with time_machine.travel(dt.datetime(2026, 6, 1, 5, 15, tzinfo=dt.UTC), tick=False):
        assert segment_snapshots_take() == 2
    listed = SegmentSnapshot.objects.get(segment=hangzhou_list)
    assert (listed.members, listed.revenue_365d, listed.revenue_share) == (2, Decimal("600.00"), pytest.approx(0.6))
    assert SegmentSnapshot.objects.get(segment=everyone).revenue_share == pytest.approx(1.0)
    hangzhou_list.refresh_from_db()
    assert hangzhou_list.member_count == 2
    assert hangzhou_list.counted_at == dt.datetime(2026, 6, 1, 5, 15, tzinfo=dt.UTC)


def test_the_rfm_mix_comes_from_the_rfm_breakdown(people):
    shanghai = Segment.objects.create(name="Shanghai", rules=SHANGHAI)
    with rfm_breakdown():
        snapshot = segment_snapshot_take(segment=shanghai, day=DAY)
    assert snapshot.rfm_mix == [
        {"value": "champions", "label": "Champions", "count": 3},
        {"value": "hibernating", "label": "Hibernating", "count": 0},
    ]


def test_taking_the_same_day_again_replaces_its_row(people):
    shanghai = Segment.objects.create(name="Shanghai", rules=SHANGHAI)
    segment_snapshots_take(day=DAY)
    member("500", city="上海市")
    segment_snapshots_take(day=DAY)
    assert SegmentSnapshot.objects.filter(segment=shanghai).count() == 1
    snapshot = SegmentSnapshot.objects.get(segment=shanghai)
    assert (snapshot.members, snapshot.revenue_365d, snapshot.total_revenue_365d) == (4, Decimal(900), Decimal(1500))
    segment_snapshots_take(day=DAY + dt.timedelta(days=1))
    assert SegmentSnapshot.objects.filter(segment=shanghai).count() == 2


def test_an_empty_segment_and_a_business_with_no_sales_have_no_share_or_average():
    nobody = Segment.objects.create(name="Nobody", rules=SHANGHAI)
    snapshot = segment_snapshot_take(segment=nobody, day=DAY)
    assert (snapshot.members, snapshot.revenue_365d) == (0, Decimal(0))
    assert snapshot.average_value is None and snapshot.revenue_share is None


def test_each_segment_costs_the_same_few_queries_whatever_its_size():
    """Count and revenue in one aggregate per segment, never a query per member."""

    def queries_for(members: int) -> int:
        segment = static_list(f"list of {members}", [member("10") for _ in range(members)])
        with no_rfm_breakdown(), CaptureQueriesContext(connection) as captured:
            segment_snapshot_take(segment=segment, day=DAY)
        return len(captured)

    assert queries_for(2) == queries_for(40)


def test_the_nightly_job_is_scheduled_after_scoring_and_takes_every_segment(people):
    entry = BEAT_SCHEDULE["segment-snapshots-daily"]
    assert entry["task"] == "marketing.tasks.segment_snapshots_task"
    assert entry["options"]["expires"] == entry["options"]["expire_seconds"]
    Segment.objects.create(name="Shanghai", rules=SHANGHAI)
    segment_snapshots_task()
    assert SegmentSnapshot.objects.count() == 1


def test_a_segment_whose_rule_names_a_deleted_tier_does_not_stop_the_others(people):
    stale = Segment.objects.create(
        name="Gone tier", rules={"op": "and", "rules": [{"field": "tier", "operator": "eq", "value": 999999}]}
    )
    everyone = Segment.objects.create(name="Everyone")
    assert segment_snapshots_take() == Segment.objects.count() - 1
    assert SegmentSnapshot.objects.filter(segment=everyone).exists()
    assert not SegmentSnapshot.objects.filter(segment=stale).exists()
