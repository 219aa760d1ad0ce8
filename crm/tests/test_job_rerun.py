"""Run a job again from its page: its starter or a manager, POST only; an export replaces its file,
an import adds nothing twice."""

import datetime
import io

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from crm.models import Job, JobKind, JobStatus
from crm.tasks import import_task
from customers.models import Customer
from customers.tasks import customer_export_task
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def rerun_url(job: Job) -> str:
    return reverse("job_rerun", args=[job.pk])


def failed_job(user) -> Job:
    return Job.objects.create(
        kind=JobKind.CUSTOMER_EXPORT,
        created_by=user,
        params={"query": "", "format": "csv"},
        status=JobStatus.FAILED,
        attempts=3,
        message="The job was started 3 times without finishing.",
    )


def download(client, job: Job) -> str:
    return b"".join(client.get(reverse("job_download", args=[job.pk])).streaming_content).decode("utf-8-sig")


def test_the_starter_runs_an_export_again_and_its_file_is_replaced(
    manager_client, manager_user, django_capture_on_commit_callbacks
):
    CustomerFactory(name="第一位")
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("customers:export"), {"query": "", "format": "csv"})
    job = Job.objects.get()
    customer_export_task(job.pk)
    job.refresh_from_db()
    first_file = job.result.name
    page = manager_client.get(job.get_absolute_url()).content.decode()
    assert "Run again" in page and rerun_url(job) in page

    CustomerFactory(name="第二位")
    with django_capture_on_commit_callbacks() as queued:
        response = manager_client.post(rerun_url(job))
    assert response.status_code == 302 and response.url == job.get_absolute_url() and len(queued) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.message) == (JobStatus.QUEUED, 0, 0, "")
    assert "queued to run again" in manager_client.get(job.get_absolute_url()).content.decode()

    customer_export_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result.name != first_file
    assert not default_storage.exists(first_file)
    assert "第一位" in download(manager_client, job) and "第二位" in download(manager_client, job)
    entry = LogEntry.objects.get(object_id=str(job.pk))
    assert entry.user == manager_user and entry.change_message == "Run again."


def test_a_manager_may_run_again_a_job_another_user_started(
    manager_client, manager_user, sales_user, django_capture_on_commit_callbacks
):
    job = failed_job(sales_user)
    with django_capture_on_commit_callbacks() as queued:
        response = manager_client.post(rerun_url(job))
    job.refresh_from_db()
    # The job's page stays its starter's; the manager is told on the next page.
    assert response.status_code == 302 and response.url == reverse("home") and len(queued) == 1
    assert job.status == JobStatus.QUEUED and job.created_by == sales_user
    assert LogEntry.objects.get(object_id=str(job.pk)).user == manager_user


def test_another_user_may_not_run_my_job_again(sales_user, other_sales_user, login_as):
    job = failed_job(sales_user)
    assert login_as(other_sales_user).post(rerun_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and not LogEntry.objects.exists()


def test_run_again_is_post_only(sales_user, login_as):
    job = failed_job(sales_user)
    assert login_as(sales_user).get(rerun_url(job)).status_code == 405


def test_an_unknown_job_is_404(manager_client):
    assert manager_client.post(reverse("job_rerun", args=[999999])).status_code == 404


def test_a_job_still_running_is_not_run_again_and_offers_no_button(
    manager_client, manager_user, django_capture_on_commit_callbacks
):
    job = Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=manager_user, status=JobStatus.RUNNING)
    assert "Run again" not in manager_client.get(job.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = manager_client.post(rerun_url(job), follow=True)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and not queued
    assert "still queued or running" in response.content.decode()


def test_a_job_whose_worker_went_silent_offers_run_again(manager_client, manager_user, settings):
    settings.CRM_JOB_LEASE_SECONDS = 600
    job = Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=manager_user, status=JobStatus.RUNNING)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        body = manager_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "Run again" in body


def upload(client, content: bytes):
    file = io.BytesIO(content)
    file.name = "members.csv"
    return client.post(reverse("import"), {"file": file, "importer": "customers"})


def test_an_import_run_again_adds_nothing_twice(manager_client, django_capture_on_commit_callbacks):
    response = upload(manager_client, "name,mobile\n甲,13800000051\n乙,13800000052\n乙二,123\n".encode())
    with django_capture_on_commit_callbacks():
        manager_client.post(response.url, {"col_0": "name", "col_1": "mobile"})
    job = Job.objects.get(kind=JobKind.CUSTOMERS_IMPORT)
    import_task(job.pk)
    with django_capture_on_commit_callbacks():
        manager_client.post(rerun_url(job))
    import_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.message == "0 created, 2 already present, 1 with errors."
    assert Customer.objects.count() == 2
    assert download(manager_client, job).splitlines()[1].startswith("4,")
