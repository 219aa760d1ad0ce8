"""The platform's tasks. Every task is retried on transient errors by the one policy in crm/celery.py."""

from celery import shared_task

from crm.importers import import_job_run
from crm.jobs import job_run, jobs_sweep
from crm.queue import outbox_drain


@shared_task(ignore_result=True)
def import_task(job_id: int) -> None:
    job_run(job_id, import_job_run)


@shared_task(ignore_result=True)
def jobs_sweep_task() -> dict[str, int]:
    """Queue again, or fail, jobs whose worker stopped reporting (scheduled in crm/schedule.py)."""
    return jobs_sweep()


@shared_task(ignore_result=True)
def audit_archive_task() -> int:
    """Move audit entries past RETENTION_AUDIT_YEARS into archive files (scheduled in crm/schedule.py)."""
    from crm.audit import audit_archive_old

    return audit_archive_old()


@shared_task(ignore_result=True)
def outbox_drain_task() -> dict[str, int]:
    """Hand over the tasks kept while Redis was away (scheduled in crm/schedule.py)."""
    return outbox_drain()
