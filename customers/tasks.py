"""Customers' tasks, retried on transient errors by the one policy in crm/celery.py."""

from celery import shared_task

from crm.jobs import job_run
from customers import services
from customers.services import bulk


@shared_task(ignore_result=True)
def customer_export_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.customer_export(job=job))


@shared_task(ignore_result=True)
def customer_bulk_task(job_id: int) -> None:
    job_run(job_id, lambda job: bulk.customers_bulk_job(job=job))
