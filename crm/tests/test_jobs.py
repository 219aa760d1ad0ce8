"""Jobs survive a dead worker: the heartbeat, the sweeper's rule, the claim of a redelivered task."""

import datetime
import threading
import time

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.db import OperationalError, connection, transaction

from crm.jobs import JobLost, job_claim, job_finish, job_progress, job_run, jobs_sweep
from crm.models import Job, JobKind, JobStatus
from crm.tasks import jobs_sweep_task

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def job_settings(settings):
    settings.CRM_JOB_LEASE_SECONDS = 600
    settings.CRM_JOB_MAX_ATTEMPTS = 3


def after(seconds: float) -> datetime.datetime:
    return START + datetime.timedelta(seconds=seconds)


def queued_job(user) -> Job:
    with time_machine.travel(START, tick=False):
        return Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=user)


def test_a_running_job_silent_past_its_lease_is_queued_again_then_failed_after_the_last_attempt(
    manager_user, django_capture_on_commit_callbacks
):
    job = queued_job(manager_user)
    moment = 0
    for attempt in range(1, 4):
        with time_machine.travel(after(moment), tick=False):
            assert job_claim(job.pk).attempts == attempt  # the task (re)delivered to a worker, which then dies
        moment += 601
        with time_machine.travel(after(moment), tick=False), django_capture_on_commit_callbacks() as queued:
            outcome = jobs_sweep_task()
        job.refresh_from_db()
        if attempt < 3:
            assert outcome == {"requeued": 1, "failed": 0, "indexes_rebuilt": 0} and len(queued) == 1
            assert job.status == JobStatus.QUEUED and "queued again" in job.message
        else:
            assert outcome == {"requeued": 0, "failed": 1, "indexes_rebuilt": 0} and not queued
    assert job.status == JobStatus.FAILED and job.finished_at == after(moment)
    assert job.message.startswith("The job was started 3 times without finishing") and "run it again" in job.message


def test_progress_is_a_heartbeat_so_a_slow_job_that_reports_is_left_alone(manager_user):
    job = queued_job(manager_user)
    with time_machine.travel(START, tick=False):
        job = job_claim(job.pk)
    with time_machine.travel(after(590), tick=False):
        job_progress(job, done=10, total=100)
    with time_machine.travel(after(1100), tick=False):
        assert jobs_sweep() == {"requeued": 0, "failed": 0, "indexes_rebuilt": 0}
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.heartbeat_at == after(590)


def test_a_job_queued_and_never_started_within_the_lease_is_sent_again(
    manager_user, django_capture_on_commit_callbacks
):
    job = queued_job(manager_user)
    with time_machine.travel(after(601), tick=False), django_capture_on_commit_callbacks() as queued:
        assert jobs_sweep() == {"requeued": 1, "failed": 0, "indexes_rebuilt": 0}
    job.refresh_from_db()
    assert len(queued) == 1 and job.status == JobStatus.QUEUED and job.attempts == 0 and job.message == ""


def test_a_redelivered_task_claims_a_stale_running_job_but_not_a_live_one(manager_user):
    job = queued_job(manager_user)
    with time_machine.travel(START, tick=False):
        first = job_claim(job.pk)
    with time_machine.travel(after(599), tick=False):
        assert job_claim(job.pk) is None  # the worker is alive: the duplicate is dropped
    with time_machine.travel(after(601), tick=False):
        second = job_claim(job.pk)
        assert job_claim(job.pk) is None
    assert (second.attempts, second.started_at) == (2, after(601))
    # The first worker was only slow: its next report finds the job gone on without it.
    with pytest.raises(JobLost):
        job_progress(first, done=5)
    with pytest.raises(JobLost):
        job_finish(first, filename="late.csv", content=ContentFile(b"late"))
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and not job.result


def test_a_stale_job_that_used_its_attempts_is_not_claimed_by_a_redelivered_task(manager_user):
    job = queued_job(manager_user)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=3, heartbeat_at=START)
    with time_machine.travel(after(601), tick=False):
        assert job_claim(job.pk) is None


def test_a_finished_job_is_not_claimed_again(manager_user):
    job = queued_job(manager_user)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.DONE, heartbeat_at=START)
    with time_machine.travel(after(6000), tick=False):
        assert job_claim(job.pk) is None
        assert jobs_sweep() == {"requeued": 0, "failed": 0, "indexes_rebuilt": 0}


def _wait_until_another_session_is_blocked(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction otherwise sees its first reading
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second claim never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_claiming_a_stale_job_at_once_make_one_winner(manager_user):
    job = queued_job(manager_user)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=START)
    first_claimed = threading.Event()
    won = {}

    def first():
        try:
            with transaction.atomic():  # holds its claim uncommitted until the second is queued behind it
                won["first"] = job_claim(job.pk) is not None
                first_claimed.set()
                _wait_until_another_session_is_blocked()
        finally:
            first_claimed.set()
            connection.close()

    def second():
        try:
            first_claimed.wait(timeout=5)
            won["second"] = job_claim(job.pk) is not None
        finally:
            connection.close()

    with time_machine.travel(after(601), tick=False):
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
    assert won == {"first": True, "second": False}
    job.refresh_from_db()
    assert job.attempts == 2


def test_a_transient_error_puts_the_job_back_in_the_queue_for_the_retry(manager_user):
    job = queued_job(manager_user)

    def work(job):
        raise OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError):
        job_run(job.pk, work)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.attempts == 1 and job.message == ""
    assert job_claim(job.pk).attempts == 2  # the task's retry takes it up


def test_any_other_error_fails_the_job_with_a_message(manager_user):
    job = queued_job(manager_user)

    def work(job):
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        job_run(job.pk, work)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "you can run it again" in job.message
    assert "a bug" not in job.message


def test_a_run_that_lost_its_job_stops_without_failing_it(manager_user):
    job = queued_job(manager_user)

    def work(claimed):
        Job.objects.filter(pk=claimed.pk).update(started_at=after(1))  # another worker's claim
        job_progress(claimed, done=1)

    job_run(job.pk, work)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.started_at == after(1)
