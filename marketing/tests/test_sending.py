"""Sending a campaign: the frozen rows, the control group and A/B split, each guardrail with its reason on the
row, and the e-mail as a real SMTP server receives it."""

import datetime
import html as html_lib
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import ConsentChannel, ConsentMethod
from customers.services import consent_set
from customers.tests.factories import CustomerFactory
from marketing import links
from marketing.models import (
    Campaign,
    CampaignStatus,
    Coupon,
    CouponOffer,
    Message,
    MessageStatus,
    SkipReason,
)
from marketing.services.sending import (
    audience_preview,
    campaign_cancel,
    campaign_dispatch,
    campaign_schedule,
    campaign_start,
    campaigns_start_due,
    control_held_out,
    message_send_test,
    messages_prepare,
    messages_send_batch,
    messages_sweep,
    progress,
    variant_index,
)
from marketing.services.sending.lifecycle import LANE_KEY
from marketing.tasks import campaign_send_batch_task, campaigns_start_due_task
from marketing.tests import sending_fixtures
from marketing.tests.sending_fixtures import make_campaign, rows, send_all

fast_sending, sms_channel, smtp = sending_fixtures.fast_sending, sending_fixtures.sms_channel, sending_fixtures.smtp

pytestmark = pytest.mark.django_db


def members(count: int, **fields) -> list:
    return [CustomerFactory(email_opt_in=True, sms_opt_in=True, **fields) for _ in range(count)]


def test_starting_freezes_the_members_with_a_reproducible_control_group(
    fast_sending, django_capture_on_commit_callbacks
):
    people = members(60)
    campaign = make_campaign(people, control_percent=20)
    with django_capture_on_commit_callbacks() as callbacks:
        campaign_start(campaign=campaign, actor=None)
    assert len(callbacks) == 2  # two lanes of batches queued after commit
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING and campaign.started_at
    by_member = rows(campaign)
    assert set(by_member) == {p.pk for p in people}
    for person in people:
        held = control_held_out(campaign_id=campaign.pk, customer_id=person.pk, percent=20)
        assert by_member[person.pk].status == (MessageStatus.HELD_OUT if held else MessageStatus.QUEUED)
        assert (by_member[person.pk].variant_id is None) == held
    assert 0 < sum(r.status == MessageStatus.HELD_OUT for r in by_member.values()) < 30
    # A member who joins the list later is not in this campaign: the membership was frozen.
    late = CustomerFactory(email_opt_in=True)
    campaign.segment.members.create(customer=late)
    with pytest.raises(ValidationError):
        campaign_start(campaign=campaign, actor=None)
    assert Message.objects.filter(campaign=campaign).count() == 60


def test_a_campaign_is_sent_once_to_each_member_and_then_is_sent(fast_sending, smtp):
    people = members(12)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.finished_at
    assert smtp.deliveries() == {p.email: 1 for p in people}
    for row in Message.objects.filter(campaign=campaign):
        assert row.status == MessageStatus.SENT and row.sent_at
        assert row.provider_id == f"<crm-msg-{row.pk}@localhost>" and row.address == row.customer.email
        assert smtp.to(row.address)["Message-ID"] == row.provider_id
    assert progress(campaign=campaign)["percent"] == 100
    # Running a batch again finds nothing to send.
    assert messages_send_batch(campaign_id=campaign.pk) is None
    assert sum(smtp.deliveries().values()) == 12


def signed(url: str, salt: str) -> object:
    """What a signed link of ours carries (links.py), or None."""
    path = urlsplit(html_lib.unescape(url)).path
    return links.read(path.rstrip("/").rsplit("/", 1)[-1], salt=salt)


def test_the_email_has_both_parts_one_click_unsubscribe_a_pixel_and_tracked_template_links(fast_sending, smtp):
    person = members(1, name="Ada")[0]
    campaign = make_campaign([person])
    template = campaign.variants.get().templates.get()
    template.html = template.html.replace("</body>", '<a href="{{ unsubscribe_url }}">mine</a></body>').replace(
        "<p>", '<p><a href="https://other.example.com/{{ name }}">you</a>'
    )
    template.save()
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    row = Message.objects.get(campaign=campaign)
    received = smtp.to(person.email)
    assert received["Subject"] == "A: news for Ada"
    assert received["Message-ID"] == row.provider_id
    header = received["List-Unsubscribe"]
    assert header.startswith("<http") and header.endswith(">")
    assert signed(header[1:-1], links.UNSUBSCRIBE) == row.pk
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "Hello Ada" in text
    assert [signed(url, links.UNSUBSCRIBE) for url in re.findall(r"Unsubscribe: (\S+)", text)] == [row.pk]
    hrefs = re.findall(r'href="([^"]+)"', html)
    # The template's own link goes through the signed redirect to exactly that address; a link built from a
    # variable is left as it is; the template's {{ unsubscribe_url }} is the HTML's only unsubscribe link.
    assert [signed(h, links.CLICK) for h in hrefs if signed(h, links.CLICK)] == [
        [row.pk, "https://shop.example.com/sale?x=1&y=2"]
    ]
    assert "https://other.example.com/Ada" in hrefs and "https://shop.example.com/sale" not in html
    assert [signed(h, links.UNSUBSCRIBE) for h in hrefs if signed(h, links.UNSUBSCRIBE)] == [row.pk]
    pixels = re.findall(r'<img src="([^"]+)"', html)
    assert [signed(p, links.OPEN) for p in pixels] == [row.pk]


def test_a_test_send_reaches_the_address_and_writes_no_row(fast_sending, smtp, marketing_user):
    campaign = make_campaign(members(1))
    message_send_test(variant=campaign.variants.get(), language="zh-hans", to="me@example.com", actor=marketing_user)
    received = smtp.to("me@example.com")
    assert received["Subject"].startswith("[Test] A: news for")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not Message.objects.exists()


def test_no_consent_at_send_time_is_skipped_with_its_reason(fast_sending, smtp):
    keen, withdrawn, never = members(3)
    never.email_opt_in = False
    never.save()
    campaign = make_campaign([keen, withdrawn, never])
    campaign_start(campaign=campaign, actor=None)
    # Consent withdrawn after the start and before the send: the send honours it.
    consent_set(customer=withdrawn, channel=ConsentChannel.EMAIL, granted=False, method=ConsentMethod.UNSUBSCRIBE)
    send_all(campaign)
    by_member = rows(campaign)
    assert by_member[keen.pk].status == MessageStatus.SENT
    for person in (withdrawn, never):
        assert (by_member[person.pk].status, by_member[person.pk].skip_reason) == (
            MessageStatus.SKIPPED,
            SkipReason.NO_CONSENT,
        )
    assert set(smtp.deliveries()) == {keen.email}


def test_no_address_is_skipped_with_its_reason(fast_sending, smtp):
    person = members(1, email="")[0]
    campaign = make_campaign([person])
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    row = Message.objects.get(campaign=campaign)
    assert (row.status, row.skip_reason) == (MessageStatus.SKIPPED, SkipReason.NO_ADDRESS)
    assert not smtp.deliveries()


def test_the_frequency_cap_counts_sends_across_campaigns_in_the_window(fast_sending, settings, smtp):
    settings.CRM_FREQUENCY_CAP, settings.CRM_FREQUENCY_DAYS = 2, 7
    busy, quiet = members(2)
    now = timezone.now()
    for days_ago in (1, 3):  # two sends this week
        earlier = make_campaign([busy])
        Message.objects.create(
            campaign=earlier, customer=busy, status=MessageStatus.SENT, sent_at=now - datetime.timedelta(days=days_ago)
        )
    long_ago = make_campaign([quiet])
    Message.objects.create(
        campaign=long_ago, customer=quiet, status=MessageStatus.SENT, sent_at=now - datetime.timedelta(days=8)
    )
    campaign = make_campaign([busy, quiet])
    assert audience_preview(campaign=campaign)["skipped"][SkipReason.FREQUENCY_CAP] == 1
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    by_member = rows(campaign)
    assert (by_member[busy.pk].status, by_member[busy.pk].skip_reason) == (
        MessageStatus.SKIPPED,
        SkipReason.FREQUENCY_CAP,
    )
    assert by_member[quiet.pk].status == MessageStatus.SENT


def test_a_send_under_way_in_another_campaign_counts_toward_the_cap(fast_sending, settings, smtp):
    settings.CRM_FREQUENCY_CAP, settings.CRM_FREQUENCY_DAYS = 2, 7
    busy, once = members(2)
    now = timezone.now()
    for person in (busy, once):  # one send this week each
        Message.objects.create(
            campaign=make_campaign([person]), customer=person, status=MessageStatus.SENT, sent_at=now
        )
    # Another campaign's worker holds a claim on the busy member's row right now.
    Message.objects.create(campaign=make_campaign([busy]), customer=busy, status=MessageStatus.SENDING)
    campaign = make_campaign([busy, once])
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    by_member = rows(campaign)
    assert (by_member[busy.pk].status, by_member[busy.pk].skip_reason) == (
        MessageStatus.SKIPPED,
        SkipReason.FREQUENCY_CAP,
    )
    assert by_member[once.pk].status == MessageStatus.SENT  # its own row, being sent, is not counted against it
    assert smtp.deliveries() == {once.email: 1}


def test_held_out_rows_carry_their_would_be_skip_reason(fast_sending):
    people = members(80)
    for person in people[::2]:
        person.email_opt_in = False
        person.save()
    campaign = make_campaign(people, control_percent=50)
    campaign_start(campaign=campaign, actor=None)
    held = Message.objects.filter(campaign=campaign, status=MessageStatus.HELD_OUT).select_related("customer")
    assert held.exists()
    for row in held:
        assert row.skip_reason == ("" if row.customer.email_opt_in else SkipReason.NO_CONSENT)


def test_sms_waits_out_the_quiet_hours_and_goes_in_the_morning(fast_sending, settings, sms_channel):
    settings.CRM_SMS_QUIET_HOURS = "21:00-08:00"
    people = members(3)
    campaign = make_campaign(people, channel=ConsentChannel.SMS)
    evening = timezone.make_aware(datetime.datetime(2026, 12, 1, 22, 30))
    with time_machine.travel(evening, tick=False):
        campaign_start(campaign=campaign, actor=None)
        send_all(campaign)
    morning = timezone.make_aware(datetime.datetime(2026, 12, 2, 8, 0))
    for row in Message.objects.filter(campaign=campaign):
        assert (row.status, row.not_before) == (MessageStatus.QUEUED, morning)
    assert not sms_channel.sent
    with time_machine.travel(morning - datetime.timedelta(minutes=1), tick=False):
        send_all(campaign)
    assert not sms_channel.sent
    cache.delete(LANE_KEY.format(campaign.pk))  # the evening's lane went quiet hours ago (a cache on Redis keeps time)
    with time_machine.travel(morning + datetime.timedelta(minutes=1), tick=False):
        assert messages_sweep()["dispatched"] == 1  # the sweep queues the morning's batches
        send_all(campaign)
    assert sorted(out.to for out in sms_channel.sent) == sorted(p.mobile for p in people)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_failures_past_the_threshold_pause_the_campaign_with_the_reason(fast_sending, settings, smtp):
    settings.CRM_AUTOPAUSE_WINDOW, settings.CRM_AUTOPAUSE_FAILURES = 10, 3
    settings.CRM_SEND_BATCH = 50
    people = members(20)
    smtp.refuse = {p.email for p in people[2:8]}
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert "3 of the last 10 messages failed" in campaign.status_reason and "550" in campaign.status_reason
    counts = progress(campaign=campaign)
    assert counts[MessageStatus.FAILED] == 3 and counts[MessageStatus.SENT] <= 14
    # Not handed over: queued for a resume.
    assert counts[MessageStatus.QUEUED] == 20 - 3 - counts[MessageStatus.SENT] > 0
    failed = Message.objects.filter(campaign=campaign, status=MessageStatus.FAILED).first()
    assert failed.error.startswith("550")


def test_cancelling_skips_the_rest_and_sends_no_more(fast_sending, smtp):
    people = members(12)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    messages_send_batch(campaign_id=campaign.pk)
    assert campaign_cancel(campaign=campaign, actor=None) == 7
    assert messages_send_batch(campaign_id=campaign.pk) is None
    counts = progress(campaign=campaign)
    assert (counts[MessageStatus.SENT], counts[MessageStatus.SKIPPED], counts["pending"]) == (5, 7, 0)
    assert set(Message.objects.filter(status=MessageStatus.SKIPPED).values_list("skip_reason", flat=True)) == {
        SkipReason.CANCELLED
    }
    assert sum(smtp.deliveries().values()) == 5


def test_ab_test_sends_the_test_share_split_between_variants_and_the_rest_after_the_winner(fast_sending, smtp):
    people = members(120)
    campaign = make_campaign(people, variants=3, test_percent=30, control_percent=10)
    campaign_start(campaign=campaign, actor=None)
    by_member = rows(campaign)
    labels = {v.pk: v.label for v in campaign.variants.all()}
    for person in people:
        row = by_member[person.pk]
        if row.status == MessageStatus.HELD_OUT:
            continue
        index = variant_index(campaign_id=campaign.pk, customer_id=person.pk, test_percent=30, variants=3)
        assert (None if row.variant_id is None else "ABC".index(labels[row.variant_id])) == index
    in_test = [r for r in by_member.values() if r.variant_id]
    assert 15 < len(in_test) < 60 and {labels[r.variant_id] for r in in_test} == {"A", "B", "C"}
    send_all(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING  # the rest waits for the winner
    assert sum(smtp.deliveries().values()) == len(in_test)
    assert progress(campaign=campaign)["waiting"] == len(by_member) - len(in_test) - sum(
        r.status == MessageStatus.HELD_OUT for r in by_member.values()
    )
    # What the results work does with a winner: the rest gets it, and is dispatched.
    winner = campaign.variants.get(label="B")
    Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED, variant=None).update(variant=winner)
    assert campaign_dispatch(campaign=campaign) >= 1
    send_all(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    sent = Message.objects.filter(campaign=campaign, status=MessageStatus.SENT)
    assert sent.count() == sum(smtp.deliveries().values()) and set(smtp.deliveries().values()) == {1}


def test_each_recipient_gets_their_own_coupon_once(fast_sending, smtp):
    offer = CouponOffer.objects.create(name="ten off", value=10)
    people = members(4)
    campaign = make_campaign(people, offer=offer)
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    for row in Message.objects.filter(campaign=campaign).select_related("coupon"):
        assert row.coupon.customer_id == row.customer_id and row.coupon.occasion == f"campaign:{campaign.pk}"
        assert row.coupon.code_display in smtp.to(row.address).get_body(("plain",)).get_content()
    assert Coupon.objects.filter(offer=offer).count() == 4


def test_an_automations_rows_are_once_per_occasion(fast_sending, smtp):
    people = members(3)
    campaign = Campaign.objects.create(name="birthday", kind="automation", control_percent=0)
    variant = campaign.variants.create(label="A")
    variant.templates.create(language="en", subject="Happy birthday", body="Hi {{ name }}")
    assert messages_prepare(campaign=campaign, customer_ids=[p.pk for p in people], occasion="birthday:2027") == 3
    assert messages_prepare(campaign=campaign, customer_ids=[p.pk for p in people], occasion="birthday:2027") == 0
    send_all(campaign)
    assert messages_prepare(campaign=campaign, customer_ids=[people[0].pk], occasion="birthday:2028") == 1
    send_all(campaign)
    assert smtp.deliveries() == {people[0].email: 2, people[1].email: 1, people[2].email: 1}


def test_a_lost_claims_handed_row_becomes_unknown_and_the_rest_is_sent_once(fast_sending, settings):
    people = members(5)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    # A worker claimed three rows and died: it had marked the first handed (it may have reached the provider),
    # the others not (they certainly had not).
    claimed = list(Message.objects.filter(campaign=campaign).order_by("pk")[:3])
    lease = timezone.now() + datetime.timedelta(seconds=60)
    Message.objects.filter(pk__in=[r.pk for r in claimed]).update(status=MessageStatus.SENDING, lease_until=lease)
    Message.objects.filter(pk=claimed[0].pk).update(handed_at=timezone.now())
    send_all(campaign)
    assert len(mail.outbox) == 2
    assert messages_sweep()["unknown"] == 0  # the lease still runs: the worker may be alive
    with time_machine.travel(lease + datetime.timedelta(seconds=1)):
        assert messages_sweep() | {"dispatched": 0} == {"unknown": 1, "requeued": 2, "dispatched": 0, "finished": 0}
        send_all(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    by_member = rows(campaign)
    assert by_member[claimed[0].customer_id].status == MessageStatus.UNKNOWN
    assert by_member[claimed[0].customer_id].error == "The worker was lost while sending."
    sent_to = [m.to[0] for m in mail.outbox]
    assert len(sent_to) == 4 == len(set(sent_to)) and claimed[0].customer.email not in sent_to


def test_audience_preview_counts_who_would_be_sent_and_skipped(fast_sending):
    people = members(5)
    people[0].email_opt_in = False
    people[0].save()
    people[1].email = ""
    people[1].save()
    preview = audience_preview(campaign=make_campaign(people))
    assert (preview["members"], preview["held_out"], preview["would_send"]) == (5, 0, 3)
    assert preview["skipped"][SkipReason.NO_CONSENT] == 1 and preview["skipped"][SkipReason.NO_ADDRESS] == 1
    assert not Message.objects.exists()


def test_a_scheduled_campaign_starts_when_its_time_comes_and_only_once(fast_sending):
    campaign = make_campaign(members(3))
    at = timezone.now() + datetime.timedelta(hours=2)
    campaign_schedule(campaign=campaign, send_at=at, actor=None)
    assert campaigns_start_due() == 0 and not Message.objects.exists()
    with time_machine.travel(at + datetime.timedelta(seconds=30)):
        assert campaigns_start_due_task() == 1
        assert campaigns_start_due_task() == 0
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING and Message.objects.filter(campaign=campaign).count() == 3


def test_a_campaign_that_cannot_be_sent_is_refused_and_writes_nothing(fast_sending):
    campaign = make_campaign(members(2))
    campaign.variants.all().delete()
    with pytest.raises(ValidationError, match="one to four variants"):
        campaign_start(campaign=campaign, actor=None)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and not Message.objects.exists()


def test_the_next_batch_waits_so_the_campaign_keeps_to_its_rate(
    fast_sending, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.CRM_SEND_RATE, settings.CRM_SEND_LANES, settings.CRM_SEND_BATCH = 10, 2, 5
    campaign = make_campaign(members(12))
    campaign_start(campaign=campaign, actor=None)
    queued = []
    monkeypatch.setattr(campaign_send_batch_task, "apply_async", lambda args, countdown: queued.append(countdown))
    with django_capture_on_commit_callbacks(execute=True):  # the next step is queued as the task's work commits
        campaign_send_batch_task(campaign.pk)
    # Five messages at 5 a second per lane (10 a second over two lanes): the next batch after about a second.
    assert len(queued) == 1 and 0.5 < queued[0] <= 1.0
    assert len(mail.outbox) == 5


def test_a_test_send_the_server_refuses_says_why(fast_sending, smtp):
    campaign = make_campaign(members(1))
    smtp.refuse = {"nobody@example.com"}
    with pytest.raises(ValidationError, match="550"):
        message_send_test(variant=campaign.variants.get(), language="en", to="nobody@example.com", actor=None)
    assert not smtp.deliveries()


def test_an_sms_campaign_goes_through_the_sms_channel_with_the_opt_out(fast_sending, settings, tmp_path):
    settings.CRM_SMS_BACKEND, settings.CRM_SMS_FILE_PATH = "marketing.channels.sms.FileBackend", tmp_path
    settings.CRM_SMS_QUIET_HOURS = ""
    people = members(2, language="zh-hans")
    people[1].sms_opt_in = False
    people[1].save()
    campaign = make_campaign(people, channel=ConsentChannel.SMS)
    campaign.variants.get().templates.create(language="zh-hans", body="{{ name }}，春季特惠")
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    by_member = rows(campaign)
    sent = by_member[people[0].pk]
    assert (sent.status, sent.address, sent.language) == (MessageStatus.SENT, people[0].mobile, "zh-hans")
    assert by_member[people[1].pk].skip_reason == SkipReason.NO_CONSENT
    [file] = list(tmp_path.iterdir())
    text = file.read_text(encoding="utf-8")
    assert people[0].mobile in text and "春季特惠" in text and "回T退订" in text


def test_a_campaign_whose_offer_has_ended_is_refused_at_the_start(fast_sending):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    offer = CouponOffer.objects.create(name="over", value=10, valid_to=yesterday)
    campaign = make_campaign(members(2), offer=offer)
    with pytest.raises(ValidationError, match="offer"):
        campaign_start(campaign=campaign, actor=None)
    assert not Message.objects.exists() and not Coupon.objects.exists()
