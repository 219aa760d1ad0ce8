import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db


def test_admin_lists_jobs_read_only(admin_user, login_as):
    job = Job.objects.create(kind="customer_export", created_by=admin_user, total=10, done=3)
    client = login_as(admin_user)
    assert "customer_export" in client.get(reverse("admin:crm_job_changelist")).content.decode()
    assert client.get(reverse("admin:crm_job_add")).status_code == 403
    body = client.get(reverse("admin:crm_job_change", args=[job.pk])).content.decode()
    assert 'name="status"' not in body


def test_admin_action_runs_the_selected_finished_jobs_again(admin_user, manager_user, login_as):
    done = Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=manager_user, status=JobStatus.DONE)
    running = Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=manager_user, status=JobStatus.RUNNING)
    response = login_as(admin_user).post(
        reverse("admin:crm_job_changelist"),
        {"action": "run_again", "_selected_action": [done.pk, running.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "1 job queued to run again" in body and "1 job is still queued or running" in body
    done.refresh_from_db()
    running.refresh_from_db()
    assert (done.status, running.status) == (JobStatus.QUEUED, JobStatus.RUNNING)
    assert LogEntry.objects.get(object_id=str(done.pk)).user == admin_user


def test_admin_action_refuses_a_job_someone_else_started_to_staff_without_the_permission(
    manager_user, make_user, login_as
):
    clerk = make_user(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_job"))
    job = Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=manager_user, status=JobStatus.FAILED)
    response = login_as(clerk).post(
        reverse("admin:crm_job_changelist"), {"action": "run_again", "_selected_action": [job.pk]}, follow=True
    )
    assert "started by someone else" in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
