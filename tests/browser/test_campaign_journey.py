"""A marketer writes a campaign for a segment with a coupon and a control group (the editor shows a template
error with its line as it is typed), previews it for a member, sends it, watches the progress bar and opens
the results; and the campaign pages fit a phone and a desktop in both languages (screenshots kept)."""

from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from crm.roles import Role
from customers.tests.factories import CustomerFactory, UserFactory
from marketing.models import Campaign, CampaignStatus, CouponOffer, Message, MessageStatus, Segment
from marketing.services.campaigns import TemplateText, campaign_create
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import alert, form_field, log_in


def _results_installed() -> bool:
    try:
        reverse("marketing:campaign_results", args=[1])
    except NoReverseMatch:
        return False
    return True


def _members() -> list:
    return [
        CustomerFactory(name=name, email=f"m{n}@example.com", email_opt_in=True, language=language)
        for n, (name, language) in enumerate(
            [("王芳", "zh-hans"), ("李娜", "zh-hans"), ("Ann Lee", "en"), ("Bo Chen", "en"), ("张伟", "")] * 4
        )
    ]


def _settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def test_write_preview_send_and_watch_a_campaign(logged_in_page, live_server):
    marketer = UserFactory(username="journey-marketer", role=Role.MARKETING)
    members = _members()
    Segment.objects.create(name="Everyone")
    CouponOffer.objects.create(name="Spring 20", value=Decimal("20"), min_spend=Decimal("100"))
    page = logged_in_page(marketer)

    # 1. From the Marketing menu to a new campaign: a segment, a coupon, a 20% control group.
    page.locator("#marketing-menu").click()
    page.locator("#marketing-menu + .dropdown-menu").get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name="New campaign").click()
    form_field(page, "Name").fill("Spring thanks")
    page.select_option("#id_segment", label="Everyone")
    page.select_option("#id_offer", label="Spring 20")
    form_field(page, "Control group %").fill("20")
    chinese = page.locator("#variant-A")
    page.fill("#id_A-zh-hans-subject", "{{ name }}，春季回馈")
    # A typo shows under the field with its line while typing; fixing it clears the error.
    page.fill("#id_A-zh-hans-body", "{{ name }}您好：\n您的优惠码 {{ coupon_cod }}")
    expect(page.locator("#check-A-zh-hans-body")).to_contain_text("Line 2")
    page.fill("#id_A-zh-hans-body", "{{ name }}您好：\n您的优惠码 {{ coupon_code }}，有效期至 {{ coupon_expiry }}")
    expect(page.locator("#check-A-zh-hans-body")).to_contain_text("The template is fine.")
    page.fill("#id_A-en-subject", "Spring thanks, {{ name }}")
    page.fill("#id_A-en-body", "Hello {{ name }},\nyour code: {{ coupon_code }}")
    expect(chinese).to_be_visible()
    page.get_by_role("button", name="Save campaign").click()
    expect(alert(page).first).to_contain_text("Campaign “Spring thanks” saved.")
    campaign = Campaign.objects.get(name="Spring thanks")
    assert (campaign.control_percent, campaign.offer.name) == (20, "Spring 20")

    # 2. Preview: who it would reach, and one member's message in their language with a sample code.
    expect(page.locator("#would-send")).to_be_visible()
    _settled(page)
    page.fill("#preview-number", members[0].crm_number_display)
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(page.locator("[data-preview-body]").first).to_contain_text("王芳您好")
    expect(page.locator("[data-preview-body]").first).to_contain_text("ABCD-EFGH")
    expect(page.locator("#preview-address")).to_have_text("m***@example.com")

    # 3. Send it: the membership is frozen into rows, the progress bar shows.
    page.get_by_role("button", name="Start now").click()
    expect(alert(page).first).to_contain_text("is sending")
    expect(page.locator("#campaign-progress .progress")).to_be_visible()
    rows = Message.objects.filter(campaign=campaign)
    assert rows.count() == len(members)
    assert rows.filter(status=MessageStatus.HELD_OUT).count() < len(members)

    # 4. Watch: a worker sends the batches (run here as a worker would); the polled bar moves, and when the
    # last one is out the page reloads as sent.
    from marketing.services import sending

    while (result := sending.messages_send_batch(campaign_id=campaign.pk)) is not None and result.more:
        pass
    expect(page.locator("h1 [data-status]")).to_have_attribute("data-status", CampaignStatus.SENT, timeout=10_000)
    expect(page.locator("#progress-done")).to_contain_text("handed to the provider")
    page.screenshot(path=ARTIFACTS / "campaign-journey-sent-1280.png", full_page=True)

    # 5. The results page (the results work), when it is installed.
    if not _results_installed():
        pytest.skip("marketing:campaign_results is not installed on this branch: the journey stops at progress")
    page.locator("#results-link").click()
    expect(page.locator("h1")).to_contain_text("Spring thanks")
    page.screenshot(path=ARTIFACTS / "campaign-journey-results-1280.png", full_page=True)


@pytest.fixture
def campaign_pages(live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    marketer = UserFactory(username="wide-marketer", role=Role.MARKETING)
    segment = Segment.objects.create(name="春季活跃会员 Spring actives")
    for n, member in enumerate(_members()[:5]):
        member.mobile = f"1380013800{n}"
        member.sms_opt_in = True
        member.save()
    offer = CouponOffer.objects.create(name="春季满100减20", value=Decimal("20"), min_spend=Decimal("100"))
    email = campaign_create(
        name="春季回馈 Spring thanks",
        channel="email",
        segment=segment,
        offer=offer,
        test_percent=30,
        variants=[
            {
                "zh-hans": TemplateText(
                    subject="{{ name }}，春季回馈",
                    body="{{ name }}您好：\n优惠码 {{ coupon_code }}，有效期至 {{ coupon_expiry }}",
                ),
                "en": TemplateText(
                    subject="Spring thanks, {{ name }}", body="Hello {{ name }},\nyour code {{ coupon_code }}"
                ),
            },
            {
                "zh-hans": TemplateText(subject="B：{{ name }}", body="B版本：{{ name }}，积分 {{ points }}"),
                "en": TemplateText(subject="B: {{ name }}", body="Version B: {{ name }}, {{ points }} points"),
            },
        ],
        actor=marketer,
    )
    sms = campaign_create(
        name="积分到期提醒 Points reminder",
        channel="sms",
        segment=segment,
        variants=[
            {
                "zh-hans": TemplateText(
                    body="【会员中心】{{ name }}您好，您有{{ points }}积分将于月底到期，请尽快使用。"
                ),
                "en": TemplateText(body="{{ name }}, your {{ points }} points expire at the end of the month."),
            }
        ],
        actor=marketer,
    )
    urls = {
        "list": reverse("marketing:campaign_list"),
        "new": reverse("marketing:campaign_create"),
        "email": email.get_absolute_url(),
        "sms": sms.get_absolute_url(),
        "edit": reverse("marketing:campaign_edit", args=[email.pk]),
    }
    return marketer, urls


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("width", [390, 1280])
def test_campaign_pages_fit_a_phone_and_a_desktop(browser, live_server, campaign_pages, width, language):
    marketer, urls = campaign_pages
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}, is_mobile=width < 500, has_touch=width < 500
    )
    page = context.new_page()
    try:
        log_in(page, marketer)
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        too_wide = []
        for name, url in urls.items():
            page.goto(url)
            _settled(page)
            page.wait_for_timeout(300)  # the audience and preview arrive after the page
            page.screenshot(path=ARTIFACTS / f"campaign-{name}-{language}-{width}.png", full_page=True)
            document_width = page.evaluate("document.documentElement.scrollWidth")
            if document_width > width:
                too_wide.append(f"{url}: {document_width} px")
        assert too_wide == [], f"wider than {width} px in {language}"
    finally:
        context.close()


def test_the_sms_editor_counts_parts_as_you_type_on_a_phone(logged_in_phone_page):
    marketer = UserFactory(username="phone-marketer", role=Role.MARKETING)
    Segment.objects.create(name="Everyone")
    page = logged_in_phone_page(marketer)
    page.goto(reverse("marketing:campaign_create"))
    expect(page.locator("#id_A-en-subject")).to_be_visible()
    expect(page.locator("#variant-B")).to_be_hidden()
    page.select_option("#id_channel", "sms")
    expect(page.locator("#id_A-en-subject")).to_be_hidden()  # an SMS has no subject and no HTML
    page.fill("#id_A-zh-hans-body", "您" * 65)
    expect(page.locator("#check-A-zh-hans-body .sms-length")).to_have_attribute("data-parts", "1")
    page.fill("#id_A-zh-hans-body", "您" * 66)  # with " 回T退订" one past 70: two parts of 67
    expect(page.locator("#check-A-zh-hans-body .sms-length")).to_have_attribute("data-parts", "2")
    page.select_option("#id_variant_count", "2")
    expect(page.locator("#variant-B")).to_be_visible()
    expect(page.locator("#id_test_percent")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_editing_an_sms_campaign_shows_each_texts_parts_at_once(logged_in_page, campaign_pages):
    marketer, _urls = campaign_pages
    sms = Campaign.objects.get(channel="sms")
    page = logged_in_page(marketer)
    page.goto(reverse("marketing:campaign_edit", args=[sms.pk]))
    expect(page.locator("#check-A-zh-hans-body .sms-length")).to_have_attribute("data-parts", "1")
    expect(page.locator("#check-A-en-body .sms-length")).to_be_visible()
