"""Bulk actions on the customer list, on a 360 px phone: tick rows, pick the action, see what changed."""

import pytest
from playwright.sync_api import Browser, expect

from crm.lib.pagination import CappedPaginator
from crm.models import AuditAction, AuditEvent
from crm.roles import Role
from customers.models import Customer
from customers.tests.factories import CustomerFactory, TagFactory, UserFactory
from tests.browser.helpers import alert, log_in

WIDTH = 360


@pytest.fixture
def phone(browser: Browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": 740}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


def test_on_a_phone_a_manager_tags_the_ticked_rows_and_reassigns_all_matching(phone):
    manager = UserFactory(username="bulk-manager", role=Role.MANAGER)
    seller = UserFactory(username="bulk-seller", role=Role.SALES)
    TagFactory(name="回访")
    first, second = CustomerFactory(name="赵一", city="苏州市"), CustomerFactory(name="钱二", city="苏州市")
    other = CustomerFactory(name="孙三", city="杭州市")
    page = log_in(phone, manager)
    page.goto("/customers/")

    bar = page.locator("#bulk-form")
    expect(bar).to_be_visible()
    assert bar.evaluate("el => el.getBoundingClientRect().right") <= WIDTH
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    expect(page.locator("#bulk-tag")).to_be_hidden()  # only the chosen action's field shows
    expect(page.locator("#bulk-owner")).to_be_hidden()

    page.get_by_label("Tick 赵一").check()
    page.get_by_label("Tick 钱二").check()
    expect(page.locator("#bulk-scope option[value=selected]")).to_have_text("Ticked rows (2)")
    page.locator("#bulk-action").select_option("tag_add")
    expect(page.locator("#bulk-owner")).to_be_hidden()
    page.locator("#bulk-tag").fill("回访")
    page.locator("#bulk-submit").click()
    expect(alert(page)).to_contain_text("Tag “回访” added to 2 customers.")
    assert set(Customer.objects.filter(tags__name="回访").values_list("pk", flat=True)) == {first.pk, second.pk}

    page.goto("/customers/?city=苏州市")
    page.locator("#bulk-scope").select_option("all")
    page.locator("#bulk-action").select_option("reassign")
    page.locator("#bulk-owner").select_option(label="bulk-seller")
    page.once("dialog", lambda dialog: dialog.accept())  # changing everyone the filter finds asks first
    page.locator("#bulk-submit").click()
    expect(alert(page)).to_contain_text("2 customers now owned by bulk-seller.")
    assert set(Customer.objects.filter(owner=seller).values_list("pk", flat=True)) == {first.pk, second.pk}
    other.refresh_from_db()
    assert other.owner is None
    assert AuditEvent.objects.filter(action=AuditAction.BULK).count() == 4


def test_the_page_box_ticks_every_row_and_dismissing_the_question_changes_nothing(phone):
    manager = UserFactory(username="bulk-manager", role=Role.MANAGER)
    TagFactory(name="回访")
    CustomerFactory.create_batch(3)
    page = log_in(phone, manager)
    page.goto("/customers/")
    page.get_by_label("Tick every row on this page").check()
    expect(page.locator("#bulk-scope option[value=selected]")).to_have_text("Ticked rows (3)")
    page.locator("#bulk-scope").select_option("all")
    page.locator("#bulk-action").select_option("tag_add")
    page.locator("#bulk-tag").fill("回访")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#bulk-submit").click()
    expect(page).to_have_url(f"{page.url}")
    # This manager's: a bulk change another test's page left in flight may land late under a loaded CI run.
    assert not AuditEvent.objects.filter(action=AuditAction.BULK, actor=manager).exists()


def test_on_a_phone_a_mobile_number_stays_on_one_line_beside_the_tick_boxes(phone):
    # The tick-box column took the width the number needed, and "145 5130 / 4263" broke over two lines.
    manager = UserFactory(username="bulk-manager", role=Role.MANAGER)
    CustomerFactory(name="Timothy Campbell", mobile="+8614510444935")
    page = log_in(phone, manager)
    page.goto("/customers/")

    cell = page.locator("#results tbody tr").first.locator("td").nth(3)
    expect(cell).to_contain_text("****4935")  # lists show contacts masked, to everyone
    lines = cell.evaluate(
        """cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
        }"""
    )
    assert lines == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_on_a_phone_the_export_format_shows_its_name_beside_an_estimated_count(phone, monkeypatch):
    # With "About 1,001 customers (an estimate)" beside it, the format select shrank to an empty box.
    monkeypatch.setattr(CappedPaginator.__init__, "__kwdefaults__", {"cap": 2, "estimate": False})  # past the cap
    manager = UserFactory(username="bulk-manager", role=Role.MANAGER)
    CustomerFactory.create_batch(4)
    page = log_in(phone, manager)
    page.goto("/customers/")

    expect(page.locator("#result-count")).to_contain_text("(an estimate)")
    select = page.locator('#export-form select[name="format"]')
    expect(select).to_have_value("csv")
    room, text = select.evaluate(
        """select => {
            const style = getComputedStyle(select);
            const context = document.createElement("canvas").getContext("2d");
            context.font = style.font;
            const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return [room, context.measureText(select.selectedOptions[0].text).width];
        }"""
    )
    assert room >= text
