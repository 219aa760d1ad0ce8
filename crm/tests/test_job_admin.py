import pytest
from django.urls import reverse

from crm.models import Job

pytestmark = pytest.mark.django_db


def test_admin_lists_jobs_read_only(admin_user, login_as):
    job = Job.objects.create(kind="customer_export", created_by=admin_user, total=10, done=3)
    client = login_as(admin_user)
    assert "customer_export" in client.get(reverse("admin:crm_job_changelist")).content.decode()
    assert client.get(reverse("admin:crm_job_add")).status_code == 403
    body = client.get(reverse("admin:crm_job_change", args=[job.pk])).content.decode()
    assert 'name="status"' not in body
