"""An import on a 360 px phone: the mapping page lists the file's columns stacked, with styled selects and
no sideways scrolling, and the finished job shows its bad rows and the members it imported."""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from crm.models import Job, JobKind
from crm.roles import Role
from crm.tasks import import_task
from customers.tests.factories import UserFactory
from tests.browser.helpers import log_in

WIDTH = 360
HEADERS = ["会员编号", "姓名", "手机号", "邮箱", "详细地址", "公司名称（旧系统导出字段）", "备注"]
LONG_EMAIL = "ouyang.nana.with.a.very.long.address@example.com"
ROWS = [
    [
        "HY-1",
        "欧阳娜娜",
        "13800000001",
        LONG_EMAIL,
        "上海市静安区南京西路1266号恒隆广场",
        "上海某某贸易有限公司",
        "老会员",
    ],
    ["HY-2", "王五", "12345", "wang@example.com", "北京市朝阳区", "", ""],
]


@pytest.mark.browser
def test_an_import_fits_a_phone_from_mapping_to_result(browser: Browser, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    manager = UserFactory(username="import-manager", role=Role.MANAGER)
    csv_path = tmp_path / "members.csv"
    csv_path.write_text("\n".join(",".join(row) for row in [HEADERS, *ROWS]) + "\n", encoding="utf-8")
    context = browser.new_context(base_url=live_server.url, viewport={"width": WIDTH, "height": 800})
    page = context.new_page()
    try:
        log_in(page, manager)
        page.goto(reverse("import"))
        page.get_by_label("Customers", exact=True).check()
        page.locator("input[type=file]").set_input_files(str(csv_path))
        page.get_by_role("button", name="Upload and preview").click()
        selects = page.locator("#import-preview select")
        expect(selects).to_have_count(len(HEADERS))
        assert all("form-select" in (c or "") for c in selects.evaluate_all("els => els.map(e => e.className)"))
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert max(selects.evaluate_all("els => els.map(e => e.getBoundingClientRect().right)")) <= WIDTH
        expect(page.locator("#import-preview").get_by_label("手机号", exact=True)).to_have_value("mobile")
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.locator("#job-progress")).to_be_visible()
        import_task(Job.objects.get(kind=JobKind.CUSTOMERS_IMPORT).pk)  # what the worker does
        page.reload()
        expect(page.locator("#import-errors")).to_contain_text("手机号")
        expect(page.locator("#import-members")).to_contain_text("欧阳娜娜")
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    finally:
        context.close()
