"""Merging two records on a phone: both values of every detail side by side, the one ticked survives."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from crm.roles import Role
from customers.models import Customer
from customers.tests.factories import CustomerFactory, UserFactory
from tests.browser.helpers import alert, log_in

pytestmark = pytest.mark.browser


def test_a_manager_picks_the_other_records_email_on_a_phone(logged_in_phone_page):
    manager = UserFactory(username="merging-manager", role=Role.MANAGER)
    kept = CustomerFactory(name="欧阳娜娜", email="old@example.com", company="", owner=manager)
    other = CustomerFactory(name="欧阳娜娜", email="new@example.com", company="杭州一中", owner=manager)
    page = logged_in_phone_page(manager)
    page.goto(f"{reverse('customers:merge')}?a={kept.crm_number}&b={other.crm_number}")

    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    company = page.locator('tr[data-field="company"] td')
    expect(company).to_have_count(2)
    # Blank on one side: a dash, on the same line as the other's value, and the other's value ticked.
    expect(company.nth(0)).to_contain_text("—")
    boxes = [company.nth(i).bounding_box() for i in range(2)]
    assert boxes[0]["y"] == boxes[1]["y"]
    expect(company.nth(1).get_by_role("radio")).to_be_checked()

    page.locator('tr[data-field="email"] td').nth(1).get_by_role("radio").check()
    page.get_by_role("button", name="Merge into the chosen customer").click()

    expect(alert(page)).to_contain_text(f"{other.crm_number_display} merged into {kept.crm_number_display}")
    kept.refresh_from_db()
    assert (kept.email, kept.company) == ("new@example.com", "杭州一中")
    assert not Customer.objects.filter(pk=other.pk).exists()


def test_each_detail_name_stays_on_one_line_on_a_desktop_in_chinese(page, live_server):
    # The two value columns take half the table each; the names' column once shrank to one character
    # and 资料项, 手机号, 原会员号 stood one character a line.
    manager = UserFactory(username="merging-manager-zh", role=Role.MANAGER)
    kept = CustomerFactory(name="欧阳娜娜", owner=manager)
    other = CustomerFactory(name="欧阳娜娜", owner=manager)
    log_in(page, manager)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto(f"{reverse('customers:merge')}?a={kept.crm_number}&b={other.crm_number}")

    names = page.locator("#merge-compare th.d-md-table-cell")
    expect(names.first).to_have_text("资料项")
    lines = names.evaluate_all(
        """cells => cells.map(cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return [cell.textContent.trim(), new Set([...range.getClientRects()].map(r => Math.round(r.top))).size];
        })"""
    )
    assert len(lines) > 10
    assert [name for name, count in lines if count != 1] == []
