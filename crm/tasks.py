from celery import shared_task

from crm.importers import import_job_run
from crm.jobs import job_run


@shared_task(ignore_result=True)
def import_task(job_id: int) -> None:
    job_run(job_id, import_job_run)
