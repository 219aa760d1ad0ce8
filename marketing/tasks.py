"""Marketing's tasks, retried on transient errors by the one policy in crm/celery.py."""

from celery import shared_task

from crm.jobs import job_run
from marketing import services
from marketing.models import Automation
from marketing.services.automations import automation_run


@shared_task(ignore_result=True)
def segment_export_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.segment_export(job=job))


@shared_task(ignore_result=True)
def coupons_issue_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.coupons_issue_job(job=job))


# Automations (marketing.services.automations). Beat queues the hourly or daily kinds; each enabled automation
# runs as its own task, so one slow kind does not hold the others, and any worker can take any of them.
@shared_task(ignore_result=True)
def automations_run_task(kinds: list[str]) -> None:
    for automation_id in Automation.objects.filter(kind__in=kinds, enabled=True).values_list("pk", flat=True):
        automation_run_task.delay(automation_id)


@shared_task(ignore_result=True)
def automation_run_task(automation_id: int) -> None:
    automation = Automation.objects.filter(pk=automation_id).first()
    if automation is not None:
        automation_run(automation=automation)
