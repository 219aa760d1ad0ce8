"""Through a real Celery worker on Redis (tests/workers.py): the job runs in another process and the page sees it;
a worker killed in the middle of a job leaves it to the sweeper and a fresh worker."""

import io
import time
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from crm.models import Job, JobKind, JobStatus
from crm.tasks import jobs_sweep_task
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from tests.workers import start_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for_job(job: Job, timeout: float = 60) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished:
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job.pk} still {job.status} after {timeout}s")


def test_export_runs_on_a_real_worker_and_the_page_offers_the_file(celery_worker_process, manager_client):
    CustomerFactory.create_batch(5, city="宁波市")
    CustomerFactory(city="温州市")
    response = manager_client.post(reverse("customers:export"), {"query": "city=宁波市", "format": "csv"})
    job = wait_for_job(Job.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[-1]))
    assert job.status == JobStatus.DONE, job.message
    assert (job.done, job.total) == (5, 5)
    page = manager_client.get(response.url).content.decode()
    assert "100%" in page and reverse("job_download", args=[job.pk]) in page
    content = b"".join(manager_client.get(reverse("job_download", args=[job.pk])).streaming_content)
    assert content.decode("utf-8-sig").count("宁波市") == 5


def test_a_killed_workers_import_is_taken_up_again_and_finished_by_a_fresh_worker(
    redis_broker, manager_client, settings
):
    rows = 20_000
    content = "name,mobile\n" + "".join(f"会员{i},{13900000000 + i}\n" for i in range(rows))
    file = io.BytesIO(content.encode())
    file.name = "members.csv"
    mapping_url = manager_client.post(reverse("import"), {"file": file, "importer": "customers"}).url
    worker = start_worker()
    try:
        manager_client.post(mapping_url, {"col_0": "name", "col_1": "mobile"})
        job = Job.objects.get(kind=JobKind.CUSTOMERS_IMPORT)
        deadline = time.monotonic() + 60
        while not (job.status == JobStatus.RUNNING and job.done > 0):  # a first chunk is in
            assert time.monotonic() < deadline and not job.finished, f"job {job.status} at {job.done}"
            time.sleep(0.05)
            job.refresh_from_db()
    finally:
        worker.kill()  # no warm shutdown: the task is neither finished nor acknowledged
        worker.wait(timeout=20)
    job.refresh_from_db()
    imported_before = Customer.objects.count()
    assert job.status == JobStatus.RUNNING and 0 < imported_before < rows

    # Its heartbeat stops; a lease later the sweeper queues the job again, and a fresh worker runs it.
    with time_machine.travel(job.heartbeat_at + timedelta(seconds=settings.CRM_JOB_LEASE_SECONDS + 1)):
        assert jobs_sweep_task() == {"requeued": 1, "failed": 0, "indexes_rebuilt": 0}
    fresh = start_worker()
    try:
        job = wait_for_job(job)
    finally:
        fresh.terminate()
        fresh.wait(timeout=20)
    assert job.status == JobStatus.DONE and job.attempts == 2, job.message
    assert job.message == f"{rows - imported_before} created, {imported_before} already present, 0 with errors."
    assert Customer.objects.count() == rows
