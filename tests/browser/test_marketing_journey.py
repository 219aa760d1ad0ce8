"""A marketer builds a segment with a nested OR group, checks why a member matches, saves it, issues an offer to
it; the desk redeems one code and sees the discount on the purchase."""

from decimal import Decimal

from playwright.sync_api import expect

from crm.models import Job, JobKind
from customers.tests.factories import CustomerFactory
from marketing.models import Coupon, CouponOffer
from marketing.tasks import coupons_issue_task
from tests.browser.helpers import alert, form_field


def _settled(page) -> None:
    """Wait until htmx has swapped and settled: a select in fresh content hears nothing until htmx has
    processed it, as a person, who takes longer than that, never notices."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    page.wait_for_timeout(50)


def _choose(page, name: str, value: str) -> None:
    """Pick in a builder select and wait for the builder to come back with the inputs that choice takes."""
    _settled(page)
    with page.expect_response(lambda r: r.request.method == "POST" and "/segments/new/" in r.url):
        page.select_option(f"select[name='{name}']", value)
    _settled(page)


def _click(page, locator) -> None:
    with page.expect_response(lambda r: r.request.method == "POST" and "/segments/new/" in r.url):
        locator.click()
    _settled(page)


def test_segment_to_coupon_to_discount(logged_in_page, manager_user):
    rich_hz = CustomerFactory(name="杭州大客户", points_balance=900, city="杭州市")
    CustomerFactory(name="宁波大客户", points_balance=900, city="宁波市")
    CustomerFactory(name="杭州新客", points_balance=10, city="杭州市")
    CouponOffer.objects.create(name="20 off", value=Decimal("20"), min_spend=Decimal("100"))
    page = logged_in_page(manager_user)

    # 1. Build: points over 500 AND (city is 杭州市 OR city is 上海市); the count follows each change.
    page.goto("/marketing/segments/new/")
    page.fill("#id_name", "杭州高积分")
    _choose(page, "field-1", "points_balance")
    _choose(page, "operator-1", "gt")
    page.fill("input[name='value-1']", "500")
    page.locator("input[name='value-1']").press("Tab")
    expect(page.locator("#live-count")).to_have_text("2")
    _click(page, page.get_by_role("button", name="Add group").last)
    _choose(page, "field-2.1", "city")
    page.fill("input[name='value-2.1']", "杭州市")
    page.locator("input[name='value-2.1']").press("Tab")
    expect(page.locator("#live-count")).to_have_text("1")
    _click(page, page.locator("#group-2").get_by_role("button", name="Add condition"))
    _choose(page, "field-2.2", "city")
    page.fill("input[name='value-2.2']", "宁波市")
    page.locator("input[name='value-2.2']").press("Tab")
    expect(page.locator("#live-count")).to_have_text("2")

    # 2-3. Save, then ask why a member matches.
    page.get_by_role("button", name="Save segment").click()
    expect(page.locator("#member-count")).to_have_text("2")
    page.fill("#id_number", rich_hz.crm_number_display)
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#verdict")).to_have_text("This member matches.")
    expect(page.locator("#verdict-tree")).to_contain_text("900")

    # 4. Issue the offer to the segment (the job's task runs as a worker would).
    page.goto("/marketing/offers/")
    page.get_by_role("link", name="20 off").click()
    page.select_option("#id_segment", label="杭州高积分")
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.locator("#job-progress, .progress").first).to_be_visible()
    coupons_issue_task(Job.objects.get(kind=JobKind.COUPON_ISSUE).pk)
    assert Coupon.objects.count() == 2

    # 5. The desk redeems the member's code and sees the discount on the purchase.
    code = Coupon.objects.get(customer=rich_hz).code_display
    page.goto(rich_hz.get_absolute_url())
    page.locator("#quick-actions").get_by_role("link", name="Record purchase").click()
    form_field(page, "Amount").fill("150")
    form_field(page, "Coupon code").fill(code.lower())
    page.get_by_role("button", name="Record purchase").click()
    expect(alert(page).first).to_be_visible()
    page.get_by_role("link", name="Purchases").click()
    expect(page.get_by_text("coupon −¥20.00")).to_be_visible()
    expect(page.get_by_role("cell", name="¥130.00").first).to_be_visible()
