"""The campaign page's buttons (start now, schedule, pause, resume, cancel), its progress bar, the audience
before sending and the test send, through the sending engine's services (marketing.services.sending)."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from hypothesis import given

from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, CampaignStatus, Message, MessageStatus, Segment
from marketing.services.campaigns import TemplateText, campaign_create
from tests.hostile import hostile_date, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(db):
    return Segment.objects.create(name="Everyone")


@pytest.fixture
def members(segment):
    return [CustomerFactory(email=f"m{n}@example.com", email_opt_in=True, language="en") for n in range(4)]


@pytest.fixture
def campaign(segment):
    return campaign_create(
        name="Spring",
        channel="email",
        segment=segment,
        control_percent=0,
        variants=[{"en": TemplateText(subject="Hi {{ name }}", body="Hello {{ name }}")}],
        actor=None,
    )


def post(client, name, campaign, data=None, follow=True):
    return client.post(reverse(f"marketing:{name}", args=[campaign.pk]), data or {}, follow=follow)


def status_of(campaign) -> str:
    return Campaign.objects.get(pk=campaign.pk).status


def test_start_now_freezes_the_members_and_shows_progress(marketing_client, campaign, members):
    response = post(marketing_client, "campaign_start", campaign)
    page = response.content.decode()
    assert status_of(campaign) == CampaignStatus.SENDING and "“Spring” is sending." in page
    assert Message.objects.filter(campaign=campaign).count() == len(members)
    assert 'id="campaign-progress"' in page and 'hx-trigger="every 2s"' in page
    assert f"0 of {len(members)} handed to the provider" in page
    assert "Pause" in page and "Cancel campaign" in page and "Start now" not in page


def test_the_progress_bar_counts_by_status_and_reloads_the_page_when_sending_ends(marketing_client, campaign, members):
    post(marketing_client, "campaign_start", campaign)
    Message.objects.filter(campaign=campaign, customer=members[0]).update(status=MessageStatus.SENT)
    Message.objects.filter(campaign=campaign, customer=members[1]).update(status=MessageStatus.FAILED)
    url = reverse("marketing:campaign_progress", args=[campaign.pk]) + "?status=sending"
    fragment = marketing_client.get(url, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "2 of 4 handed to the provider" in text and "50%" in text and "HX-Refresh" not in fragment.headers
    assert 'data-status="failed"' in text and 'data-status="sent"' in text
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT)
    assert marketing_client.get(url, HTTP_HX_REQUEST="true").headers["HX-Refresh"] == "true"


def test_pause_and_resume(marketing_client, campaign, members):
    post(marketing_client, "campaign_start", campaign)
    page = post(marketing_client, "campaign_pause", campaign).content.decode()
    assert status_of(campaign) == CampaignStatus.PAUSED and "Resume" in page
    post(marketing_client, "campaign_resume", campaign)
    assert status_of(campaign) == CampaignStatus.SENDING


def test_cancel_asks_first_then_cancels(marketing_client, campaign, members):
    post(marketing_client, "campaign_start", campaign)
    url = reverse("marketing:campaign_cancel", args=[campaign.pk])
    page = marketing_client.get(url).content.decode()
    assert "Cancel “Spring”?" in page and status_of(campaign) == CampaignStatus.SENDING
    marketing_client.post(url)
    assert status_of(campaign) == CampaignStatus.CANCELLED


def test_schedule_sets_the_time(marketing_client, campaign):
    later = timezone.localtime(timezone.now() + datetime.timedelta(days=2)).replace(second=0, microsecond=0)
    post(marketing_client, "campaign_schedule", campaign, {"send_at": later.strftime("%Y-%m-%dT%H:%M")})
    saved = Campaign.objects.get(pk=campaign.pk)
    assert saved.status == CampaignStatus.SCHEDULED and saved.send_at == later


def test_a_schedule_in_the_past_is_refused(marketing_client, campaign):
    page = post(marketing_client, "campaign_schedule", campaign, {"send_at": "2020-01-01T10:00"}).content.decode()
    assert "The send time has passed" in page and status_of(campaign) == CampaignStatus.DRAFT


def test_a_refused_step_is_a_message_and_changes_nothing(marketing_client, campaign):
    page = post(marketing_client, "campaign_resume", campaign).content.decode()
    assert status_of(campaign) == CampaignStatus.DRAFT and 'class="alert alert-danger' in page or "alert-error" in page
    assert not Message.objects.exists()


def test_a_started_campaigns_edit_page_sends_back_with_the_reason(marketing_client, campaign, members):
    post(marketing_client, "campaign_start", campaign)
    response = marketing_client.get(reverse("marketing:campaign_edit", args=[campaign.pk]), follow=True)
    assert "it can no longer be edited" in response.content.decode()


@pytest.mark.parametrize("who", ["manager_client", "sales_client", "service_client"])
def test_only_marketing_presses_the_buttons(request, who, campaign, members):
    client = request.getfixturevalue(who)
    for name in ["campaign_start", "campaign_pause", "campaign_resume", "campaign_cancel", "campaign_test_send"]:
        assert post(client, name, campaign, follow=False).status_code == 403, name
    data = {"send_at": "2099-01-01T10:00"}
    assert post(client, "campaign_schedule", campaign, data, follow=False).status_code == 403
    assert status_of(campaign) == CampaignStatus.DRAFT and not Message.objects.exists() and not mail.outbox


def test_the_audience_counts_who_would_be_sent_and_who_skipped_and_why(marketing_client, campaign, members):
    CustomerFactory(email="no-consent@example.com", email_opt_in=False)
    CustomerFactory(email="", email_opt_in=True)
    page = marketing_client.get(reverse("marketing:campaign_audience", args=[campaign.pk])).content.decode()
    assert f'id="would-send">{len(members)}<' in page
    assert "No consent for this channel: <strong>1</strong>" in page
    assert "No address for this channel: <strong>1</strong>" in page
    assert not Message.objects.exists()


def test_a_test_send_goes_to_the_users_own_address_and_writes_no_message(marketing_client, marketing_user, campaign):
    response = post(marketing_client, "campaign_test_send", campaign, {"variant": "A", "language": "en"})
    assert f"Test sent to {marketing_user.email}." in response.content.decode()
    assert [m.to for m in mail.outbox] == [[marketing_user.email]]
    assert not Message.objects.exists()


@given(send_at=hostile_date)
def test_hostile_schedule_times_never_fail(marketing_client, campaign, send_at):
    with rolled_back():
        before = table_counts()
        response = post(marketing_client, "campaign_schedule", campaign, {"send_at": send_at}, follow=False)
        assert response.status_code == 302
        if status_of(campaign) == CampaignStatus.DRAFT:
            assert table_counts() == before


@given(variant=hostile_text, language=hostile_text)
def test_hostile_test_sends_never_fail_and_write_nothing(marketing_client, campaign, variant, language):
    with rolled_back():
        before = table_counts()
        response = post(marketing_client, "campaign_test_send", campaign, {"variant": variant, "language": language})
        assert response.status_code in (200, 400) and table_counts() == before
