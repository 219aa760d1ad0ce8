"""One retry policy for every task (crm/celery.py): transient errors retried with backoff, nothing else."""

import pytest
from celery.exceptions import Retry
from django.core.exceptions import ValidationError
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from crm.celery import TRANSIENT_ERRORS, CrmTask, app
from crm.models import Job, JobKind, JobStatus
from customers import services as customer_services
from customers.tasks import customer_export_task
from interactions.services import followups
from interactions.tasks import reminders_notify_task

PROJECT = ("crm", "customers", "interactions", "marketing", "analytics")


def project_tasks():
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if name.split(".")[0] in PROJECT)


def test_the_project_has_tasks_to_check():
    assert {"crm.tasks.import_task", "crm.tasks.jobs_sweep_task", "interactions.tasks.reminders_notify_task"} <= set(
        project_tasks()
    )


@pytest.mark.parametrize("name", project_tasks())
def test_every_task_follows_the_one_retry_policy(name):
    task = app.tasks[name]
    assert isinstance(task, CrmTask)
    assert (task.autoretry_for, task.max_retries, task.retry_backoff) == (TRANSIENT_ERRORS, 5, 10)


@pytest.fixture
def retries(monkeypatch):
    """The retries a task asks for, instead of sending them to the broker."""
    asked = []

    def retry(task):
        def ask(exc=None, countdown=None, **kwargs):
            asked.append((type(exc), countdown))
            raise Retry(exc=exc, when=countdown)

        monkeypatch.setattr(task, "retry", ask)
        return asked

    return retry


def failing(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error", [OperationalError("the database system is starting up"), RedisConnectionError("Connection refused")]
)
def test_a_transient_error_is_retried_after_a_backoff(monkeypatch, retries, error):
    asked = retries(reminders_notify_task)
    monkeypatch.setattr(followups, "reminders_notify_due", failing(error))
    with pytest.raises(Retry):
        reminders_notify_task()
    [(kind, countdown)] = asked
    assert kind is type(error) and 0 <= countdown <= 10


@pytest.mark.django_db
def test_a_validation_error_is_not_retried(monkeypatch, retries):
    asked = retries(reminders_notify_task)
    monkeypatch.setattr(followups, "reminders_notify_due", failing(ValidationError("bad rule")))
    with pytest.raises(ValidationError):
        reminders_notify_task()
    assert asked == []


@pytest.mark.django_db
def test_a_job_task_retried_on_a_transient_error_leaves_its_job_queued_for_the_retry(
    monkeypatch, retries, manager_user
):
    asked = retries(customer_export_task)
    monkeypatch.setattr(customer_services, "customer_export", failing(OperationalError("connection reset")))
    job = Job.objects.create(kind=JobKind.CUSTOMER_EXPORT, created_by=manager_user, params={"format": "csv"})
    with pytest.raises(Retry):
        customer_export_task(job.pk)
    job.refresh_from_db()
    assert len(asked) == 1 and job.status == JobStatus.QUEUED and job.attempts == 1
