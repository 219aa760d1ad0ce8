"""A manager opens the dashboard from the home page, changes the date range, opens the cohort chart and downloads
its CSV; each chart is looked at for being empty or broken (its canvas drawn and not blank). And the dashboard fits
a phone and a desktop in both languages (screenshots kept)."""

import csv
import datetime
import io
import random
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from analytics.models import AggregateState, CohortCell, DailyKpi, Dimension, Distribution
from crm.roles import Role
from customers.tests.factories import UserFactory
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import log_in

BLANK_CANVAS = """(figure) => {
  const canvas = document.querySelector(`#${figure} canvas`);
  if (!canvas) return -1;
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 230 || data[i + 1] < 230 || data[i + 2] < 230)) inked++;
  }
  return inked;
}"""


def _figures() -> None:
    """What a refresh leaves in the daily tables: 400 days of trade, cohorts and member distributions."""
    rng = random.Random(13)
    today = timezone.localdate()
    rows = []
    for back in range(400):
        orders = rng.randint(20, 60)
        rows.append(
            DailyKpi(
                day=today - datetime.timedelta(days=back),
                new_members=rng.randint(1, 9),
                orders=orders,
                returning_orders=orders // 2,
                revenue=Decimal(orders * rng.randint(80, 140)),
                active_members=900 + back % 50,
                points_issued=orders * 10,
                points_redeemed=orders * 3,
                coupons_redeemed=rng.randint(0, 5),
            )
        )
    DailyKpi.objects.bulk_create(rows)
    first = today.replace(day=1)
    for cohort_index in range(6):
        cohort = (first - datetime.timedelta(days=31 * (6 - cohort_index))).replace(day=1)
        size = 100 + cohort_index * 10
        for offset in range(6 - cohort_index):
            buyers = size if offset == 0 else size // (offset + 2)
            CohortCell.objects.create(cohort=cohort, offset=offset, buyers=buyers, revenue=Decimal(buyers * 90))
    for key, members in (("store", 600), ("online", 300), ("referral", 100)):
        Distribution.objects.create(dimension=Dimension.SOURCE, key=key, members=members)
    AggregateState.objects.create(refreshed_at=timezone.now())


def _drawn(page: Page, *keys: str) -> None:
    for key in keys:
        figure = page.locator(f"#chart-{key}")
        expect(figure).to_have_attribute("data-state", "drawn")
        assert page.evaluate(BLANK_CANVAS, f"chart-{key}") > 200, f"{key}: the chart's canvas is blank"


def test_the_manager_reads_the_dashboard_changes_the_range_and_downloads_the_cohorts(logged_in_page, live_server):
    _figures()
    manager = UserFactory(username="journey-manager", role=Role.MANAGER)
    page = logged_in_page(manager)

    # 1. Home is the business: the key figures and two charts, then the whole dashboard a click away.
    expect(page.locator("#panel-business")).to_be_visible()
    _drawn(page, "kpi_sales")
    page.locator("#open-dashboard").click()
    expect(page.locator("h1")).to_have_text("Dashboard")
    _drawn(page, "kpi_sales", "kpi_members", "kpi_loyalty", "kpi_rewards", "dist_source")
    page.screenshot(path=ARTIFACTS / "dashboard-journey-opened-1280.png", full_page=True)

    # 2. Another range, by month: the chart and its table redraw with one row per month, the tiles follow.
    today = timezone.localdate()
    start = (today - datetime.timedelta(days=180)).replace(day=1)
    revenue_before = page.locator('[data-kpi="revenue"] .kpi-value').inner_text()
    page.fill("#id_start", start.isoformat())
    page.fill("#id_end", today.isoformat())
    page.select_option("#id_grain", "month")
    page.locator("#apply-period").click()
    months = (today.year - start.year) * 12 + today.month - start.month + 1
    sales = page.locator("#chart-kpi_sales")
    expect(sales.locator(".crm-chart-table tbody tr")).to_have_count(months)
    _drawn(page, "kpi_sales")
    expect(page.locator('[data-kpi="revenue"] .kpi-value')).not_to_have_text(revenue_before)
    assert f"start={start.isoformat()}" in page.url

    # 3. The cohort chart: drawn, its numbers a click away, its CSV the same numbers.
    page.get_by_role("link", name="Retention").click()
    cohorts = page.locator("#chart-cohort_retention")
    _drawn(page, "cohort_retention")
    cohorts.locator("summary").click()
    expect(cohorts.locator(".crm-chart-table tbody tr").first).to_be_visible()
    table_rows = cohorts.locator(".crm-chart-table tbody tr").count()
    page.screenshot(path=ARTIFACTS / "dashboard-journey-cohorts-1280.png", full_page=True)
    with page.expect_download() as download:
        cohorts.locator(".crm-chart-csv").click()
    path = download.value.path()
    lines = list(csv.reader(io.StringIO(open(path, encoding="utf-8-sig").read())))  # noqa: SIM115
    assert lines[0][:2] == ["First purchase in", "Months after"]
    assert len(lines) - 1 == table_rows == 15  # 5 + 4 + 3 + 2 + 1 later months across six cohorts


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("width", [390, 1366])
def test_the_dashboard_fits_a_phone_and_a_desktop(browser, live_server, width, language):
    _figures()
    manager = UserFactory(username="width-manager", role=Role.MANAGER)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}, is_mobile=width < 500, has_touch=width < 500
    )
    page = context.new_page()
    try:
        log_in(page, manager)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        for name, url in (("home", "/"), ("dashboard", "/analytics/dashboard/")):
            page.goto(url)
            _drawn(page, "kpi_sales")
            page.screenshot(path=ARTIFACTS / f"dashboard-{name}-{language}-{width}.png", full_page=True)
            document_width = page.evaluate("document.documentElement.scrollWidth")
            assert document_width <= width, f"{url} is {document_width} px wide in {language}"
    finally:
        context.close()
