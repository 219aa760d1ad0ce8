"""Sales staff record a purchase on the customer's page and see points and tier follow."""

import pytest
from playwright.sync_api import expect

from customers.tests.factories import CustomerFactory, TierFactory
from tests.browser.helpers import alert, form_field


@pytest.fixture
def tiers():
    return TierFactory(name="普通", rank=0, min_spend=0), TierFactory(name="银卡", rank=1, min_spend=1000)


def test_recording_a_purchase_adds_points_and_upgrades_the_tier(logged_in_page, sales_user, tiers):
    basic, silver = tiers
    customer = CustomerFactory(name="郑美玲", owner=sales_user, tier=basic)
    page = logged_in_page(sales_user)
    page.goto(customer.get_absolute_url())
    expect(page.locator("#points")).to_have_text("0")
    expect(page.locator("#tier")).to_have_text("普通")

    page.locator("#quick-actions").get_by_role("link", name="Record purchase").click()
    form_field(page, "Amount").fill("1200")
    form_field(page, "Store").fill("西湖店")
    page.get_by_role("button", name="Record purchase").click()

    expect(alert(page)).to_be_visible()
    expect(page.locator("#points")).to_have_text("1200")
    expect(page.locator("#tier")).to_have_text("银卡")
    expect(page.get_by_role("cell", name="¥1,200.00").first).to_be_visible()


def test_a_zero_amount_is_refused_on_the_page(logged_in_page, sales_user, tiers):
    customer = CustomerFactory(owner=sales_user, tier=tiers[0])
    page = logged_in_page(sales_user)
    page.goto(customer.get_absolute_url())

    page.locator("#quick-actions").get_by_role("link", name="Record purchase").click()
    form_field(page, "Amount").fill("0")
    page.get_by_role("button", name="Record purchase").click()

    expect(page.locator("#quick-action-panel").get_by_text("greater than or equal to 0.01")).to_be_visible()
    expect(form_field(page, "Amount")).to_have_value("0")
    page.goto(customer.get_absolute_url())
    expect(page.locator("#points")).to_have_text("0")
