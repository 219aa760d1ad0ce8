"""The marketing reports page and a segment's report, with their charts, as marketers and managers read them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketing.models import Segment, SegmentSnapshot
from marketing.tests.report_helpers import SHANGHAI, member, no_rfm_breakdown, rfm_breakdown
from tests.hostile import table_counts

pytestmark = pytest.mark.django_db


def chart_url(key: str, kind: str = "json") -> str:
    return reverse("chart_json" if kind == "json" else "chart_csv", args=[key])


def report_url(segment) -> str:
    return reverse("marketing:segment_report", args=[segment.pk])


def snapshot_url(segment) -> str:
    return reverse("marketing:segment_snapshot", args=[segment.pk])


def snap(segment, day: dt.date, members: int, revenue: str = "0", total: str = "1000", mix=()) -> SegmentSnapshot:
    return SegmentSnapshot.objects.create(
        segment=segment,
        day=day,
        members=members,
        revenue_365d=Decimal(revenue),
        average_value=SegmentSnapshot.average(Decimal(revenue), members),
        total_revenue_365d=Decimal(total),
        rfm_mix=list(mix),
        computed_at=timezone.now(),
    )


@pytest.fixture
def segment():
    return Segment.objects.create(name="Shanghai", rules=SHANGHAI)


@pytest.fixture
def history(segment):
    """Three snapshots: 40 days ago, 10 days ago, today."""
    today = timezone.localdate()
    return [
        snap(segment, today - dt.timedelta(days=40), 100, "200"),
        snap(segment, today - dt.timedelta(days=10), 110, "220"),
        snap(segment, today, 130, "260", mix=[{"value": "champions", "label": "Champions", "count": 30}]),
    ]


SEGMENT_CHARTS = ["segment_size", "segment_value", "segment_rfm"]


# The segment's report


def test_a_marketer_reads_the_latest_figures_as_tiles(marketing_client, history, segment):
    page = marketing_client.get(report_url(segment)).content.decode()
    assert 'id="latest-members">130<' in page
    assert 'id="latest-revenue">¥260.00<' in page
    assert 'id="latest-share">26.0%<' in page
    assert 'id="latest-average">¥2.00<' in page
    for key in SEGMENT_CHARTS:
        assert f'id="chart-{key}"' in page and f'data-chart-query="segment={segment.pk}"' in page


def test_a_new_segment_says_it_has_no_snapshot_yet(manager_client, segment):
    page = manager_client.get(report_url(segment)).content.decode()
    assert 'id="no-snapshot"' in page


def test_the_segment_page_links_to_its_report(marketing_client, segment):
    assert report_url(segment) in marketing_client.get(segment.get_absolute_url()).content.decode()


@pytest.mark.parametrize("client_name", ["marketing_client", "manager_client"])
def test_taking_a_snapshot_now_gives_a_new_segment_its_first_point(request, client_name, segment):
    member("250", city="上海市")
    member("750", city="杭州市")
    client = request.getfixturevalue(client_name)
    with no_rfm_breakdown():
        response = client.post(snapshot_url(segment))
    assert response.status_code == 302 and response.url == report_url(segment)
    snapshot = SegmentSnapshot.objects.get(segment=segment)
    assert (snapshot.day, snapshot.members, snapshot.revenue_share) == (timezone.localdate(), 1, 0.25)
    page = client.get(report_url(segment)).content.decode()
    assert 'id="latest-members">1<' in page and 'id="latest-share">25.0%<' in page


@pytest.mark.parametrize("client_name", ["sales_client", "service_client"])
def test_sales_and_the_desk_may_not_read_reports_nor_take_snapshots(request, client_name, segment, history):
    client = request.getfixturevalue(client_name)
    before = table_counts()
    assert client.get(report_url(segment)).status_code == 403
    assert client.get(reverse("marketing:reports")).status_code == 403
    assert client.post(snapshot_url(segment)).status_code == 403
    for key in [*SEGMENT_CHARTS, "campaign_leaderboard"]:
        assert client.get(chart_url(key), {"segment": segment.pk}).status_code == 403
        assert client.get(chart_url(key, "csv"), {"segment": segment.pk}).status_code == 403
    assert table_counts() == before


def test_anonymous_visitors_are_sent_to_log_in(segment):
    for url in (report_url(segment), reverse("marketing:reports"), chart_url("segment_size")):
        response = Client().get(url)
        assert response.status_code == 302 and "login" in response.url
    assert Client().post(snapshot_url(segment)).status_code == 302
    assert not SegmentSnapshot.objects.exists()


def test_wrong_methods_are_refused_and_write_nothing(manager_client, segment):
    before = table_counts()
    assert manager_client.post(report_url(segment)).status_code == 405
    assert manager_client.post(reverse("marketing:reports")).status_code == 405
    assert manager_client.get(snapshot_url(segment)).status_code == 405
    assert manager_client.post(chart_url("segment_size") + f"?segment={segment.pk}").status_code == 405
    assert table_counts() == before


def test_an_unknown_segment_is_404(manager_client):
    assert manager_client.get(reverse("marketing:segment_report", args=[987654])).status_code == 404
    assert manager_client.post(reverse("marketing:segment_snapshot", args=[987654])).status_code == 404


# The segment's charts


def test_the_size_chart_draws_members_day_by_day(manager_client, history, segment):
    data = manager_client.get(chart_url("segment_size"), {"segment": segment.pk}).json()
    assert data["spec"] == {"type": "line", "x": "day", "y": ["members"]}
    assert [row[1] for row in data["rows"]] == [100, 110, 130]
    assert data["rows"][-1][0] == timezone.localdate().isoformat()


def test_the_value_chart_has_the_share_and_the_average_on_a_second_axis(manager_client, history, segment):
    data = manager_client.get(chart_url("segment_value"), {"segment": segment.pk}).json()
    assert data["spec"]["y"] == ["revenue_share"] and data["spec"]["y2"] == ["average_value"]
    assert [row[1] for row in data["rows"]] == pytest.approx([0.2, 0.22, 0.26])
    assert [row[2] for row in data["rows"]] == [2.0, 2.0, 2.0]


def test_the_rfm_chart_shows_the_latest_mix_and_says_when_there_is_none(manager_client, segment):
    member(city="上海市")
    member(city="上海市")
    with rfm_breakdown():
        manager_client.post(snapshot_url(segment))
    data = manager_client.get(chart_url("segment_rfm"), {"segment": segment.pk}).json()
    assert data["spec"]["type"] == "pie"
    assert [row[1:3] for row in data["rows"]] == [["Champions", 2], ["Hibernating", 0]]
    with no_rfm_breakdown():
        manager_client.post(snapshot_url(segment))
    data = manager_client.get(chart_url("segment_rfm"), {"segment": segment.pk}).json()
    assert data["rows"] == [] and "No RFM mix" in data["notes"][0]


def test_a_chart_can_be_downloaded_as_csv(marketing_client, history, segment):
    response = marketing_client.get(chart_url("segment_size", "csv"), {"segment": segment.pk})
    lines = response.content.decode("utf-8-sig").splitlines()
    assert response.status_code == 200 and lines[0] == "Day,Members" and lines[-1].endswith(",130")


@pytest.mark.parametrize("key", SEGMENT_CHARTS)
@pytest.mark.parametrize("value", ["987654", "abc", ""], ids=["unknown", "not-a-number", "missing"])
def test_a_bad_segment_is_refused_with_the_reason_and_nothing_written(manager_client, segment, key, value):
    before = table_counts()
    response = manager_client.get(chart_url(key), {"segment": value} if value else {})
    assert response.status_code == 400 and "segment" in response.json()["errors"]
    assert manager_client.get(chart_url(key, "csv"), {"segment": value}).status_code == 400
    assert table_counts() == before


# The reports page


def test_the_reports_page_lists_every_segment_with_its_latest_figures_and_change(manager_client, history, segment):
    Segment.objects.create(name="Never counted")
    page = manager_client.get(reverse("marketing:reports")).content.decode()
    row = page.split(f'id="segment-{segment.pk}"')[1].split("</tr>")[0]
    assert report_url(segment) in row
    assert ">130<" in row and ">+30<" in row  # against the snapshot 40 days ago (the nearest older than 30)
    assert ">26.0%<" in row and ">¥2.00<" in row
    assert "No snapshot yet." in page
    assert 'id="chart-campaign_leaderboard"' in page


def test_the_menu_has_reports_for_those_who_may_read_them(manager_client, sales_client):
    url = reverse("marketing:reports")
    assert url in manager_client.get(reverse("marketing:segment_list")).content.decode()
    assert url not in sales_client.get(reverse("customers:list")).content.decode()


def test_the_reports_page_costs_the_same_queries_with_more_segments_and_days(manager_client):
    today = timezone.localdate()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(reverse("marketing:reports")).status_code == 200
        return len(captured)

    first = Segment.objects.create(name="First")
    snap(first, today, 5)
    few = queries()
    for n in range(15):
        more = Segment.objects.create(name=f"Segment {n}")
        for days in (0, 20, 45):
            snap(more, today - dt.timedelta(days=days), n + 1)
    assert queries() == few
