"""The home page for marketers: their segments, campaigns under way and automations switched on."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from marketing.models import Automation, AutomationKind, Campaign, CampaignStatus, Message, MessageStatus, Segment

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 9, 14, 10, 0, tzinfo=SHANGHAI)  # before the login sessions expire
HOME = reverse("home")
DAY_PANELS = ["follow-ups", "recent-contacts", "recent-purchases", "birthdays"]


def panel(body: str, key: str) -> str:
    start = body.find(f'id="panel-{key}"')
    return "" if start == -1 else body[start : body.find("</section>", start)]


def days_ago(days: float) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


def campaign(name: str, status: str, **fields) -> Campaign:
    segment = Segment.objects.create(name=f"list for {name}")
    return Campaign.objects.create(name=name, segment=segment, status=status, **fields)


def messages(campaign: Campaign, *statuses: str, sent_at: datetime.datetime | None = None) -> None:
    Message.objects.bulk_create(
        Message(campaign=campaign, customer=CustomerFactory(), status=status, sent_at=sent_at) for status in statuses
    )


@time_machine.travel(NOW, tick=False)
def test_marketing_gets_segments_with_counts_and_a_new_segment_button(marketing_client):
    Segment.objects.create(name="Big spenders", member_count=12345, counted_at=days_ago(1))
    Segment.objects.create(name="Not counted yet")
    body = marketing_client.get(HOME).content.decode()
    segments = panel(body, "segments")
    assert "Big spenders" in segments and "12,345" in segments and "Not counted yet" in segments
    assert reverse("marketing:segment_create") in segments and reverse("marketing:segment_list") in segments
    for key in DAY_PANELS:
        assert not panel(body, key)


@time_machine.travel(NOW, tick=False)
def test_campaigns_under_way_show_their_progress_and_recent_ones_their_results(marketing_client):
    sending = campaign("Autumn sale", CampaignStatus.SENDING, started_at=days_ago(0.1))
    messages(sending, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.QUEUED, MessageStatus.HELD_OUT)
    campaign("Mid-autumn", CampaignStatus.SCHEDULED, send_at=NOW + datetime.timedelta(days=2))
    campaign("Stopped", CampaignStatus.PAUSED, status_reason="Too many failures")
    campaign("Draft idea", CampaignStatus.DRAFT)
    done = campaign("Summer", CampaignStatus.SENT, finished_at=days_ago(3))
    campaign("Spring", CampaignStatus.SENT, finished_at=days_ago(20))

    campaigns = panel(marketing_client.get(HOME).content.decode(), "campaigns")

    assert "Autumn sale" in campaigns and "2 of 3" in campaigns and 'aria-valuenow="67"' in campaigns
    assert "Mid-autumn" in campaigns and "Stopped" in campaigns and "Too many failures" in campaigns
    assert "Draft idea" not in campaigns and "Spring" not in campaigns
    assert "Summer" in campaigns and reverse("marketing:campaign_results", args=[done.pk]) in campaigns
    assert campaigns.index("Autumn sale") < campaigns.index("Stopped") < campaigns.index("Mid-autumn")


@time_machine.travel(NOW, tick=False)
def test_automations_switched_on_show_what_they_sent_this_week(marketing_client):
    birthday = Automation.objects.get(kind=AutomationKind.BIRTHDAY)
    Automation.objects.filter(pk=birthday.pk).update(enabled=True)
    messages(birthday.campaign, MessageStatus.SENT, MessageStatus.OPENED, sent_at=days_ago(2))
    messages(birthday.campaign, MessageStatus.SENT, sent_at=days_ago(8))
    messages(birthday.campaign, MessageStatus.QUEUED)
    automations = panel(marketing_client.get(HOME).content.decode(), "automations")
    assert 'id="home-automation-birthday"' in automations and 'data-sent="2"' in automations
    off = Automation.objects.exclude(pk=birthday.pk).first()
    assert f'id="home-automation-{off.kind}"' not in automations


@time_machine.travel(NOW, tick=False)
def test_the_panels_cost_the_same_queries_for_little_and_much_marketing(login_as, marketing_user):
    def page_queries() -> int:
        client = login_as(marketing_user)
        client.get(HOME)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        return len(queries)

    def add(n: int) -> None:
        for i in range(n):
            Segment.objects.create(name=f"segment {n}-{i}", member_count=i)
            running = campaign(f"running {n}-{i}", CampaignStatus.SENDING)
            messages(running, MessageStatus.SENT, MessageStatus.QUEUED)
            campaign(f"done {n}-{i}", CampaignStatus.SENT, finished_at=days_ago(1))
            for automation in Automation.objects.all():
                messages(automation.campaign, MessageStatus.SENT, sent_at=days_ago(1))

    Automation.objects.update(enabled=True)
    add(1)
    little = page_queries()
    add(12)
    assert page_queries() == little <= 12  # session, user, permissions, then a fixed few per panel
