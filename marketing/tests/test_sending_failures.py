"""The failure modes that make peers send twice or never: pause then resume, a worker killed with SIGKILL in the
middle of a batch, an SMTP error in the middle of a batch, the same batch task delivered twice. After each,
every eligible member has exactly one row in a final state and the SMTP server counts at most one delivery per
member (exactly one for everyone whose row says sent)."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, CampaignStatus, Message, MessageStatus, SkipReason
from marketing.services.sending import (
    ChannelUnavailable,
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_start,
    messages_send_batch,
    messages_sweep,
)
from marketing.tasks import campaign_send_batch_task
from marketing.tests import sending_fixtures
from marketing.tests.sending_fixtures import FINAL, make_campaign, send_all, send_all_through_errors

fast_sending, smtp = sending_fixtures.fast_sending, sending_fixtures.smtp
GROUP = 5  # messages handed over between two records in the killed process


def members(count: int) -> list:
    return [CustomerFactory(email_opt_in=True) for _ in range(count)]


def assert_exactly_once(campaign: Campaign, people: list, smtp) -> None:
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    rows = {row.customer_id: row for row in Message.objects.filter(campaign=campaign)}
    assert set(rows) == {p.pk for p in people}  # one row each (the database's unique constraint)
    assert {row.status for row in rows.values()} <= FINAL
    deliveries = smtp.deliveries()
    assert max(deliveries.values()) == 1
    for person in people:
        if rows[person.pk].status == MessageStatus.SENT:
            assert deliveries[person.email] == 1
        elif rows[person.pk].status == MessageStatus.FAILED:
            assert person.email not in deliveries


@pytest.mark.django_db
def test_pause_then_resume_sends_the_rest_once(fast_sending, smtp):
    people = members(23)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    messages_send_batch(campaign_id=campaign.pk)
    campaign_pause(campaign=campaign, actor=None)
    assert messages_send_batch(campaign_id=campaign.pk) is None  # a batch already queued claims nothing
    assert sum(smtp.deliveries().values()) == 5
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).count() == 18
    campaign_resume(campaign=campaign, actor=None)
    send_all(campaign)
    assert_exactly_once(campaign, people, smtp)
    assert sum(smtp.deliveries().values()) == 23


@pytest.mark.django_db(transaction=True)
def test_a_pause_in_the_middle_of_a_batch_stops_it_and_resume_sends_the_rest_once(
    fast_sending, settings, smtp, monkeypatch
):
    settings.CRM_SEND_BATCH = 200
    monkeypatch.setattr("marketing.services.sending.batch.STATUS_EVERY", 10)
    people = members(40)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)

    def marketer_pauses(count: int) -> None:  # pressed while the batch is going (from another connection)
        if count == 5:
            campaign_pause(campaign=Campaign.objects.get(pk=campaign.pk), actor=None)
            connection.close()

    smtp.on_delivery = marketer_pauses
    result = messages_send_batch(campaign_id=campaign.pk)
    assert 5 <= result.sent <= 10 and result.released == 40 - result.sent and not result.more
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).count() == 40 - result.sent
    smtp.on_delivery = None
    campaign_resume(campaign=campaign, actor=None)
    send_all(campaign)
    assert_exactly_once(campaign, people, smtp)
    assert sum(smtp.deliveries().values()) == 40


@pytest.mark.django_db
def test_a_refused_recipient_fails_alone_and_the_batch_goes_on(fast_sending, smtp):
    people = members(12)
    smtp.refuse = {people[4].email}
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    send_all(campaign)
    assert_exactly_once(campaign, people, smtp)
    refused = Message.objects.get(campaign=campaign, customer=people[4])
    assert refused.status == MessageStatus.FAILED and refused.error.startswith("550")
    assert sum(smtp.deliveries().values()) == 11


@pytest.mark.django_db
def test_a_connection_cut_after_delivery_reports_that_message_unknown_and_resumes_the_rest(fast_sending, smtp):
    people = members(14)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    cut = Message.objects.filter(campaign=campaign).order_by("pk")[7].customer
    smtp.drop_after = {cut.email}
    with pytest.raises(ChannelUnavailable):
        send_all(campaign)
    row = Message.objects.get(campaign=campaign, customer=cut)
    assert row.status == MessageStatus.UNKNOWN and row.error
    assert not Message.objects.filter(campaign=campaign, status=MessageStatus.SENDING).exists()
    smtp.drop_after = set()
    send_all(campaign)  # the task's retry
    assert_exactly_once(campaign, people, smtp)
    assert smtp.deliveries()[cut.email] == 1  # it did arrive, once; the row says we cannot know
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 13


@pytest.mark.django_db
def test_the_smtp_server_away_puts_the_batch_back_untouched(fast_sending, settings, smtp):
    people = members(6)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    port = settings.EMAIL_PORT
    with sending_fixtures.closed_port() as nothing_listens_there:
        settings.EMAIL_PORT = nothing_listens_there
        with pytest.raises(ChannelUnavailable):
            messages_send_batch(campaign_id=campaign.pk)
    assert set(Message.objects.filter(campaign=campaign).values_list("status", flat=True)) == {MessageStatus.QUEUED}
    settings.EMAIL_PORT = port
    send_all_through_errors(campaign)
    assert_exactly_once(campaign, people, smtp)


@pytest.mark.django_db
def test_the_same_batch_task_delivered_twice_sends_each_message_once(fast_sending, smtp):
    people = members(8)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    campaign_send_batch_task(campaign.pk)
    campaign_send_batch_task(campaign.pk)
    send_all(campaign)
    assert_exactly_once(campaign, people, smtp)
    assert sum(smtp.deliveries().values()) == 8


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_run_by_two_workers_at_once_sends_each_message_once(fast_sending, settings, smtp):
    settings.CRM_SEND_BATCH = 4
    smtp.delay = 0.02  # so the two really overlap
    people = members(30)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    errors = []

    def worker():
        try:
            send_all(campaign)
        except Exception as error:  # noqa: BLE001 -- reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert_exactly_once(campaign, people, smtp)
    assert sum(smtp.deliveries().values()) == 30


def _batch_process(campaign: Campaign, smtp, limit: int) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.campaign_settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CRM_TEST_SMTP_PORT": str(smtp.port),
        "CRM_SEND_RATE": "0",
        "CRM_SEND_GROUP": str(GROUP),
    }
    code = (
        "import django, sys; django.setup(); "
        "from marketing.services.sending import messages_send_batch; "
        "messages_send_batch(campaign_id=int(sys.argv[1]), limit=int(sys.argv[2]))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(campaign.pk), str(limit)], env=env, cwd=django_settings.BASE_DIR
    )


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_with_sigkill_in_the_middle_of_a_batch_then_resumed(fast_sending, smtp):
    people = members(30)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)
    smtp.delay = 0.1
    process = _batch_process(campaign, smtp, limit=30)
    deadline = time.monotonic() + 60
    while sum(smtp.deliveries().values()) < 5:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    smtp.delay = 0
    claimed = Message.objects.filter(campaign=campaign, status=MessageStatus.SENDING)
    assert claimed.exists()  # the dead batch's rows, still claimed
    # Nothing is done while the lease runs (the worker might only be slow); after it, the sweep settles them.
    assert messages_sweep()["unknown"] == 0
    lease, count = claimed.first().lease_until, claimed.count()
    with time_machine.travel(lease + timedelta(seconds=1)):
        swept = messages_sweep()
    unknown, requeued = swept["unknown"], swept["requeued"]
    # The group being handed over when it died is reported unknown; the rest of its claim goes out again.
    assert unknown <= GROUP and requeued == count - unknown  # none, if it died between two groups
    send_all(campaign)
    assert_exactly_once(campaign, people, smtp)
    assert Message.objects.filter(campaign=campaign, status=MessageStatus.SENT).count() == 30 - unknown
    assert timezone.now() < lease  # the test did not wait out the lease: time was travelled


@pytest.mark.django_db(transaction=True)
def test_a_cancel_in_the_middle_of_a_batch_stops_it_and_leaves_nothing_queued(
    fast_sending, settings, smtp, monkeypatch
):
    settings.CRM_SEND_BATCH = 200
    monkeypatch.setattr("marketing.services.sending.batch.STATUS_EVERY", 10)
    people = members(40)
    campaign = make_campaign(people)
    campaign_start(campaign=campaign, actor=None)

    def marketer_cancels(count: int) -> None:
        if count == 5:
            campaign_cancel(campaign=Campaign.objects.get(pk=campaign.pk), actor=None)
            connection.close()

    smtp.on_delivery = marketer_cancels
    result = messages_send_batch(campaign_id=campaign.pk)
    assert 5 <= result.sent <= 10
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    rows = Message.objects.filter(campaign=campaign)
    assert rows.filter(status=MessageStatus.SENT).count() == result.sent == sum(smtp.deliveries().values())
    assert rows.filter(status=MessageStatus.SKIPPED, skip_reason=SkipReason.CANCELLED).count() == 40 - result.sent
    assert messages_send_batch(campaign_id=campaign.pk) is None
