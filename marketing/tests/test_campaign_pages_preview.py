"""Before sending: one member's message in their language, with their contact masked as the role says, and an
SMS's length and parts including the opt-out line."""

import pytest
from django.urls import reverse
from hypothesis import given

from customers.tests.factories import CustomerFactory
from marketing.models import CouponOffer, Segment
from marketing.services.campaigns import TemplateText, campaign_create
from tests.hostile import hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(db):
    return Segment.objects.create(name="Everyone")


def bilingual(segment, *, channel="email", offer=None, variants=1):
    texts = [
        {
            "en": TemplateText(subject="Hi {{ name }}", body=f"{label}: {{{{ name }}}} has {{{{ points }}}} points"),
            "zh-hans": TemplateText(subject="{{ name }}您好", body=f"{label}：{{{{ name }}}}有{{{{ points }}}}积分"),
        }
        for label in "AB"[:variants]
    ]
    return campaign_create(
        name="Points", channel=channel, segment=segment, offer=offer, variants=texts, actor=None, test_percent=50
    )


def preview(client, campaign, number=None, **headers):
    params = {"number": number} if number is not None else {}
    return client.get(reverse("marketing:campaign_preview", args=[campaign.pk]), params, **headers)


def test_a_member_sees_the_message_in_their_own_language(marketing_client, segment):
    campaign = bilingual(segment, variants=2)
    chinese = CustomerFactory(name="王芳", points_balance=320, language="zh-hans", email="wang@example.com")
    english = CustomerFactory(name="Ann Lee", points_balance=55, language="en")
    page = preview(marketing_client, campaign, chinese.crm_number_display).content.decode()
    assert "A：王芳有320积分" in page and "B：王芳有320积分" in page and "王芳您好" in page
    page = preview(marketing_client, campaign, english.crm_number).content.decode()
    assert "A: Ann Lee has 55 points" in page and "Hi Ann Lee" in page


def test_a_member_without_a_language_gets_the_sites(marketing_client, segment, settings):
    campaign = bilingual(segment)
    member = CustomerFactory(name="No Pref", language="")
    assert "A: No Pref has" in preview(marketing_client, campaign, member.crm_number).content.decode()


def test_contacts_are_masked_for_marketing_and_revealable_by_a_manager(marketing_client, manager_client, segment):
    campaign = bilingual(segment)
    member = CustomerFactory(email="wang.fang@example.com", email_opt_in=True)
    page = preview(marketing_client, campaign, member.crm_number).content.decode()
    assert "w***@example.com" in page and "wang.fang@example.com" not in page and "reveal-button" not in page
    page = preview(manager_client, campaign, member.crm_number).content.decode()
    assert "w***@example.com" in page and "wang.fang@example.com" not in page and "reveal-button" in page


def test_a_sample_member_of_the_segment_is_shown_without_a_number(marketing_client, segment):
    campaign = bilingual(segment)
    member = CustomerFactory(name="Sample Person", language="en")
    page = preview(marketing_client, campaign).content.decode()
    assert "Sample Person" in page and 'id="sample-members"' in page
    assert f"?number={member.crm_number}" in page


def test_the_preview_says_who_would_be_skipped(marketing_client, segment):
    campaign = bilingual(segment)
    no_consent = CustomerFactory(email="a@example.com", email_opt_in=False)
    no_address = CustomerFactory(email="", email_opt_in=True)
    assert "would be skipped: no consent" in preview(marketing_client, campaign, no_consent.crm_number).content.decode()
    assert "would be skipped: no address" in preview(marketing_client, campaign, no_address.crm_number).content.decode()


def test_an_offer_shows_a_sample_code_in_the_preview(marketing_client, segment):
    offer = CouponOffer.objects.create(name="20 off", value=20)
    campaign = campaign_create(
        name="Coupon",
        channel="email",
        segment=segment,
        offer=offer,
        variants=[{"en": TemplateText(subject="Code", body="Your code {{ coupon_code }}")}],
        actor=None,
    )
    member = CustomerFactory()
    assert "Your code ABCD-EFGH" in preview(marketing_client, campaign, member.crm_number).content.decode()


def test_an_unknown_or_mistyped_number_says_so(marketing_client, segment):
    campaign = bilingual(segment)
    member = CustomerFactory()
    wrong_check_digit = str(member.crm_number)[:-1] + str((member.crm_number % 10 + 1) % 10)
    for text in ["12345678", wrong_check_digit, "abc"]:
        response = preview(marketing_client, campaign, text)
        assert response.status_code == 200 and "No member has the CRM number" in response.content.decode()


def test_htmx_gets_only_the_preview(marketing_client, segment):
    campaign = bilingual(segment)
    member = CustomerFactory(name="Fragment")
    page = preview(marketing_client, campaign, member.crm_number, HTTP_HX_REQUEST="true").content.decode()
    assert page.lstrip().startswith('<div id="member-preview">') and "<html" not in page


def test_an_sms_campaign_shows_its_length_and_parts_with_the_opt_out_line(marketing_client, segment):
    campaign = campaign_create(
        name="SMS",
        channel="sms",
        segment=segment,
        variants=[{"zh-hans": TemplateText(body="您" * 60), "en": TemplateText(body="x" * 150)}],
        actor=None,
    )
    page = marketing_client.get(campaign.get_absolute_url()).content.decode()
    table = page[page.index('id="sms-lengths"') :]
    # Chinese: 60 + " 回T退订" = 65 UCS-2, one SMS; English: 150 + " Reply STOP to opt out" = 172 GSM-7, two.
    rows = [r.split("</tr>")[0] for r in table.split("<tr>")[2:4]]
    assert ">65<" in rows[0] + rows[1] and ">172<" in rows[0] + rows[1]
    member = CustomerFactory(language="en", mobile="13800138000", sms_opt_in=True)
    page = preview(marketing_client, campaign, member.crm_number).content.decode()
    assert "172 characters (GSM-7) with the opt-out line: 2 SMS" in page
    assert "138****8000" in page


def test_sales_may_not_preview(sales_client, segment):
    campaign = bilingual(segment)
    member = CustomerFactory()
    assert preview(sales_client, campaign, member.crm_number).status_code == 403


@given(number=hostile_text)
def test_hostile_preview_numbers_never_fail(marketing_client, segment, number):
    campaign = bilingual(segment) if not segment.campaigns.exists() else segment.campaigns.get()
    with rolled_back():
        before = table_counts()
        assert preview(marketing_client, campaign, number).status_code in (200, 400)  # a NUL: 400 by middleware
        assert table_counts() == before
