"""Running long jobs: claim, report progress, finish or fail. Progress lives in the Job row."""

import logging
from collections.abc import Callable

from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Job, JobStatus

logger = logging.getLogger(__name__)


def job_create(*, kind: str, params: dict, created_by, queue: Callable[[int], object]) -> Job:
    """Record the job and queue `queue(job.id)` once the row is committed."""
    job = Job.objects.create(kind=kind, params=params, created_by=created_by)
    transaction.on_commit(lambda: queue(job.pk))
    return job


def job_claim(job_id: int) -> Job | None:
    """Move a queued job to running; None if it is gone or another worker has it."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    return Job.objects.get(pk=job_id) if claimed else None


def job_run(job_id: int, work: Callable[[Job], None]) -> None:
    """Claim the job and run `work(job)`; a failure is recorded on the job (and still raised)."""
    job = job_claim(job_id)
    if job is None:
        return
    try:
        work(job)
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job_fail(job, message=str(_("The job failed. The error has been logged; you can run it again.")))
        raise


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    fields = {"done": done}
    if total is not None:
        fields["total"] = total
        job.total = total
    job.done = done
    Job.objects.filter(pk=job.pk).update(**fields)


def job_finish(job: Job, *, filename: str, content: File, message: str = "") -> None:
    job.result.save(filename, content, save=False)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, result=job.result.name, message=message, done=F("total"), finished_at=timezone.now()
    )


def job_fail(job: Job, *, message: str) -> None:
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message=message, finished_at=timezone.now())
