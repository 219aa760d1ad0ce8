from celery import shared_task

from crm.jobs import job_run
from customers import imports, services


@shared_task(ignore_result=True)
def customer_export_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.customer_export(job=job))


@shared_task(ignore_result=True)
def customer_import_task(job_id: int) -> None:
    job_run(job_id, lambda job: imports.customer_import(job=job))
