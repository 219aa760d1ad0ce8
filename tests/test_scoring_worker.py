"""Scoring through real Celery workers on Redis (tests/workers.py): the fit, then a group of chunk tasks any worker
takes, the last chunk closing the run; and a run whose chunk tasks were lost with a killed worker, finished by
the sweep."""

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import ChunkStatus, MemberScore, RunStatus, ScoreHistory, ScoringChunk, ScoringRun
from analytics.services import scoring
from analytics.tasks import scoring_sweep_task
from analytics.tests.conftest import buy
from crm.celery import app
from customers.tests.factories import CustomerFactory
from tests.workers import start_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def members(count: int) -> list:
    people = CustomerFactory.create_batch(count)
    for i, person in enumerate(people):
        for days in range(1, 2 + i % 4):
            buy(person, days_ago=days * (1 + i % 7), as_of=timezone.now())
    return people


def wait_for_run(run: ScoringRun, timeout: float = 90) -> ScoringRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (RunStatus.DONE, RunStatus.FAILED):
            return run
        time.sleep(0.2)
    pytest.fail(f"run {run.pk} still {run.status} after {timeout}s ({run.chunks_done}/{run.chunks_total} chunks)")


def test_a_run_started_from_its_page_is_scored_in_chunks_by_a_worker(redis_broker, manager_client, monkeypatch):
    monkeypatch.setenv("CRM_SCORING_CHUNK", "5")  # read by the worker's settings
    people = members(23)
    worker = start_worker()
    try:
        response = manager_client.post(reverse("analytics:run_start"))
        run = wait_for_run(ScoringRun.objects.get())
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert run.status == RunStatus.DONE, run.message
    assert (run.chunks_total, run.chunks_done, run.members) == (5, 5, 23)
    assert ScoreHistory.objects.filter(run=run).count() == 23
    assert MemberScore.objects.filter(customer__in=people).count() == 23
    page = manager_client.get(response.url).content.decode()
    assert 'id="rfm-segments"' in page


def test_chunks_lost_with_a_killed_worker_are_scored_by_the_sweep(redis_broker, settings, monkeypatch):
    monkeypatch.setenv("CRM_SCORING_CHUNK", "4")
    settings.CRM_SCORING_CHUNK = 4
    members(12)
    run = scoring.scoring_run_start(params={"parts": ["rfm"]})
    app.control.purge()  # the fit task: this test fits in its own process
    scoring.scoring_fit(run_id=run.pk)
    # a worker took the first chunk and was killed; the queued tasks of the others were lost with the broker's queue
    app.control.purge()
    first = run.chunks.order_by("number").first()
    claimed = timezone.now() - datetime.timedelta(seconds=settings.CRM_SCORING_LEASE_SECONDS + 5)
    ScoringChunk.objects.filter(pk=first.pk).update(status=ChunkStatus.RUNNING, claimed_at=claimed, attempts=1)
    ScoringRun.objects.filter(pk=run.pk).update(heartbeat_at=claimed)
    worker = start_worker()
    try:
        time.sleep(1)
        run.refresh_from_db()
        assert run.status == RunStatus.SCORING and run.chunks_done == 0  # nothing queued: nothing done
        scoring_sweep_task.delay()
        run = wait_for_run(run)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert run.status == RunStatus.DONE and (run.chunks_done, run.members) == (3, 12)
    assert ScoreHistory.objects.filter(run=run).count() == 12
    assert ScoringChunk.objects.get(pk=first.pk).attempts == 2
