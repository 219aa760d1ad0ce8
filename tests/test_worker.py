"""Through a real Celery worker on Redis: the job runs in another process and the page sees it."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from crm.celery import app
from crm.models import Job, JobStatus
from customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker_process(transactional_db):
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("CI") == "true":
            pytest.fail("REDIS_URL is not set: CI must run the real-worker tests")
        pytest.skip("REDIS_URL not set: no real Celery worker to run against")
    app.control.purge()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=warning",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


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
