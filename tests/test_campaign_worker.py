"""Campaigns through a real Celery worker on Redis, sending to a real SMTP server on loopback (aiosmtpd): the
delivered mail and its headers, the unsubscribe link honoured by the next campaign, and a worker killed with
SIGKILL in the middle of a batch, its claim settled by the sweep and the rest sent by a fresh worker."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client

from customers.tests.factories import CustomerFactory
from marketing import links
from marketing.models import Campaign, CampaignStatus, Message, MessageStatus, SkipReason
from marketing.services.sending import campaign_dispatch, campaign_start, messages_sweep
from marketing.tests import sending_fixtures
from marketing.tests.sending_fixtures import FINAL, make_campaign
from tests.workers import require_redis

smtp = sending_fixtures.smtp
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def start_campaign_worker(smtp, **env: str) -> subprocess.Popen:
    """tests/workers.py's worker, with real SMTP to the test's server (tests/campaign_settings.py)."""
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.campaign_settings",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CRM_TEST_SMTP_PORT": str(smtp.port),
        "CRM_SEND_RATE": "0",
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo", "--without-gossip"]
    command += ["--without-mingle", "--loglevel=warning"]
    return subprocess.Popen(command, env=environment, cwd=settings.BASE_DIR)


@pytest.fixture
def redis(transactional_db):
    require_redis()
    yield
    from crm.celery import app

    with app.connection_for_write() as conn:  # a killed worker's unacked task must not reach a later test
        conn.default_channel.client.delete("unacked", "unacked_index")


def wait_until(check, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def sent_campaign(campaign: Campaign) -> bool:
    campaign.refresh_from_db()
    return campaign.status == CampaignStatus.SENT


def test_a_worker_sends_a_small_campaign_with_one_click_unsubscribe_and_the_next_campaign_honours_it(redis, smtp):
    people = [CustomerFactory(email_opt_in=True) for _ in range(6)]
    worker = start_campaign_worker(smtp, CRM_SEND_BATCH="4")
    try:
        campaign = make_campaign(people)
        campaign_start(campaign=campaign, actor=None)
        wait_until(lambda: sent_campaign(campaign), what="the campaign to be sent")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert smtp.deliveries() == {p.email: 1 for p in people}
    row = Message.objects.get(campaign=campaign, customer=people[0])
    assert row.status == MessageStatus.SENT
    received = smtp.to(people[0].email)
    assert received["Message-ID"] == row.provider_id == f"<crm-msg-{row.pk}@localhost>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = received["List-Unsubscribe"].strip("<>")
    assert links.read(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1], salt=links.UNSUBSCRIBE) == row.pk
    assert url in received.get_body(("plain",)).get_content()

    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the link, with no login.
    response = Client().post(urlsplit(url).path, {"List-Unsubscribe": "One-Click"})
    if response.status_code == 404 or resolve_url(settings.LOGIN_URL) in response.get("Location", ""):
        pytest.skip("the unsubscribe view is still the placeholder (the tracking work builds it)")
    assert response.status_code in (200, 204, 302)
    people[0].refresh_from_db()
    assert not people[0].email_opt_in
    following = make_campaign(people)
    worker = start_campaign_worker(smtp, CRM_SEND_BATCH="4")
    try:
        campaign_start(campaign=following, actor=None)
        wait_until(lambda: sent_campaign(following), what="the next campaign to be sent")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    skipped = Message.objects.get(campaign=following, customer=people[0])
    assert (skipped.status, skipped.skip_reason) == (MessageStatus.SKIPPED, SkipReason.NO_CONSENT)
    assert smtp.deliveries()[people[0].email] == 1


def test_a_worker_killed_in_the_middle_of_a_batch_is_settled_by_the_sweep_and_a_fresh_worker_sends_the_rest(
    redis, smtp
):
    people = [CustomerFactory(email_opt_in=True) for _ in range(30)]
    smtp.delay = 0.1
    campaign = make_campaign(people)
    worker = start_campaign_worker(smtp, CRM_SEND_BATCH="30", CRM_SEND_LANES="1", CRM_SEND_GROUP="5")
    try:
        campaign_start(campaign=campaign, actor=None)
        wait_until(lambda: sum(smtp.deliveries().values()) >= 5, what="the first deliveries")
    finally:
        worker.send_signal(signal.SIGKILL)  # no warm shutdown: the batch is neither finished nor acknowledged
        worker.wait(timeout=20)
    smtp.delay = 0
    claimed = Message.objects.filter(campaign=campaign, status=MessageStatus.SENDING)
    count = claimed.count()
    assert count > 0
    with time_machine.travel(claimed.first().lease_until + timedelta(seconds=1)):
        swept = messages_sweep()
    # The group being handed over when it died is reported unknown; the rest of its claim goes out again.
    assert swept["unknown"] <= 5 and swept["requeued"] == count - swept["unknown"]  # none if between groups
    fresh = start_campaign_worker(smtp, CRM_SEND_BATCH="30", CRM_SEND_LANES="1", CRM_SEND_GROUP="5")
    try:
        campaign.refresh_from_db()
        campaign_dispatch(campaign=campaign)  # what the sweep does once the dead lane's mark has expired
        wait_until(lambda: sent_campaign(campaign), what="the rest to be sent")
    finally:
        fresh.terminate()
        fresh.wait(timeout=20)
    rows = {row.customer_id: row for row in Message.objects.filter(campaign=campaign)}
    assert len(rows) == 30 and {row.status for row in rows.values()} <= FINAL
    assert [row.status for row in rows.values()].count(MessageStatus.UNKNOWN) == swept["unknown"]
    deliveries = smtp.deliveries()
    assert max(deliveries.values()) == 1
    assert all(deliveries[p.email] == 1 for p in people if rows[p.pk].status == MessageStatus.SENT)
