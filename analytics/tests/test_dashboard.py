"""The manager's dashboard: its key figures, charts and filters, read from the daily tables."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from analytics.charts import geography, kpis
from analytics.models import (
    AggregateState,
    CohortCell,
    DailyKpi,
    Dimension,
    Distribution,
    Forecast,
    MonthlyRegion,
    MonthlySales,
)
from customers.models import Category

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 6, 30)


def day_row(day: datetime.date, **values) -> DailyKpi:
    defaults = {"orders": 0, "returning_orders": 0, "revenue": Decimal(0), "new_members": 0, "active_members": 0}
    return DailyKpi.objects.create(day=day, **{**defaults, **values})


def test_a_period_adds_up_its_days_and_holds_the_counts_of_its_last_day():
    day_row(datetime.date(2026, 5, 31), new_members=10, active_members=4)  # before: counts toward members only
    day_row(
        datetime.date(2026, 6, 1), new_members=2, orders=3, returning_orders=1, revenue=Decimal("30"), active_members=5
    )
    day_row(
        datetime.date(2026, 6, 2), new_members=1, orders=1, returning_orders=1, revenue=Decimal("20"), active_members=6
    )
    figures = kpis.period_figures(datetime.date(2026, 6, 1), datetime.date(2026, 6, 2))
    assert (figures.members, figures.new_members, figures.active_members) == (13, 3, 6)
    assert (figures.orders, figures.revenue, figures.average_order) == (4, Decimal("50"), Decimal("12.50"))
    assert figures.repurchase_rate == 0.5


def test_weeks_start_on_monday_and_empty_weeks_are_kept():
    day_row(datetime.date(2026, 6, 1), orders=2, revenue=Decimal("10"))  # a Monday
    day_row(datetime.date(2026, 6, 7), orders=1, revenue=Decimal("5"))  # the Sunday of that week
    day_row(datetime.date(2026, 6, 22), orders=1, revenue=Decimal("7"))
    weeks = kpis.series(datetime.date(2026, 6, 1), datetime.date(2026, 6, 28), "week")
    assert [(week.isoformat(), figures.orders) for week, figures in weeks] == [
        ("2026-06-01", 3),
        ("2026-06-08", 0),
        ("2026-06-15", 0),
        ("2026-06-22", 1),
    ]


def test_the_tiles_compare_with_the_period_before_and_a_year_earlier():
    day_row(datetime.date(2026, 6, 10), orders=4, revenue=Decimal("200"))
    day_row(datetime.date(2026, 6, 3), orders=2, revenue=Decimal("100"))  # the 7 days before 6/8-6/14
    day_row(datetime.date(2025, 6, 10), orders=1, revenue=Decimal("50"))
    tiles = {tile.key: tile for tile in kpis.tiles(datetime.date(2026, 6, 8), datetime.date(2026, 6, 14))}
    revenue = tiles["revenue"]
    assert (revenue.value, revenue.previous, revenue.last_year) == (Decimal("200"), Decimal("100"), Decimal("50"))
    assert revenue.change_previous == pytest.approx(1.0)
    assert revenue.change_last_year == pytest.approx(3.0)


def chart_json(client, key: str, **params):
    response = client.get(reverse("chart_json", args=[key]), params)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_sales_chart_sets_last_years_weeks_beside_this_years(manager_client):
    day_row(datetime.date(2026, 6, 1), orders=2, revenue=Decimal("10"))
    day_row(datetime.date(2025, 6, 2), orders=1, revenue=Decimal("4"))  # 52 weeks earlier: also a Monday
    data = chart_json(manager_client, "kpi_sales", start="2026-06-01", end="2026-06-07", grain="week")
    assert [column["key"] for column in data["columns"]][:3] == ["period", "revenue", "orders"]
    assert data["rows"] == [["2026-06-01", 10.0, 2, 5.0, 4.0]]


def test_the_csv_holds_the_same_numbers_as_the_chart(manager_client):
    day_row(datetime.date(2026, 6, 1), orders=2, revenue=Decimal("10"), active_members=7, new_members=1)
    params = {"start": "2026-06-01", "end": "2026-06-02", "grain": "day"}
    data = chart_json(manager_client, "kpi_members", **params)
    response = manager_client.get(reverse("chart_csv", args=["kpi_members"]), params)
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="kpi_members-' in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == [column["label"] for column in data["columns"]]
    assert [[str(value) for value in row] for row in data["rows"]] == lines[1:]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-06-10", "end": "2026-06-01"},
        {"start": "not a date"},
        {"grain": "hour"},
        {"start": "1000-01-01"},
        {"start": "2010-01-01", "end": "2026-01-01"},
    ],
    ids=["reversed", "garbage", "unknown-grain", "too-early", "too-long"],
)
def test_a_bad_period_is_refused_with_its_reason(manager_client, params):
    before = DailyKpi.objects.count()
    response = manager_client.get(reverse("chart_json", args=["kpi_sales"]), params)
    assert response.status_code == 400
    assert response.json()["errors"]
    assert manager_client.get(reverse("chart_csv", args=["kpi_sales"]), params).status_code == 400
    page = manager_client.get(reverse("analytics:dashboard"), params)
    assert page.status_code == 400
    for value in params.values():  # what was typed stays in the form
        assert value in page.content.decode()
    assert DailyKpi.objects.count() == before


def test_an_unknown_chart_is_404(manager_client):
    assert manager_client.get(reverse("chart_json", args=["no-such-chart"])).status_code == 404


def test_cohort_retention_is_the_share_of_each_cohort_buying_in_each_later_month(manager_client):
    january, february = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)
    CohortCell.objects.create(cohort=january, offset=0, buyers=4, revenue=Decimal("400"))
    CohortCell.objects.create(cohort=january, offset=1, buyers=2, revenue=Decimal("90"))
    CohortCell.objects.create(cohort=january, offset=2, buyers=1, revenue=Decimal("30"))
    CohortCell.objects.create(cohort=february, offset=0, buyers=5, revenue=Decimal("250"))
    CohortCell.objects.create(cohort=february, offset=1, buyers=1, revenue=Decimal("20"))
    retention = chart_json(manager_client, "cohort_retention")
    assert [row[:5] for row in retention["rows"]] == [
        ["2026-01", "M1", 4, 2, 0.5],
        ["2026-01", "M2", 4, 1, 0.25],
        ["2026-02", "M1", 5, 1, 0.2],
    ]
    revenue = chart_json(manager_client, "cohort_revenue")
    assert revenue["rows"] == [["2026-01", 4, 520.0, 130.0], ["2026-02", 5, 270.0, 54.0]]


def test_the_rfm_chart_shows_each_segment_now_and_at_the_previous_run(manager_client):
    Distribution.objects.create(dimension=Dimension.RFM, key="champions", members=7)
    Distribution.objects.create(dimension=Dimension.RFM, key="at_risk", members=3)
    Distribution.objects.create(dimension=Dimension.RFM_MOVE, key="champions>champions", members=5)
    Distribution.objects.create(dimension=Dimension.RFM_MOVE, key="loyal>champions", members=2)
    Distribution.objects.create(dimension=Dimension.RFM_MOVE, key="champions>at_risk", members=3)
    rows = {
        row[0]: row[1:]
        for row in chart_json(
            manager_client,
            "dist_rfm",
        )["rows"]
    }
    assert rows["Champions"] == [7, 8, 2, 3]  # members, previous, moved in, moved out
    assert rows["At Risk"] == [3, None, 3, 0]
    assert rows["Loyal"] == [0, 2, 0, 2]


def test_a_forecast_that_does_not_beat_its_baseline_is_flagged(manager_client):
    Forecast.objects.create(
        metric="revenue",
        payload={
            "history": [["2026-04-01", 100.0], ["2026-05-01", 110.0]],
            "forecast": [["2026-06-01", 120.0, 110.0, 130.0, 100.0, 140.0]],
            "model": "ETS(A,Ad,N)",
            "backtest": {"mape": 0.2, "baseline_mape": 0.1, "months": 6},
            "beats_baseline": False,
        },
    )
    data = chart_json(manager_client, "forecast_revenue")
    assert data["rows"][-1] == ["2026-06", None, 120.0, 110.0, 130.0, 100.0, 140.0]
    assert data["rows"][-2][1:3] == [110.0, 110.0]  # the forecast line starts at the last actual
    assert data["extra"]["beats_baseline"] is False
    assert any("does not beat" in note for note in data["notes"])


@time_machine.travel(datetime.datetime(2026, 7, 15, 12, tzinfo=datetime.UTC))
def test_the_fastest_growing_provinces_for_chosen_buyers_and_category(manager_client):
    accessories = Category.objects.create(name="配饰")
    sale = {"category": accessories, "age_band": "u25", "gender": "female", "orders": 1, "buyers": 1}
    for month, revenue in ((datetime.date(2026, 1, 1), 100), (datetime.date(2026, 4, 1), 300)):
        MonthlySales.objects.create(month=month, province="广东", revenue=revenue, **sale)
    for month, revenue in ((datetime.date(2026, 2, 1), 100), (datetime.date(2026, 5, 1), 120)):
        MonthlySales.objects.create(month=month, province="浙江", revenue=revenue, **sale)
    MonthlySales.objects.create(
        month=datetime.date(2026, 5, 1), province="上海", revenue=999, **{**sale, "gender": "male"}
    )
    data = chart_json(manager_client, "geo_growth", category=accessories.pk, age_band="u25", gender="female")
    assert [(row[0], row[3]) for row in data["rows"]] == [("广东", 2.0), ("浙江", pytest.approx(0.2))]


@time_machine.travel(datetime.datetime(2026, 7, 15, 12, tzinfo=datetime.UTC))
def test_regions_rank_by_revenue_with_growth_and_spend_per_member(manager_client):
    MonthlyRegion.objects.create(month=datetime.date(2025, 12, 1), province="广东省", city="深圳市", new_members=10)
    MonthlyRegion.objects.create(month=datetime.date(2026, 2, 1), province="广东省", city="深圳市", revenue=100)
    MonthlyRegion.objects.create(month=datetime.date(2026, 5, 1), province="广东省", city="深圳市", revenue=150)
    MonthlyRegion.objects.create(month=datetime.date(2026, 7, 1), province="广东省", city="深圳市", revenue=999)
    data = chart_json(manager_client, "geo_regions", level="city")
    assert data["rows"] == [["广东 深圳市", 10, 250.0, 0.5, 25.0]]  # July is not over: left out; one name per province
    assert chart_json(manager_client, "geo_map")["rows"] == [["广东", 10, 250.0]]


def test_province_names_match_the_maps_short_names():
    assert [
        geography.short_province(name)
        for name in ("广西壮族自治区", "北京市", "广东省", "内蒙古自治区", "香港特别行政区")
    ] == [
        "广西",
        "北京",
        "广东",
        "内蒙古",
        "香港",
    ]


def test_the_dashboard_page_places_every_chart_and_the_key_figures(manager_client):
    AggregateState.objects.create(refreshed_at=datetime.datetime(2026, 6, 1, 5, tzinfo=datetime.UTC))
    page = manager_client.get(reverse("analytics:dashboard"))
    body = page.content.decode()
    for key in ("kpi_sales", "dist_tier", "dist_rfm", "dist_churn", "dist_source", "dist_age_gender"):
        assert f'id="chart-{key}"' in body
    for key in ("cohort_retention", "forecast_revenue", "forecast_active", "geo_map", "geo_growth", "geo_regions"):
        assert f'id="chart-{key}"' in body
    assert body.count('class="card h-100 kpi-tile"') == len(kpis.TILES)
    assert "vendor/echarts/echarts.min.js" in body


def test_the_managers_home_is_the_business(manager_client):
    body = manager_client.get(reverse("home")).content.decode()
    assert 'id="panel-business"' in body
    assert reverse("analytics:dashboard") in body


def test_refreshing_the_figures_queues_one_refresh(manager_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = manager_client.post(reverse("analytics:dashboard_refresh"), follow=True)
    assert len(callbacks) == 1
    assert "being refreshed" in response.content.decode()


def test_a_refresh_under_way_is_not_queued_twice(manager_client, django_capture_on_commit_callbacks):
    from django.db import connections

    from analytics.services.aggregates import LOCK_KEY

    other = connections.create_connection("default")  # another process's refresh holds the lock
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        AggregateState.objects.create(
            started_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC), step="months", done=3, total=8
        )
        with django_capture_on_commit_callbacks() as callbacks:
            response = manager_client.post(reverse("analytics:dashboard_refresh"), follow=True)
        assert callbacks == []
        body = response.content.decode()
        assert "already running" in body
        assert 'aria-valuenow="3"' in body  # the progress bar of the one under way
    finally:
        other.close()


def test_a_refresh_whose_worker_died_says_so(manager_client):
    AggregateState.objects.create(
        started_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC), step="months", done=3, total=8
    )
    body = manager_client.get(reverse("analytics:dashboard_progress")).content.decode()
    assert "stopped before it finished" in body


def test_only_a_manager_may_refresh_the_figures(marketing_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert marketing_client.post(reverse("analytics:dashboard_refresh")).status_code == 403
    assert callbacks == []
