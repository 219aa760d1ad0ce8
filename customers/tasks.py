"""Customers' tasks, retried on transient errors by the one policy in crm/celery.py."""

from celery import shared_task

from crm.jobs import job_run
from customers import services
from customers.services import bulk, retention


@shared_task(ignore_result=True)
def customer_export_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.customer_export(job=job))


@shared_task(ignore_result=True)
def customer_bulk_task(job_id: int) -> None:
    job_run(job_id, lambda job: bulk.customers_bulk_job(job=job))


@shared_task(ignore_result=True)
def retention_members_task() -> int:
    """Erase the personal data of members inactive past RETENTION_INACTIVE_YEARS (scheduled in crm/schedule.py)."""
    return retention.members_retention_apply()
