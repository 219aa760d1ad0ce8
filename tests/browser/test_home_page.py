"""The home page on a phone and a laptop: the desk's day and marketing's panels fit the window, and a follow-up
is done from the home page without leaving it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from customers.tests.factories import CustomerFactory
from interactions.models import Reminder, ReminderStatus
from interactions.tests.factories import InteractionFactory, ReminderFactory, TransactionFactory
from marketing.models import (
    Automation,
    AutomationKind,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Message,
    MessageStatus,
    Segment,
)
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import log_in

WIDTHS = [390, 1366]


def _service_day(user) -> None:
    today = timezone.localdate()
    for n, name in enumerate(["欧阳娜娜", "司马相如", "诸葛孔明"]):
        customer = CustomerFactory(name=name, birthday=today.replace(year=1990) + datetime.timedelta(days=n))
        ReminderFactory(assignee=user, customer=customer, text=f"回访：询问会员积分兑换规则以及生日礼遇 {n}")
        InteractionFactory(staff=user, customer=customer, subject="询问会员积分兑换规则以及生日礼遇的具体领取方式")
        TransactionFactory(customer=customer, recorded_by=user, amount=Decimal("1288.00"), store="上海南京西路旗舰店")


def _marketing() -> None:
    Segment.objects.create(name="高价值会员（近一年消费超过一万元）", member_count=123456, counted_at=timezone.now())
    campaign = Campaign.objects.create(
        name="中秋节会员专享优惠活动第二波",
        segment=Segment.objects.create(name="中秋名单"),
        status=CampaignStatus.SENDING,
    )
    Message.objects.bulk_create(
        Message(campaign=campaign, customer=CustomerFactory(), status=status)
        for status in (MessageStatus.SENT, MessageStatus.QUEUED, MessageStatus.QUEUED)
    )
    Campaign.objects.create(
        name="国庆黄金周回馈老会员活动",
        segment=Segment.objects.create(name="国庆名单"),
        status=CampaignStatus.SENT,
        finished_at=timezone.now() - datetime.timedelta(days=2),
    )
    # The live server's tests flush the tables, the automations the migration installed with them.
    greeting = Campaign.objects.create(name="生日祝福", kind=CampaignKind.AUTOMATION)
    Automation.objects.create(kind=AutomationKind.BIRTHDAY, campaign=greeting, enabled=True)
    Message.objects.create(
        campaign=greeting, customer=CustomerFactory(), status=MessageStatus.SENT, sent_at=timezone.now()
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["service", "marketing"])
def test_the_home_page_fits_the_window(browser: Browser, live_server, service_user, marketing_user, role, width):
    if role == "service":
        user = service_user
        _service_day(user)
    else:
        user = marketing_user
        _marketing()
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        log_in(page, user)
        page.goto("/")
        expect(page.locator("#panel-follow-ups" if role == "service" else "#panel-segments")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"home-{role}-{width}.png", full_page=True)
    finally:
        context.close()


def test_a_follow_up_is_done_from_the_home_page(logged_in_phone_page, sales_user):
    customer = CustomerFactory(name="林晓燕", owner=sales_user)
    ReminderFactory(assignee=sales_user, customer=customer, text="Bring the blue coat", due_at=timezone.now())
    page = logged_in_phone_page(sales_user)
    page.goto("/")
    row = page.locator("#home-follow-ups li").filter(has_text="Bring the blue coat")
    row.get_by_role("button", name="Mark done").click()
    expect(page.locator("#home-follow-ups li[data-status=done]")).to_contain_text("Done")
    assert page.url.endswith("/")
    assert Reminder.objects.get().status == ReminderStatus.DONE
