"""Marketing's tasks, retried on transient errors by the one policy in crm/celery.py."""

from celery import shared_task

from crm.jobs import job_run
from marketing import services
from marketing.services.ab import campaign_winners_choose
from marketing.services.results import results_refresh_due


@shared_task(ignore_result=True)
def segment_export_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.segment_export(job=job))


@shared_task(ignore_result=True)
def coupons_issue_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.coupons_issue_job(job=job))


@shared_task(ignore_result=True)
def campaign_winners_task() -> None:
    campaign_winners_choose()


@shared_task(ignore_result=True)
def results_refresh_task() -> None:
    results_refresh_due()
