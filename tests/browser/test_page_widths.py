"""Every page a Manager opens fits the window at phone, tablet, laptop and desktop widths, in both languages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.models import Job, JobKind, JobStatus
from crm.roles import Role
from customers.tests.factories import CustomerFactory, TagFactory, UserFactory
from interactions.models import UnmatchedMention
from interactions.services import transaction_record
from interactions.tests.factories import InteractionFactory, ReminderFactory
from tests.browser.helpers import log_in

WIDTHS = [360, 768, 1280, 1920]


@pytest.fixture
def pages(live_server) -> tuple:
    manager = UserFactory(username="wide-manager", role=Role.MANAGER)
    customer = CustomerFactory(name="欧阳娜娜", owner=manager, tags=[TagFactory(name="高价值会员")])
    purchase = transaction_record(customer=customer, amount=Decimal("1288.00"), store="上海南京西路旗舰店")
    InteractionFactory(customer=customer, subject="询问会员积分兑换规则以及生日礼遇的具体领取方式")
    ReminderFactory(customer=customer, assignee=manager)
    UnmatchedMention.objects.create(platform="weibo", handle="a_very_long_handle_of_someone", text="差评" * 40)
    job = Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=manager, status=JobStatus.DONE, total=1, done=1)
    number = customer.crm_number
    urls = [
        reverse("customers:list"),
        reverse("customers:create"),
        reverse("customers:duplicates"),
        reverse("customers:detail", args=[number]),
        reverse("customers:edit", args=[number]),
        reverse("customers:points_adjust", args=[number]),
        reverse("customers:points_redeem", args=[number]),
        reverse("interactions:purchase_record", args=[number]),
        reverse("interactions:purchase_refund", args=[number, purchase.pk]),
        reverse("interactions:interaction_log", args=[number]),
        reverse("interactions:reports"),
        reverse("interactions:my_day"),
        reverse("interactions:mention_queue"),
        reverse("import"),
        job.get_absolute_url(),
    ]
    return manager, urls


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_is_wider_than_the_window(browser, live_server, pages, language):
    manager, urls = pages
    context = browser.new_context(base_url=live_server.url, viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    try:
        log_in(page, manager)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        too_wide = []
        for url in urls:
            page.goto(url)
            # One load per page, then each width: a resize lays the page out again as a fresh load would.
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                document_width = page.evaluate("document.documentElement.scrollWidth")
                if document_width > width:
                    too_wide.append(f"{url} at {width} px: {document_width} px")
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        assert too_wide == [], f"wider than the window in {language}"
    finally:
        context.close()
