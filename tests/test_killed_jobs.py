"""Long jobs whose real Celery worker is killed (SIGKILL) in the middle, then taken up again (issue 14, "Failure
and load"): totals right and nothing done twice, and a job left "running" by its dead worker shown as stopped,
run again from its page or by the sweep.

The kill is mid-job by construction: the test holds a lock the job needs part-way through (tests/workers.py,
`held`), waits until the worker's connection waits for it, then kills the worker. Its open transaction dies with
it; what it committed before stays. (The import and the campaign send are killed the same way by timing in
tests/test_worker.py and tests/test_campaign_worker.py; scoring's lost tasks, not a killed one, in
tests/test_scoring_worker.py.)"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from analytics.models import (
    AggregateState,
    ChunkStatus,
    DailyKpi,
    Distribution,
    MemberScore,
    RunStatus,
    ScoreHistory,
    ScoringChunk,
)
from analytics.services import scoring
from analytics.services.aggregates import aggregates_refresh
from analytics.tests.conftest import buy
from crm.models import AuditAction, AuditEvent, Job, JobKind, JobStatus, Notification
from crm.tasks import jobs_sweep_task
from customers.models import Customer, Tag
from customers.tests.factories import CustomerFactory
from interactions.models import Reminder
from interactions.tasks import reminders_notify_task
from marketing.models import Coupon, CouponOffer, DiscountKind, Segment, SegmentKind, SegmentMember
from marketing.services.coupons import _new_coupon
from tests.test_scoring_worker import members, wait_for_run
from tests.workers import backend_gone, blocked_backend, held, held_by, kill, start_worker, wait_until

ISSUE_CHUNK = django_settings.CRM_COUPON_ISSUE_CHUNK  # the members a chunk of a coupon issue takes

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def finished(job: Job) -> bool:
    job.refresh_from_db()
    return job.finished


def run_to_the_end(check, what: str, **env: str) -> None:
    worker = start_worker(**env)
    try:
        wait_until(check, what=what)
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def killed_at(holder, *, start=None) -> None:
    """Start a worker (and the work, `start`) while `holder` (tests/workers.py, `held`) holds what the job needs
    part-way; kill the worker once it waits there, then let go and wait for its backend to end."""
    with holder:
        worker = start_worker()
        try:
            if start:
                start()
            pid = blocked_backend()
        finally:
            kill(worker)
    backend_gone(pid)


def test_an_export_killed_mid_file_is_shown_stopped_and_run_again_from_its_page_writes_each_row_once(
    redis_broker, manager_client, settings
):
    CustomerFactory.create_batch(12, city="宁波市")
    response = manager_client.post(reverse("customers:export"), {"query": "city=宁波市", "format": "csv"})
    job = Job.objects.get()
    # Each chunk of rows fetches its tags: the first one waits for the lock, after the count and the first report.
    killed_at(held(f"LOCK TABLE {Tag._meta.db_table} IN ACCESS EXCLUSIVE MODE"))
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.attempts, job.result.name) == (JobStatus.RUNNING, 0, 12, 1, "")

    with time_machine.travel(job.heartbeat_at + datetime.timedelta(seconds=settings.CRM_JOB_LEASE_SECONDS + 1)):
        page = manager_client.get(response.url).content.decode()
        assert 'id="job-stale"' in page and 'id="job-rerun"' in page
        manager_client.post(reverse("job_rerun", args=[job.pk]))
    run_to_the_end(lambda: finished(job), "the export run again")
    assert (job.status, job.done, job.total) == (JobStatus.DONE, 12, 12), job.message
    content = b"".join(manager_client.get(reverse("job_download", args=[job.pk])).streaming_content)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:]
    assert sorted(int(row[0].replace("-", "").replace(" ", "")) for row in rows) == sorted(
        Customer.objects.values_list("crm_number", flat=True)
    )
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1  # the killed run never got that far
    assert 'id="job-stale"' not in manager_client.get(response.url).content.decode()


def test_a_coupon_issue_killed_in_its_second_chunk_is_resumed_by_the_sweep_and_issues_each_member_one(
    redis_broker, manager_client, settings
):
    people = Customer.objects.bulk_create(Customer(name=f"会员{i}") for i in range(ISSUE_CHUNK + 10))
    segment = Segment.objects.create(name="everyone", kind=SegmentKind.STATIC)
    SegmentMember.objects.bulk_create(SegmentMember(segment=segment, customer=person) for person in people)
    offer = CouponOffer.objects.create(name="20 off", kind=DiscountKind.AMOUNT, value=Decimal("20"))
    response = manager_client.post(reverse("marketing:offer_issue_segment", args=[offer.pk]), {"segment": segment.pk})
    job = Job.objects.get(kind=JobKind.COUPON_ISSUE)
    assert response.url == job.get_absolute_url()
    # The second chunk's coupon for its last member clashes with one this test writes and leaves uncommitted: the
    # worker waits there, the first chunk committed, the second not.
    last = max(person.pk for person in people)
    killed_at(held_by(lambda: _new_coupon(offer, last, f"segment:{segment.pk}", None).save()))
    job.refresh_from_db()
    assert (job.status, job.done) == (JobStatus.RUNNING, ISSUE_CHUNK)
    assert Coupon.objects.filter(offer=offer).count() == ISSUE_CHUNK  # the first chunk stays, the second is gone

    with time_machine.travel(job.heartbeat_at + datetime.timedelta(seconds=settings.CRM_JOB_LEASE_SECONDS + 1)):
        assert jobs_sweep_task() == {"requeued": 1, "failed": 0, "indexes_rebuilt": 0}
    # The dead worker's chunk is still claimed; the new worker takes it as soon as its lease has lapsed.
    run_to_the_end(lambda: finished(job), "the issue taken up again", CRM_JOB_LEASE_SECONDS="1")
    assert job.status == JobStatus.DONE and job.attempts == 2, job.message
    assert job.message == f"{len(people):,} coupons issued."  # the job counts every chunk, the first run's too
    coupons = Coupon.objects.filter(offer=offer)
    assert coupons.count() == coupons.values("customer").distinct().count() == len(people)
    offer.refresh_from_db()
    assert offer.issued_count == len(people)


def test_reminders_killed_as_their_second_batch_commits_are_each_notified_once(redis_broker, service_user, sales_user):
    customer = CustomerFactory()
    now = timezone.now()
    early = [
        Reminder(customer=customer, assignee=service_user, due_at=now - datetime.timedelta(hours=2, seconds=i), text=i)
        for i in range(500)  # the first batch (interactions/services/followups.py, NOTIFY_BATCH)
    ]
    late = [
        Reminder(customer=customer, assignee=sales_user, due_at=now - datetime.timedelta(minutes=i), text=i)
        for i in range(1, 6)
    ]
    Reminder.objects.bulk_create(early + late)
    # A notification's user is checked (a deferred foreign key) at its batch's commit: the second batch, the sales
    # user's, waits there for the row this test locks; the worker is killed; Postgres then completes the commit
    # the worker asked for without it, so the claims and notifications stand and its e-mails are never sent.
    users = get_user_model()._meta.db_table
    lock = f"SELECT 1 FROM {users} WHERE id = %s FOR UPDATE"  # noqa: S608 -- a model's table name
    killed_at(held(lock, (sales_user.pk,)), start=reminders_notify_task.delay)
    assert not Reminder.objects.filter(notified_at__isnull=True).exists()

    sentinel = Reminder.objects.create(customer=customer, assignee=sales_user, due_at=now, text="after")
    reminders_notify_task.delay()  # beat's next run: only the new one
    run_to_the_end(lambda: Reminder.objects.filter(pk=sentinel.pk, notified_at__isnull=False).exists(), "the next run")
    assert Notification.objects.filter(user=service_user).count() == 500
    assert Notification.objects.filter(user=sales_user).count() == 6


def dashboard_figures() -> tuple[list, list]:
    days = DailyKpi.objects.order_by("day").values_list("day", "orders", "revenue", "active_members")
    shares = Distribution.objects.order_by("dimension", "key").values_list("dimension", "key", "members")
    return list(days), list(shares)


def test_a_dashboard_refresh_killed_part_way_is_shown_stopped_and_refreshed_again_to_the_same_figures(
    redis_broker, manager_client
):
    for i, person in enumerate(CustomerFactory.create_batch(4)):
        buy(person, days_ago=3 + i, as_of=timezone.now())
    dashboard = reverse("analytics:dashboard")
    start = lambda: manager_client.post(reverse("analytics:dashboard_refresh"))  # noqa: E731
    # The last step but the forecasts replaces the distributions: it waits there, every earlier step committed.
    killed_at(held(f"LOCK TABLE {Distribution._meta.db_table} IN SHARE MODE"), start=start)
    state = AggregateState.objects.get()
    assert state.refreshed_at is None and 0 < state.done < state.total
    assert "The last refresh stopped before it finished" in manager_client.get(dashboard).content.decode()

    worker = start_worker()
    try:
        manager_client.post(reverse("analytics:dashboard_refresh"))
        wait_until(lambda: AggregateState.objects.get().refreshed_at is not None, what="the refresh")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert "The last refresh stopped before it finished" not in manager_client.get(dashboard).content.decode()
    figures = dashboard_figures()
    aggregates_refresh(full=True)  # from scratch, in this process: the same figures, nothing counted twice
    again = dashboard_figures()
    assert figures[0] and figures == again


def test_a_scoring_chunk_killed_while_writing_is_scored_again_by_the_sweep_and_each_member_once(
    redis_broker, settings, monkeypatch
):
    monkeypatch.setenv("CRM_SCORING_CHUNK", "4")  # read by the workers' settings
    monkeypatch.setenv("CRM_SCORING_LEASE_SECONDS", "3")  # so the fresh worker may claim the dead one's chunk
    settings.CRM_SCORING_CHUNK, settings.CRM_SCORING_LEASE_SECONDS = 4, 3
    members(12)
    runs = []
    # A chunk writes the current scores last: the first to get there waits, its history rows not committed.
    killed_at(
        held(f"LOCK TABLE {MemberScore._meta.db_table} IN SHARE MODE"),
        start=lambda: runs.append(scoring.scoring_run_start(params={"parts": ["rfm"]})),
    )
    run = runs[0]
    chunk = ScoringChunk.objects.get(run=run, status=ChunkStatus.RUNNING)
    assert not ScoreHistory.objects.filter(run=run).exists()

    worker = start_worker()
    try:  # the other chunks' tasks are still queued: a fresh worker scores them; the killed one stays claimed
        wait_until(lambda: ScoringChunk.objects.filter(run=run, status=ChunkStatus.DONE).count() == 2, what="2 chunks")
        lapsed = chunk.claimed_at + datetime.timedelta(seconds=settings.CRM_SCORING_LEASE_SECONDS)
        wait_until(lambda: timezone.now() > lapsed, what="the dead worker's lease to lapse")
        assert scoring.scoring_sweep()["chunks"] == 1
        run = wait_for_run(run)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert run.status == RunStatus.DONE and (run.chunks_done, run.members) == (3, 12), run.message
    assert ScoreHistory.objects.filter(run=run).count() == MemberScore.objects.count() == 12
    assert ScoringChunk.objects.get(pk=chunk.pk).attempts == 2
