"""The customer page on a phone and a desktop: who the member is comes first, and a quick action opens its form."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.roles import Role
from customers.tests.factories import CustomerFactory, TagFactory, TierFactory, UserFactory
from interactions.services import transaction_record
from interactions.tests.factories import InteractionFactory, ReminderFactory
from tests.browser.conftest import ARTIFACTS, TIMEOUT_MS
from tests.browser.helpers import form_field, log_in

LABELS = {
    "en": {"purchase": "Record purchase", "amount": "Amount", "purchases": "Purchases"},
    "zh-hans": {"purchase": "录入消费", "amount": "金额", "purchases": "消费记录"},
}


@pytest.fixture
def member(db):
    manager = UserFactory(username="desk-manager", role=Role.MANAGER)
    customer = CustomerFactory(
        name="欧阳娜娜",
        mobile="13600001234",
        owner=manager,
        tier=TierFactory(name="金卡", name_en="Gold", name_zh_hans="金卡"),
        tags=[TagFactory(name="高价值会员"), TagFactory(name="VIP")],
        sms_opt_in=True,
    )
    for amount in ("1288.00", "356.50", "99.00"):
        transaction_record(customer=customer, amount=Decimal(amount), store="上海南京西路旗舰店")
    InteractionFactory(customer=customer, subject="询问会员积分兑换规则以及生日礼遇的具体领取方式")
    ReminderFactory(customer=customer, assignee=manager)
    return manager, customer


def _open(browser, live_server, user, *, width: int, height: int, language: str):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": height},
        is_mobile=width < 576,
        has_touch=width < 576,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in(page, user)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    return context, page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_on_a_phone_the_summary_is_on_the_first_screen_and_a_quick_action_opens_its_form(
    browser, live_server, member, language
):
    manager, customer = member
    context, page = _open(browser, live_server, manager, width=360, height=740, language=language)
    try:
        page.goto(customer.get_absolute_url())
        screen = page.evaluate("window.innerHeight")
        for part in ("#tier", "#points", "#consent", "#quick-actions"):
            box = page.locator(part).bounding_box()
            assert box is not None and box["y"] + box["height"] <= screen, f"{part} is below the first screen"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"customer-page-360-{language}.png")
        page.screenshot(path=ARTIFACTS / f"customer-page-360-{language}-full.png", full_page=True)

        labels = LABELS[language]
        page.locator("#quick-actions").get_by_role("link", name=labels["purchase"]).click()
        panel = page.locator("#quick-action-panel")
        expect(form_field(panel, labels["amount"])).to_be_focused()
        assert page.url.endswith(customer.get_absolute_url())  # the form came to the page, no navigation
        page.screenshot(path=ARTIFACTS / f"customer-page-360-{language}-form.png")

        form_field(panel, labels["amount"]).fill("0")
        panel.locator("[type=submit]").click()
        expect(page.locator("#quick-action-panel .invalid-feedback")).to_be_visible()
        expect(form_field(page.locator("#quick-action-panel"), labels["amount"])).to_have_value("0")

        page.locator("#quick-action-panel [data-quick-action-close]").click()
        expect(page.locator("#quick-action-panel")).to_have_count(0)

        page.locator("#customer-tab-list").get_by_role("link", name=labels["purchases"]).click()
        expect(page.locator("#purchases")).to_contain_text("¥1,288.00")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=ARTIFACTS / f"customer-page-360-{language}-purchases.png", full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_on_a_desktop_tabs_load_their_history_in_place(browser, live_server, member, language):
    manager, customer = member
    context, page = _open(browser, live_server, manager, width=1280, height=900, language=language)
    try:
        page.goto(customer.get_absolute_url())
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        expect(page.locator("#purchases")).to_have_count(0)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"customer-page-1280-{language}.png", full_page=True)

        page.locator("#customer-tab-list").get_by_role("link", name=LABELS[language]["purchases"]).click()
        expect(page.locator("#purchases")).to_contain_text("上海南京西路旗舰店")
        assert "tab=purchases" in page.url
        page.locator("#purchases [data-refund]").first.click()
        expect(page.locator("#refund-details")).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"customer-page-1280-{language}-refund.png", full_page=True)
    finally:
        context.close()
