"""The customer page's masked fields and their Show buttons, on a phone and a desktop, in both languages."""

import datetime

import pytest
from playwright.sync_api import expect

from crm.models import AuditAction, AuditEvent
from crm.roles import Role
from customers.models import IdType
from customers.tests.factories import CustomerFactory, UserFactory
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_customer_page import _open


@pytest.fixture
def member(db):
    desk = UserFactory(username="desk", role=Role.SERVICE)
    customer = CustomerFactory(
        name="欧阳娜娜",
        mobile="+8613600001234",
        email="ouyang.nana.long.address@example-company.com.cn",
        birthday=datetime.date(1990, 5, 12),
        province="广东省",
        city="深圳市",
        address="南山区科技园南区深南大道 9988 号",
    )
    customer.id_type, customer.id_number = IdType.RESIDENT_ID, "11010519491231002X"
    customer.save()
    return desk, customer


@pytest.mark.parametrize("width", [390, 1366])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_show_buttons_keep_the_layout_and_reveal_a_callable_number(browser, live_server, member, width, language):
    desk, customer = member
    context, page = _open(browser, live_server, desk, width=width, height=900, language=language)
    try:
        page.goto(customer.get_absolute_url())
        expect(page.locator("#summary-mobile")).to_contain_text("+86136****1234")
        assert page.locator("#profile .reveal-button").count() == 5
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"personal-{width}-{language}.png", full_page=True)

        page.locator("#summary-mobile .reveal-button").click()
        expect(page.locator('#summary-mobile a[href="tel:+8613600001234"]')).to_have_text("136 0000 1234")
        page.locator("#profile [data-field=email] .reveal-button").click()
        expect(page.locator("#profile [data-field=email] a")).to_contain_text("ouyang.nana")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=ARTIFACTS / f"personal-{width}-{language}-revealed.png", full_page=True)
        fields = [e.changes["field"] for e in AuditEvent.objects.filter(action=AuditAction.REVEAL).order_by("pk")]
        assert fields == ["mobile", "email"]
    finally:
        context.close()
