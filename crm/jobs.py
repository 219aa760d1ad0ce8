"""Running long jobs: claim, report progress, finish or fail; and take up again a job whose worker died.
Progress lives in the Job row.

A worker can die in the middle of a job (killed, out of memory, its machine gone), and Celery
delivers its task again (acks_late) or not at all. So every progress report is also a heartbeat,
and a job whose heartbeat is older than CRM_JOB_LEASE_SECONDS is stale: its worker is taken for dead.

The rule for taking a job up (`_may_start`, applied by every claim): it is queued, or stale, and
has been started fewer than CRM_JOB_MAX_ATTEMPTS times. The sweeper (`jobs_sweep`, run by beat)
queues a stale job again while that holds, and fails it with a message once the attempts are used up;
a redelivered task may claim a stale job itself. A person can always run a finished or stale job again.

A job whose items are independent (coupons to a segment's members) is cut into chunks of consecutive ids
(`job_chunks_split`) that any worker on any machine takes, one claim each (`job_chunks_work`): the worker that
runs the job queues helper tasks and takes chunks itself, and the last chunk done finishes the job. A chunk's
claim is a lease like the job's: its worker's death leaves the chunk to whoever runs the job again.

Each start is a claim: one conditional UPDATE whose row count says which worker runs the job (as
reminders are claimed in interactions/services/followups.py), so two deliveries never run it at once.
The claim's started_at is the run's token: progress and the finish are written only while the row
still carries it, so a worker presumed dead that comes back learns at its next report (JobLost) that
the job went on without it, and stops.
"""

import datetime
import itertools
import logging
from collections.abc import Callable, Sequence

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.celery import TRANSIENT_ERRORS, app
from crm.indexes import indexes_restore
from crm.models import IMPORT_KINDS, ChunkStatus, Job, JobChunk, JobKind, JobStatus
from crm.queue import enqueue, is_waiting

logger = logging.getLogger(__name__)

# The task that runs each kind of job, by its Celery name as in crm/schedule.py (the platform imports
# no app): what the sweeper and "run again" queue.
JOB_TASKS: dict[str, str] = {
    JobKind.CUSTOMER_EXPORT: "customers.tasks.customer_export_task",
    JobKind.CUSTOMER_BULK: "customers.tasks.customer_bulk_task",
    JobKind.SEGMENT_EXPORT: "marketing.tasks.segment_export_task",
    JobKind.COUPON_ISSUE: "marketing.tasks.coupons_issue_task",
    JobKind.CUSTOMERS_IMPORT: "crm.tasks.import_task",
    JobKind.TRANSACTIONS_IMPORT: "crm.tasks.import_task",
}
UNFINISHED = [JobStatus.QUEUED, JobStatus.RUNNING]


class JobLost(Exception):
    """Another run has taken the job up (this one was presumed dead): this run stops without a word."""


def job_create(*, kind: JobKind, params: dict, created_by: AbstractBaseUser) -> Job:
    """Record the job and queue its kind's task (JOB_TASKS) once the row is committed."""
    job = Job.objects.create(kind=kind, params=params, created_by=created_by)
    job_queue(job)
    return job


def _stale(now: datetime.datetime) -> Q:
    """Unfinished, and no heartbeat for a whole lease."""
    lease = datetime.timedelta(seconds=settings.CRM_JOB_LEASE_SECONDS)
    return Q(status__in=UNFINISHED, heartbeat_at__lt=now - lease)


def _attempts_left() -> Q:
    return Q(attempts__lt=settings.CRM_JOB_MAX_ATTEMPTS)


def _may_start(now: datetime.datetime) -> Q:
    """The one rule for taking a job up: queued or stale, and started fewer than CRM_JOB_MAX_ATTEMPTS times."""
    return (Q(status=JobStatus.QUEUED) | _stale(now)) & _attempts_left()


def job_is_stale(job: Job) -> bool:
    return Job.objects.filter(_stale(timezone.now()), pk=job.pk).exists()


def job_claim(job_id: int) -> Job | None:
    """Start the job if `_may_start` allows; None if it is gone, finished, or running elsewhere."""
    now = timezone.now()
    claimed = Job.objects.filter(_may_start(now), pk=job_id).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    return Job.objects.get(pk=job_id) if claimed else None


def job_run(job_id: int, work: Callable[[Job], object]) -> None:
    """Claim the job and run `work(job)`. A transient error puts the job back in the queue for the
    task's retry (crm/celery.py); any other failure is recorded on the job (and still raised)."""
    job = job_claim(job_id)
    if job is None:
        return
    try:
        work(job)
    except JobLost:
        logger.warning("job %s (%s) was taken up by another run; this one stops", job.pk, job.kind)
    except TRANSIENT_ERRORS:
        _job_release(job)
        raise
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        job_fail(job, message=str(_("The job failed. The error has been logged; you can run it again.")))
        raise


def _owned(job: Job) -> QuerySet[Job]:
    """The job's row while this run still holds it."""
    return Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, started_at=job.started_at)


def _job_release(job: Job) -> None:
    # The database may be the thing that is away: then the job stays running, and once its lease
    # lapses the retry's claim (or the sweeper) takes it up all the same.
    try:
        if not connection.in_atomic_block:
            close_old_connections()  # a broken connection is replaced, as between two tasks
        _owned(job).update(status=JobStatus.QUEUED, heartbeat_at=timezone.now())
    except DatabaseError:
        logger.warning("job %s could not be put back in the queue; its lease will lapse", job.pk, exc_info=True)


def job_heartbeat(job: Job) -> None:
    """Say the job is alive when there is no progress to report (a long first pass over a file)."""
    if not _owned(job).update(heartbeat_at=timezone.now()):
        raise JobLost(job.pk)


def job_progress(job: Job, *, done: int, total: int | None = None) -> None:
    """Report progress, which is also the job's heartbeat."""
    fields = {"done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["total"] = total
        job.total = total
    job.done = done
    if not _owned(job).update(**fields):
        raise JobLost(job.pk)


def job_finish(job: Job, *, filename: str, content: File, message: str = "") -> None:
    """Store the result and mark the job done; a job run again replaces its earlier file."""
    earlier = job.result.name
    job.result.save(filename, content, save=False)
    updated = _owned(job).update(
        status=JobStatus.DONE, result=job.result.name, message=message, done=F("total"), finished_at=timezone.now()
    )
    if not updated:
        job.result.delete(save=False)
        raise JobLost(job.pk)
    if earlier and earlier != job.result.name:
        job.result.storage.delete(earlier)


def job_done(job: Job, *, message: str = "") -> None:
    """Mark a job that leaves no file (a bulk change) done, with what it did."""
    if not _owned(job).update(status=JobStatus.DONE, message=message, done=F("total"), finished_at=timezone.now()):
        raise JobLost(job.pk)


def job_fail(job: Job, *, message: str) -> None:
    if not _owned(job).update(status=JobStatus.FAILED, message=message, finished_at=timezone.now()):
        logger.warning("job %s: not failed by this run, which no longer holds it", job.pk)


def job_queue(job: Job) -> None:
    """Send the job's task once the current transaction commits (kept in the outbox while Redis is away)."""
    name = JOB_TASKS[job.kind]
    if name not in app.tasks:
        app.loader.import_default_modules()  # Celery's autodiscovery of every app's tasks, as a worker does
    enqueue(app.tasks[name], job.pk)


def job_waits_for_queue(job: Job) -> bool:
    """Whether the job's task could not be queued yet (Redis away): its page says it starts once Redis is back."""
    return job.status == JobStatus.QUEUED and is_waiting(JOB_TASKS[job.kind], job.pk)


def jobs_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Queue again each stale job that has attempts left, and fail the others (the rule: module docstring)."""
    now = now or timezone.now()
    gave_up = gettext(
        "The job was started %(count)d times without finishing; it is not started again by itself. "
        "You can run it again."
    )
    failed = 0
    for job in Job.objects.filter(_stale(now)).exclude(_attempts_left()).only("pk", "attempts"):
        failed += Job.objects.filter(_stale(now), pk=job.pk).update(
            status=JobStatus.FAILED, finished_at=now, message=gave_up % {"count": job.attempts}
        )
    requeued = 0
    for job in Job.objects.filter(_stale(now), _attempts_left()).only("pk", "kind", "attempts"):
        # Conditional like a claim: of two sweeps (or a sweep and a redelivered task) one queues it.
        if Job.objects.filter(_stale(now), pk=job.pk, attempts=job.attempts).update(
            status=JobStatus.QUEUED,
            heartbeat_at=now,
            message=gettext("The job stopped before finishing, so it was queued again.") if job.attempts else "",
        ):
            logger.warning("job %s (%s) was stale: queued again after %d attempts", job.pk, job.kind, job.attempts)
            job_queue(job)
            requeued += 1
    # Indexes an import set aside and did not build again (its worker was killed): built once no import runs.
    rebuilt = []
    if not Job.objects.filter(kind__in=IMPORT_KINDS, status=JobStatus.RUNNING).exclude(_stale(now)).exists():
        rebuilt = indexes_restore()
    return {"requeued": requeued, "failed": failed, "indexes_rebuilt": len(rebuilt)}


def job_may_rerun(user: AbstractBaseUser, job: Job) -> bool:
    """Who may run a job again: whoever started it, and managers (the crm.rerun_job permission)."""
    return job.created_by_id == user.pk or user.has_perm("crm.rerun_job")


def job_rerun(*, job: Job, actor: AbstractBaseUser) -> bool:
    """Queue a finished or stale job again from the start, with all its attempts; False if it is
    queued or running. Jobs are written to be run again: an import skips rows already present, an
    export replaces its file. Recorded in the job's admin history."""
    now = timezone.now()
    with transaction.atomic():
        again = (
            Job.objects.filter(pk=job.pk)
            .filter(Q(status__in=[JobStatus.DONE, JobStatus.FAILED]) | _stale(now))
            .update(
                status=JobStatus.QUEUED,
                attempts=0,
                done=0,
                total=0,
                message="",
                started_at=None,
                finished_at=None,
                heartbeat_at=now,
            )
        )
        if not again:
            return False
        JobChunk.objects.filter(job=job).delete()  # run again from the start: cut anew
        LogEntry.objects.log_actions(
            user_id=actor.pk,
            queryset=[job],
            action_flag=CHANGE,
            change_message=gettext("Run again."),
            single_object=True,
        )
        job_queue(job)
    job.refresh_from_db()
    return True


class ChunkLost(Exception):
    """The chunk's lease lapsed and another worker claimed it: this worker's writes for it are rolled back."""


def job_chunks_split(job: Job, *, ids: Sequence[int], size: int) -> int:
    """Cut the job's items (their ids, ascending) into chunks of `size` consecutive ones; the job's total is the
    number of items. Returns how many chunks."""
    size = max(size, 1)
    starts = list(ids[::size])
    bounds = [*starts, ids[-1] + 1] if starts else []
    JobChunk.objects.bulk_create(
        JobChunk(job=job, number=number, lo=lo, hi=hi) for number, (lo, hi) in enumerate(itertools.pairwise(bounds), 1)
    )
    job_progress(job, done=0, total=len(ids))
    return len(starts)


def job_chunks_help(job: Job, task: object) -> int:
    """Queue `task(job.pk)` (after commit) once per chunk left but one, which the caller takes itself: workers
    that are free take them, each working through chunks like the caller (`job_chunks_work`). Returns how many."""
    helpers = max(JobChunk.objects.filter(job=job).exclude(status=ChunkStatus.DONE).count() - 1, 0)
    for _helper in range(helpers):
        enqueue(task, job.pk)
    return helpers


def _chunk_claim(job_id: int) -> JobChunk | None:
    """The job's next chunk nobody holds (pending, or claimed longer than a lease ago: its worker died), in one
    statement whose row count says who won (SKIP LOCKED: two workers never take the same chunk)."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.CRM_JOB_LEASE_SECONDS)
    chunks, jobs = JobChunk._meta.db_table, Job._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {chunks} SET status = %s, claimed_at = %s
            WHERE id = (
                SELECT c.id FROM {chunks} c JOIN {jobs} j ON j.id = c.job_id
                WHERE c.job_id = %s AND j.status = %s AND (c.status = %s OR (c.status = %s AND c.claimed_at < %s))
                ORDER BY c.number LIMIT 1 FOR UPDATE OF c SKIP LOCKED
            )
            RETURNING id, number, lo, hi
            """,  # noqa: S608 -- only our table names are formatted in
            [ChunkStatus.RUNNING, now, job_id, JobStatus.RUNNING, ChunkStatus.PENDING, ChunkStatus.RUNNING, stale],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    Job.objects.filter(pk=job_id).update(heartbeat_at=now)  # the chunk's lease lapses no sooner than the job's
    chunk_id, number, lo, hi = row
    return JobChunk(pk=chunk_id, job_id=job_id, number=number, lo=lo, hi=hi, status=ChunkStatus.RUNNING, claimed_at=now)


def job_chunks_work(job_id: int, work: Callable[[JobChunk], tuple[int, int]], *, message: Callable[[int], str]) -> int:
    """Take the job's chunks one after another until none is left: `work(chunk)` returns (items gone through,
    result) and runs in one transaction with the chunk marked done, while the chunk still carries this claim.
    Whoever does the last chunk finishes the job with `message(sum of results)`. Returns the chunks done here.
    A transient error hands the chunk back (the task's retry goes on); any other fails the job."""
    did = 0
    while (chunk := _chunk_claim(job_id)) is not None:
        mine = JobChunk.objects.filter(pk=chunk.pk, status=ChunkStatus.RUNNING, claimed_at=chunk.claimed_at)
        try:
            with transaction.atomic():
                if not mine.select_for_update().exists():  # held from here on: nobody claims it under us
                    raise ChunkLost(chunk.pk)
                processed, result = work(chunk)
                now = timezone.now()
                mine.update(status=ChunkStatus.DONE, processed=processed, result=result, finished_at=now)
                Job.objects.filter(pk=job_id).update(done=F("done") + processed, heartbeat_at=now)
        except ChunkLost:
            logger.warning("job %s: chunk %s was taken up by another worker", job_id, chunk.number)
            continue
        except TRANSIENT_ERRORS:
            _chunk_release(mine)
            raise
        except Exception:
            logger.exception("job %s failed in chunk %s", job_id, chunk.number)
            Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED,
                finished_at=timezone.now(),
                message=str(_("The job failed. The error has been logged; you can run it again.")),
            )
            raise
        did += 1
        # Which worker did which part: read in each worker's log (a chunk is an operator's unit of work).
        logger.info("job %s: chunk %s done, %d items, result %d", job_id, chunk.number, processed, result)
    _chunks_finish(job_id, message)
    return did


def _chunk_release(mine: QuerySet[JobChunk]) -> None:
    try:
        if not connection.in_atomic_block:
            close_old_connections()
        mine.update(status=ChunkStatus.PENDING, claimed_at=None)
    except DatabaseError:
        logger.warning("a chunk could not be handed back; its lease will lapse", exc_info=True)


def _chunks_finish(job_id: int, message: Callable[[int], str]) -> None:
    """Each worker looks after its own last commit, so the one that committed the last chunk sees them all done;
    the conditional update lets one of two such workers finish the job. A job with no chunks (not cut yet, or
    cut anew by a run again) is not finished here: a job with nothing to do is finished by its runner."""
    chunks = JobChunk.objects.filter(job_id=job_id)
    if not chunks.exists() or chunks.exclude(status=ChunkStatus.DONE).exists():
        return
    total = chunks.aggregate(total=Sum("result"))["total"] or 0
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE, message=message(total), done=F("total"), finished_at=timezone.now()
    )
