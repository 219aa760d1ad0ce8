"""Marketing's tasks, retried on transient errors by the one policy in crm/celery.py."""

from celery import shared_task

from crm.jobs import job_run
from crm.queue import enqueue
from marketing import services
from marketing.models import Automation
from marketing.services import sending
from marketing.services.ab import campaign_winners_choose
from marketing.services.automations import automation_run
from marketing.services.reports import segment_snapshots_take
from marketing.services.results import results_refresh_due


@shared_task(ignore_result=True)
def segment_export_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.segment_export(job=job))


@shared_task(ignore_result=True)
def coupons_issue_task(job_id: int) -> None:
    job_run(job_id, lambda job: services.coupons_issue_job(job=job))


# A helper of a coupon issue job: takes its chunks nobody holds (crm/jobs.py), so every free worker issues some.
@shared_task(ignore_result=True)
def coupons_issue_part_task(job_id: int) -> None:
    services.coupons_issue_parts(job_id=job_id)


# Campaign sending (marketing/services/sending). A batch task is one step of a lane: it claims and sends the
# campaign's next rows, then queues the next step (throttled to CRM_SEND_RATE), so any worker takes any batch
# and a task delivered twice only claims rows no one else holds. A channel that went away (SMTP down) raises
# a ServiceUnavailable, retried like the other transient errors by the one policy.
@shared_task(ignore_result=True)
def campaign_send_batch_task(campaign_id: int) -> None:
    result = sending.messages_send_batch(campaign_id=campaign_id)
    # Without a broker (tasks run inline) the lane goes on here instead of recursing once per batch.
    while result is not None and result.more and campaign_send_batch_task.app.conf.task_always_eager:
        result = sending.messages_send_batch(campaign_id=campaign_id)
    if result is not None and result.more:
        countdown = sending.batch_pause(result)
        sending.lane_touch(campaign_id, waiting=countdown)  # so the sweep does not start another lane meanwhile
        enqueue(campaign_send_batch_task, campaign_id, countdown=countdown)


@shared_task(ignore_result=True)
def campaigns_sweep_task() -> dict:
    return sending.messages_sweep()


@shared_task(ignore_result=True)
def campaigns_start_due_task() -> int:
    return sending.campaigns_start_due()


@shared_task(ignore_result=True)
def campaign_winners_task() -> None:
    campaign_winners_choose()


@shared_task(ignore_result=True)
def results_refresh_task() -> None:
    results_refresh_due()


@shared_task(ignore_result=True)
def segment_snapshots_task() -> None:
    segment_snapshots_take()


# Automations (marketing.services.automations). Beat queues the hourly or daily kinds; each enabled automation
# runs as its own task, so one slow kind does not hold the others, and any worker can take any of them.
@shared_task(ignore_result=True)
def automations_run_task(kinds: list[str]) -> None:
    for automation_id in Automation.objects.filter(kind__in=kinds, enabled=True).values_list("pk", flat=True):
        enqueue(automation_run_task, automation_id)


@shared_task(ignore_result=True)
def automation_run_task(automation_id: int) -> None:
    automation = Automation.objects.filter(pk=automation_id).first()
    if automation is not None:
        automation_run(automation=automation)
