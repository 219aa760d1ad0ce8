"""Two Celery workers with names of their own (w1@host, w2@host: as on two machines) share a campaign send, a
coupon issue to a segment and a scoring run through Redis and Postgres alone. Each does part of the work, which
its own log file says; the rows say every member was done exactly once and nobody was left out."""

import re
import time
from collections import Counter
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import RunStatus, ScoreHistory, ScoringRun
from analytics.services.scoring import scoring_run_start
from analytics.tests.conftest import buy
from crm.models import Job, JobKind, JobStatus
from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, CampaignStatus, Coupon, CouponOffer, Message, MessageStatus, Segment
from marketing.services.sending import campaign_start
from marketing.tests import sending_fixtures
from marketing.tests.sending_fixtures import make_campaign
from tests.workers import start_worker, stop_workers, wait_for_workers

smtp = sending_fixtures.smtp
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

MEMBERS = 40
PIECE = 2  # members per campaign batch, coupon chunk and scoring chunk: 20 pieces of each job to share
NAMES = ("w1", "w2")


def wait_until(check, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def done_by(logs: dict[str, Path], pattern: str) -> Counter:
    """What each worker's log says it did: the sum of the pattern's one number over the worker's lines."""
    found = Counter({name: 0 for name in logs})
    for name, path in logs.items():
        for line in path.read_text().splitlines():
            if match := re.search(pattern, line):
                found[name] += int(match.group(1))
    return found


def test_two_workers_share_a_campaign_a_coupon_issue_and_a_scoring_run(redis_broker, smtp, marketing_client, tmp_path):
    people = CustomerFactory.create_batch(MEMBERS, email_opt_in=True)
    for i, person in enumerate(people):
        for days in range(1, 2 + i % 4):
            buy(person, days_ago=days * (1 + i % 7), as_of=timezone.now())
    logs = {name: tmp_path / f"{name}.log" for name in NAMES}
    piece = str(PIECE)
    env = {"CRM_SEND_BATCH": piece, "CRM_SEND_RATE": "0", "CRM_SEND_LANES": "2", "CRM_TEST_SMTP_PORT": str(smtp.port)}
    env |= {"CRM_COUPON_ISSUE_CHUNK": piece, "CRM_SCORING_CHUNK": piece}
    workers = [
        start_worker(name=name, logfile=logs[name], settings_module="tests.campaign_settings", **env) for name in NAMES
    ]
    try:
        wait_for_workers(*NAMES)

        campaign = make_campaign(people)
        campaign_start(campaign=campaign, actor=None)
        wait_until(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT, "the campaign")

        offer = CouponOffer.objects.create(name="welcome", value=5)
        segment = Segment.objects.create(name="everyone")
        marketing_client.post(reverse("marketing:offer_issue_segment", args=[offer.pk]), {"segment": segment.pk})
        job = Job.objects.get(kind=JobKind.COUPON_ISSUE)
        wait_until(lambda: Job.objects.get(pk=job.pk).finished, "the coupon issue")

        run = scoring_run_start()
        wait_until(lambda: ScoringRun.objects.get(pk=run.pk).status in (RunStatus.DONE, RunStatus.FAILED), "scoring")
    finally:
        stop_workers(*workers)

    # Each worker did part of each job, and the parts add up to everyone.
    sent = done_by(logs, rf"campaign {campaign.pk}: batch claimed \d+, sent (\d+)")
    issued = done_by(logs, rf"job {job.pk}: chunk \d+ done, \d+ items, result (\d+)")
    scored = done_by(logs, rf"scoring run {run.pk}: chunk \d+ done, (\d+) members")
    for work in (sent, issued, scored):
        assert all(work[name] > 0 for name in NAMES) and work.total() == MEMBERS, (sent, issued, scored)

    # Every member done exactly once, nobody left out.
    messages = Message.objects.filter(campaign=campaign)
    assert sorted(messages.values_list("customer_id", flat=True)) == sorted(p.pk for p in people)
    assert set(messages.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert smtp.deliveries() == {p.email: 1 for p in people}

    job.refresh_from_db()
    assert (job.status, job.message) == (JobStatus.DONE, f"{MEMBERS} coupons issued.")
    coupons = Coupon.objects.filter(offer=offer)
    assert sorted(coupons.values_list("customer_id", flat=True)) == sorted(p.pk for p in people)
    assert CouponOffer.objects.get(pk=offer.pk).issued_count == MEMBERS

    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.message
    assert (run.chunks_total, run.chunks_done, run.members) == (MEMBERS // PIECE, MEMBERS // PIECE, MEMBERS)
    history = ScoreHistory.objects.filter(run=run)
    assert sorted(history.values_list("customer_id", flat=True)) == sorted(p.pk for p in people)
