import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import AuditAction, AuditEvent, Job, JobStatus
from customers.tasks import customer_export_task
from customers.tests.factories import CustomerFactory, TierFactory

pytestmark = pytest.mark.django_db
EXPORT = reverse("customers:export")


def run_export(client, django_capture_on_commit_callbacks, **data) -> Job:
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(EXPORT, data)
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert len(callbacks) == 1  # the task is queued once the job row is committed
    customer_export_task(job.pk)
    job.refresh_from_db()
    return job


def download_rows(client, job) -> list[list[str]]:
    response = client.get(reverse("job_download", args=[job.pk]))
    content = b"".join(response.streaming_content)
    if job.params["format"] == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).active
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_manager_exports_the_filtered_list_as_csv(manager_client, manager_user, django_capture_on_commit_callbacks):
    gold = TierFactory(name="金卡")
    CustomerFactory(name="金卡会员", tier=gold, mobile="+8613911112222")
    CustomerFactory(name="普通会员")
    job = run_export(manager_client, django_capture_on_commit_callbacks, query=f"tier={gold.pk}", format="csv")
    assert job.status == JobStatus.DONE and (job.done, job.total) == (1, 1)
    rows = download_rows(manager_client, job)
    assert rows[0][:3] == ["CRM number", "Name", "Mobile"]
    assert [r[1] for r in rows[1:]] == ["金卡会员"]
    assert rows[1][2] == "+8613911112222"
    assert AuditEvent.objects.filter(actor=manager_user, action=AuditAction.EXPORT).exists()


def test_export_as_xlsx(manager_client, django_capture_on_commit_callbacks):
    CustomerFactory.create_batch(3)
    job = run_export(manager_client, django_capture_on_commit_callbacks, query="", format="xlsx")
    rows = download_rows(manager_client, job)
    assert len(rows) == 4 and rows[0][1] == "Name"


def test_job_page_shows_progress_and_download_link(manager_client, django_capture_on_commit_callbacks):
    CustomerFactory()
    job = run_export(manager_client, django_capture_on_commit_callbacks, query="", format="csv")
    body = manager_client.get(job.get_absolute_url()).content.decode()
    assert "100%" in body and reverse("job_download", args=[job.pk]) in body


def test_queued_job_page_polls_for_progress(manager_client, manager_user):
    job = Job.objects.create(kind="customer_export", created_by=manager_user, total=10, done=4)
    body = manager_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "40%" in body and "hx-get" in body and "<nav" not in body


def test_another_user_cannot_see_or_download_my_export(manager_user, login_as, make_user):
    job = Job.objects.create(kind="customer_export", created_by=manager_user)
    other = login_as(make_user("Manager", username="other-manager"))
    assert other.get(job.get_absolute_url()).status_code == 404
    assert other.get(reverse("job_download", args=[job.pk])).status_code == 404


def test_service_staff_may_not_export(service_client):
    assert service_client.post(EXPORT, {"format": "csv"}).status_code == 403


def test_export_with_unknown_format_is_refused(manager_client):
    response = manager_client.post(EXPORT, {"format": "pdf"})
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_export_get_is_405(manager_client):
    assert manager_client.get(EXPORT).status_code == 405
