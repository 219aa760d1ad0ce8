"""The campaign editor as a marketer uses it: write a campaign with its variants and a text per language, see a
template's error on its field with its line, edit a draft, find a started campaign refused; and who may."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, CampaignStatus, CampaignVariant, CouponOffer, Message, MessageTemplate, Segment
from marketing.services.campaigns import TemplateText, campaign_create, campaign_update
from tests.hostile import hostile_date, hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _without_the_automations(db):
    """Migration 0008 makes one campaign per automation kind; these tests count and fetch one-off campaigns only
    (marketing/tests/test_automations*.py cover the automations')."""
    from marketing.models import Automation, Campaign

    campaigns = list(Automation.objects.values_list("campaign_id", flat=True))
    Automation.objects.all().delete()
    Campaign.objects.filter(pk__in=campaigns).delete()


@pytest.fixture
def segment(db):
    return Segment.objects.create(name="Everyone")


def editor_post(segment, **fields) -> dict:
    """The editor's form for a one-variant e-mail campaign in both languages."""
    data = {
        "name": "Spring sale",
        "channel": "email",
        "segment": segment.pk,
        "offer": "",
        "send_at": "",
        "control_percent": "10",
        "attribution_days": "7",
        "variant_count": "1",
        "test_percent": "20",
        "winner_metric": "revenue",
        "winner_after_hours": "24",
        "A-en-subject": "Hello {{ name }}",
        "A-en-body": "Dear {{ name }},\nyou have {{ points }} points.",
        "A-en-html": "",
        "A-zh-hans-subject": "{{ name }}，您好",
        "A-zh-hans-body": "您有{{ points }}积分。",
        "A-zh-hans-html": "",
    }
    return data | {k: str(v) for k, v in fields.items()}


def make_campaign(segment, *, name="Spring sale", channel="email", variants=None, **fields) -> Campaign:
    variants = variants or [{"en": TemplateText(subject="Hi {{ name }}", body="Hello {{ name }}")}]
    return campaign_create(name=name, channel=channel, segment=segment, variants=variants, actor=None, **fields)


def test_a_marketer_writes_a_campaign_with_a_text_per_language(marketing_client, marketing_user, segment):
    offer = CouponOffer.objects.create(name="20 off", value=Decimal("20"))
    response = marketing_client.post(reverse("marketing:campaign_create"), editor_post(segment, offer=offer.pk))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == campaign.get_absolute_url()
    assert (campaign.status, campaign.offer, campaign.control_percent, campaign.attribution_days) == (
        CampaignStatus.DRAFT,
        offer,
        10,
        7,
    )
    assert campaign.created_by == marketing_user
    variant = campaign.variants.get()
    texts = {t.language: (t.subject, t.body) for t in variant.templates.all()}
    assert variant.label == "A"
    assert texts == {
        "en": ("Hello {{ name }}", "Dear {{ name }},\nyou have {{ points }} points."),
        "zh-hans": ("{{ name }}，您好", "您有{{ points }}积分。"),
    }
    page = marketing_client.get(campaign.get_absolute_url()).content.decode()
    assert "Spring sale" in page and "10% held out" in page and "20 off" in page


def test_the_defaults_are_a_ten_percent_control_group_and_seven_days(marketing_client, segment):
    page = marketing_client.get(reverse("marketing:campaign_create")).content.decode()
    assert 'name="control_percent" value="10"' in page and 'name="attribution_days" value="7"' in page


def test_a_template_error_shows_on_its_field_with_its_line_and_keeps_what_was_typed(marketing_client, segment):
    body = "Dear {{ name }},\nyour code: {{ coupon_code }}\n{{ password }}"
    response = marketing_client.post(reverse("marketing:campaign_create"), editor_post(segment, **{"A-en-body": body}))
    page = response.content.decode()
    assert response.status_code == 400 and not Campaign.objects.exists()
    assert "Line 3: “password” is not a variable a message can use." in page
    assert "your code: {{ coupon_code }}" in page  # what was typed is still there
    assert 'id="id_A-en-body"' in page and "is-invalid" in page


def test_a_forbidden_tag_is_refused_with_its_line(marketing_client, segment):
    html = "<p>Hi</p>\n{% load static %}"
    response = marketing_client.post(reverse("marketing:campaign_create"), editor_post(segment, **{"A-en-html": html}))
    assert response.status_code == 400 and "Line 2: “load” is not a tag a message can use." in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_site_language_is_required_and_others_are_optional(marketing_client, segment):
    empty_en = editor_post(segment, **{"A-en-subject": "", "A-en-body": ""})
    response = marketing_client.post(reverse("marketing:campaign_create"), empty_en)
    assert response.status_code == 400 and "Write the text." in response.content.decode()
    no_chinese = editor_post(segment, **{"A-zh-hans-subject": "", "A-zh-hans-body": ""})
    assert marketing_client.post(reverse("marketing:campaign_create"), no_chinese).status_code == 302
    assert list(MessageTemplate.objects.values_list("language", flat=True)) == ["en"]


def test_an_ab_test_keeps_the_variants_in_use_and_an_sms_keeps_only_the_text(marketing_client, segment):
    data = editor_post(
        segment,
        channel="sms",
        variant_count="2",
        test_percent="30",
        **{"A-en-body": "A: {{ name }}", "B-en-body": "B: {{ name }}", "C-en-body": "not used"},
    )
    response = marketing_client.post(reverse("marketing:campaign_create"), data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and campaign.test_percent == 30
    assert list(campaign.variants.values_list("label", flat=True)) == ["A", "B"]
    b = MessageTemplate.objects.get(variant__label="B", language="en")
    assert (b.subject, b.body, b.html) == ("", "B: {{ name }}", "")


def test_editing_a_draft_changes_its_variants_and_texts(marketing_client, segment):
    campaign = make_campaign(
        segment,
        variants=[
            {"en": TemplateText(subject="A", body="A text")},
            {"en": TemplateText(subject="B", body="B text")},
        ],
        test_percent=50,
    )
    page = marketing_client.get(reverse("marketing:campaign_edit", args=[campaign.pk])).content.decode()
    assert "B text" in page and '<option value="2" selected>' in page
    data = editor_post(segment, name="Renamed", **{"A-en-body": "new A", "A-zh-hans-subject": "", "A-zh-hans-body": ""})
    response = marketing_client.post(reverse("marketing:campaign_edit", args=[campaign.pk]), data)
    campaign.refresh_from_db()
    assert response.status_code == 302 and campaign.name == "Renamed"
    assert list(CampaignVariant.objects.filter(campaign=campaign).values_list("label", flat=True)) == ["A"]
    assert list(MessageTemplate.objects.values_list("language", "body")) == [("en", "new A")]


@pytest.mark.parametrize("status", [CampaignStatus.SENDING, CampaignStatus.PAUSED, CampaignStatus.SENT])
def test_a_started_campaign_cannot_be_edited(marketing_client, segment, status):
    campaign = make_campaign(segment)
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    url = reverse("marketing:campaign_edit", args=[campaign.pk])
    response = marketing_client.post(url, editor_post(segment, name="Changed"))
    assert response.status_code == 302 and response.url == campaign.get_absolute_url()
    assert [m.message for m in get_messages(response.wsgi_request)] == [
        "This campaign has started: it can no longer be edited."
    ]
    assert Campaign.objects.get().name == "Spring sale"
    assert MessageTemplate.objects.get().body == "Hello {{ name }}"


def test_the_service_refuses_a_started_campaign_and_writes_nothing(segment):
    campaign = make_campaign(segment)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    with pytest.raises(Exception, match="can no longer be edited"):
        campaign_update(
            campaign=campaign,
            name="Other",
            channel="email",
            segment=segment,
            offer=None,
            send_at=None,
            control_percent=20,
            attribution_days=7,
            test_percent=20,
            winner_metric="revenue",
            winner_after_hours=24,
            variants=[{"en": TemplateText(subject="x", body="y")}],
            actor=None,
        )
    campaign.refresh_from_db()
    assert (campaign.name, campaign.control_percent, MessageTemplate.objects.get().body) == (
        "Spring sale",
        10,
        "Hello {{ name }}",
    )


def test_a_scheduled_campaign_can_be_edited_before_it_starts_but_keeps_a_send_time(marketing_client, segment):
    later = timezone.now() + datetime.timedelta(days=1)
    campaign = make_campaign(segment, send_at=later)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SCHEDULED)
    url = reverse("marketing:campaign_edit", args=[campaign.pk])
    response = marketing_client.post(url, editor_post(segment, send_at=""))
    assert response.status_code == 400 and "A scheduled campaign needs a send time." in response.content.decode()
    stamp = timezone.localtime(later + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert marketing_client.post(url, editor_post(segment, send_at=stamp)).status_code == 302


def test_a_send_time_in_the_past_is_refused(marketing_client, segment):
    past = timezone.localtime(timezone.now() - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = marketing_client.post(reverse("marketing:campaign_create"), editor_post(segment, send_at=past))
    assert response.status_code == 400 and "The send time has passed" in response.content.decode()
    far = timezone.localtime(timezone.now() + datetime.timedelta(days=400)).strftime("%Y-%m-%dT%H:%M")
    response = marketing_client.post(reverse("marketing:campaign_create"), editor_post(segment, send_at=far))
    assert response.status_code == 400 and "within a year" in response.content.decode()


def test_a_name_already_used_is_refused(marketing_client, segment):
    make_campaign(segment)
    response = marketing_client.post(reverse("marketing:campaign_create"), editor_post(segment))
    assert response.status_code == 400 and "already exists" in response.content.decode()
    assert Campaign.objects.count() == 1


def test_the_list_shows_status_channel_segment_and_counts(marketing_client, segment):
    campaign = make_campaign(segment)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    for status in ["sent", "sent", "held_out", "queued"]:
        Message.objects.create(campaign=campaign, customer=CustomerFactory(), status=status)
    Message.objects.create(campaign=campaign, customer=CustomerFactory(), status="skipped", skip_reason="no_consent")
    page = marketing_client.get(reverse("marketing:campaign_list")).content.decode()
    row = page[page.index("Spring sale") :]
    assert "Sending" in row and "E-mail" in row and "Everyone" in row
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split('<td class="text-end')[1:5]]
    assert cells == ["5", "2", "1", "1"]


def test_the_list_takes_as_many_queries_for_many_campaigns_as_for_few(marketing_client, segment):
    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert marketing_client.get(reverse("marketing:campaign_list")).status_code == 200
        return len(captured)

    make_campaign(segment, name="one")
    few = queries()
    for n in range(8):
        campaign = make_campaign(segment, name=f"c{n}", offer=CouponOffer.objects.create(name=f"o{n}", value=1))
        Message.objects.create(campaign=campaign, customer=CustomerFactory(), status="sent")
    assert queries() == few


def test_the_live_check_shows_an_error_with_its_line(marketing_client):
    url = reverse("marketing:campaign_template_check")
    response = marketing_client.post(url, {"field": "A-en-body", "A-en-body": "Hi\n{% if name %}", "channel": "email"})
    assert response.status_code == 200 and "Line 2:" in response.content.decode()
    fine = marketing_client.post(url, {"field": "A-en-body", "A-en-body": "Hi {{ name }}", "channel": "email"})
    assert "The template is fine." in fine.content.decode()


def test_the_live_check_counts_sms_parts_with_the_opt_out_line(marketing_client):
    url = reverse("marketing:campaign_template_check")
    english = marketing_client.post(url, {"field": "A-en-body", "A-en-body": "x" * 130, "channel": "sms"})
    # 130 + " Reply STOP to opt out" (22) = 152 GSM-7 characters: one SMS.
    assert "152 characters (GSM-7): 1 SMS" in english.content.decode()
    chinese = marketing_client.post(url, {"field": "A-zh-hans-body", "A-zh-hans-body": "您" * 65, "channel": "sms"})
    # 65 + " 回T退订" (5) = 70 UCS-2 characters: still one; one more makes two parts of 67.
    assert "70 characters (UCS-2): 1 SMS" in chinese.content.decode()
    two = marketing_client.post(url, {"field": "A-zh-hans-body", "A-zh-hans-body": "您" * 66, "channel": "sms"})
    assert "71 characters (UCS-2): 2 SMS of 67" in two.content.decode()


def test_the_live_check_refuses_a_field_it_does_not_know(marketing_client):
    url = reverse("marketing:campaign_template_check")
    assert marketing_client.post(url, {"field": "name", "name": "x"}).status_code == 400
    assert marketing_client.post(url, {"field": "A-xx-body", "A-xx-body": "x"}).status_code == 400


# Who may: Marketing builds, Manager reads, Sales and Service get 403; wrong methods 405.
@pytest.mark.parametrize("who", ["sales_client", "service_client"])
def test_sales_and_service_may_not_open_campaigns(request, who, segment):
    client = request.getfixturevalue(who)
    campaign = make_campaign(segment)
    for name, args in [
        ("marketing:campaign_list", []),
        ("marketing:campaign_create", []),
        ("marketing:campaign_detail", [campaign.pk]),
        ("marketing:campaign_edit", [campaign.pk]),
        ("marketing:campaign_preview", [campaign.pk]),
        ("marketing:campaign_audience", [campaign.pk]),
        ("marketing:campaign_progress", [campaign.pk]),
        ("marketing:campaign_cancel", [campaign.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    assert client.post(reverse("marketing:campaign_create"), editor_post(segment, name="x")).status_code == 403
    assert client.post(reverse("marketing:campaign_template_check"), {"field": "A-en-body"}).status_code == 403
    assert Campaign.objects.count() == 1


def test_a_manager_reads_but_does_not_write(manager_client, segment):
    campaign = make_campaign(segment)
    assert manager_client.get(reverse("marketing:campaign_list")).status_code == 200
    page = manager_client.get(campaign.get_absolute_url())
    assert page.status_code == 200 and "Start now" not in page.content.decode()
    assert "Edit" not in page.content.decode()
    assert manager_client.get(reverse("marketing:campaign_create")).status_code == 403
    edit = reverse("marketing:campaign_edit", args=[campaign.pk])
    assert manager_client.post(edit, editor_post(segment, name="Manager's")).status_code == 403
    assert Campaign.objects.get().name == "Spring sale"


def test_wrong_methods_are_405(marketing_client, segment):
    campaign = make_campaign(segment)
    assert marketing_client.post(reverse("marketing:campaign_list")).status_code == 405
    assert marketing_client.put(reverse("marketing:campaign_create")).status_code == 405
    assert marketing_client.post(campaign.get_absolute_url()).status_code == 405
    assert marketing_client.delete(reverse("marketing:campaign_edit", args=[campaign.pk])).status_code == 405
    assert marketing_client.get(reverse("marketing:campaign_template_check")).status_code == 405
    assert marketing_client.post(reverse("marketing:campaign_progress", args=[campaign.pk])).status_code == 405
    assert marketing_client.post(reverse("marketing:campaign_preview", args=[campaign.pk])).status_code == 405
    assert marketing_client.post(reverse("marketing:campaign_audience", args=[campaign.pk])).status_code == 405
    assert marketing_client.put(reverse("marketing:campaign_cancel", args=[campaign.pk])).status_code == 405
    for name in ["campaign_start", "campaign_schedule", "campaign_pause", "campaign_resume", "campaign_test_send"]:
        assert marketing_client.get(reverse(f"marketing:{name}", args=[campaign.pk])).status_code == 405, name


def test_an_unknown_campaign_is_404(marketing_client):
    assert marketing_client.get(reverse("marketing:campaign_detail", args=[999999])).status_code == 404


def test_the_marketing_menu_has_campaigns_for_those_who_may(marketing_client, manager_client, sales_client):
    url = reverse("marketing:campaign_list")
    assert url in marketing_client.get(reverse("marketing:segment_list")).content.decode()
    assert url in manager_client.get(reverse("marketing:segment_list")).content.decode()
    assert url not in sales_client.get(reverse("customers:list")).content.decode()


def test_the_pages_speak_chinese(marketing_client, segment):
    campaign = make_campaign(segment)
    marketing_client.cookies["django_language"] = "zh-hans"
    page = marketing_client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="zh-hans"' in page


def test_admin_shows_campaigns_with_their_texts_and_messages_read_only(admin_user, login_as, segment):
    campaign = make_campaign(segment)
    Message.objects.create(campaign=campaign, customer=CustomerFactory(), status="sent")
    client = login_as(admin_user)
    page = client.get(reverse("admin:marketing_campaign_change", args=[campaign.pk])).content.decode()
    assert "Hello {{ name }}" in page
    assert client.get(reverse("admin:marketing_message_changelist")).status_code == 200
    assert client.get(reverse("admin:marketing_campaign_add")).status_code == 403


@given(
    st.fixed_dictionaries(
        {
            "name": hostile_text,
            "channel": st.one_of(st.sampled_from(["email", "sms"]), hostile_text),
            "segment": hostile_number,
            "offer": hostile_number,
            "send_at": st.one_of(hostile_date, hostile_text),
            "control_percent": hostile_number,
            "attribution_days": hostile_number,
            "variant_count": hostile_number,
            "test_percent": hostile_number,
            "winner_metric": hostile_text,
            "winner_after_hours": hostile_number,
            "A-en-subject": hostile_text,
            "A-en-body": st.one_of(hostile_text, st.sampled_from(["{{ name", "{% for %}", "{{ x|y }}", "{% if %}"])),
            "A-en-html": hostile_text,
            "B-en-body": hostile_text,
        }
    )
)
def test_hostile_editor_forms_never_fail_and_write_nothing_on_error(marketing_client, data):
    with rolled_back():
        before = table_counts()
        response = marketing_client.post(reverse("marketing:campaign_create"), data)
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            assert table_counts() == before


@given(
    field=st.one_of(st.sampled_from(["A-en-body", "D-zh-hans-subject", "B-en-html"]), hostile_text), text=hostile_text
)
def test_hostile_live_checks_never_fail(marketing_client, field, text):
    with rolled_back():
        before = table_counts()
        response = marketing_client.post(
            reverse("marketing:campaign_template_check"), {"field": field, field: text, "channel": "sms"}
        )
        assert response.status_code in (200, 400) and table_counts() == before


def test_a_segment_a_campaign_uses_cannot_be_deleted(marketing_client, segment):
    make_campaign(segment)
    response = marketing_client.post(reverse("marketing:segment_delete", args=[segment.pk]), follow=True)
    assert "is the segment of these campaigns, so it cannot be deleted: Spring sale." in response.content.decode()
    assert Segment.objects.filter(pk=segment.pk).exists()


def test_the_campaign_page_and_preview_take_as_many_queries_for_four_variants_as_for_one(marketing_client, segment):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = CustomerFactory()

    def queries(campaign) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert marketing_client.get(campaign.get_absolute_url()).status_code == 200
            preview = reverse("marketing:campaign_preview", args=[campaign.pk])
            assert marketing_client.get(preview, {"number": member.crm_number}).status_code == 200
        return len(captured)

    texts = {"en": TemplateText(subject="s", body="b"), "zh-hans": TemplateText(subject="主题", body="内容")}
    one = make_campaign(segment, name="one", variants=[texts])
    four = make_campaign(segment, name="four", variants=[texts] * 4)
    assert queries(four) == queries(one)
