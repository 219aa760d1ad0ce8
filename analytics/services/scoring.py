"""Scoring runs: start one, fit its models, score its chunks, close it; and take up what a dead worker left.

The flow (each step a task in analytics/tasks.py; models/runs.py says why chunks are claimed with a lease):
1. `scoring_run_start` records a run (at most one unfinished: a database constraint) and queues the fit.
2. `scoring_fit` claims the run, fits everything once (analytics/fit.py), stores the fitted models and splits the
   members into id ranges, then queues one task per chunk as a Celery group: any worker on any machine takes one.
3. `scoring_chunk` claims a chunk, scores its members (analytics/score.py) and, in one transaction that also marks
   the chunk done, replaces their history rows for this run, their current scores and recommendations: COPY, no
   UPDATE per member. A claim that lapsed (the worker died) lets another worker take the chunk; the first one's
   write then finds the chunk no longer carries its token and is dropped, so nobody is written twice.
4. The chunk that finds none left closes the run (`scoring_finish`: segment counts and movement since the
   previous run). A group with "last one closes" rather than a chord: a chord's callback never fires once one of
   its tasks has failed for good, and needs the result backend; here the database is the one truth, and
   `scoring_sweep` (beat) re-queues a chunk or a fit whose lease lapsed and closes a run whose closing was lost.
"""

import dataclasses
import datetime
import itertools
import json
import logging
import math
import pickle
import time

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.fit import DEFAULT_PARAMS, PARTS, Fitted, fit_run
from analytics.models import (
    ChunkStatus,
    MemberRecommendation,
    MemberScore,
    RunStatus,
    RunTrigger,
    ScoreHistory,
    ScoringChunk,
    ScoringRun,
)
from analytics.score import Scored, score_members
from crm.celery import TRANSIENT_ERRORS
from crm.db_router import reading_from_replica
from crm.lib.copy import copy_rows
from crm.lib.users import acting_user
from crm.queue import enqueue
from customers.models import Customer

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
PARAM_LIMITS = {
    "window_days": (30, 3650),
    "horizon_days": (30, 3650),
    "period_days": (1, 365),
    "churn_days": (14, 365),
    "recent_days": (0, 3650),
}


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CRM_SCORING_LEASE_SECONDS)


def scoring_params(params: dict | None = None) -> dict:
    """The run's settings: the defaults (analytics/fit.py) with what was given, checked."""
    merged = DEFAULT_PARAMS | (params or {})
    unknown = set(merged) - set(DEFAULT_PARAMS)
    if unknown:
        raise ValidationError(_("Unknown scoring settings: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    for key, (low, high) in PARAM_LIMITS.items():
        if not isinstance(merged[key], int) or not low <= merged[key] <= high:
            raise ValidationError(
                _("%(name)s must be a whole number from %(low)s to %(high)s.") % {"name": key, "low": low, "high": high}
            )
    rate = merged["discount_rate"]
    if not isinstance(rate, int | float) or not 0 <= rate < 1:
        raise ValidationError(_("The discount rate must be at least 0 and below 1 (a share per year)."))
    parts = merged["parts"]
    if not isinstance(parts, list) or not parts or set(parts) - set(PARTS):
        raise ValidationError(_("Choose what to score from: %(parts)s.") % {"parts": ", ".join(PARTS)})
    return merged


def scoring_run_start(
    *,
    actor: AbstractBaseUser | None = None,
    params: dict | None = None,
    as_of: datetime.datetime | None = None,
    queue: bool = True,
    trigger: RunTrigger = RunTrigger.SCHEDULE,
) -> ScoringRun:
    """Record a run and queue its fit (unless the caller runs it: `queue=False`); refused while another run is
    unfinished."""
    from analytics.tasks import scoring_fit_task

    params = scoring_params(params)
    try:
        with transaction.atomic():
            run = ScoringRun.objects.create(
                as_of=as_of or timezone.now(), params=params, created_by=acting_user(actor), trigger=trigger
            )
    except IntegrityError:
        raise ValidationError(
            _("A scoring run is already under way. Its page shows its progress."), code="running"
        ) from None
    if queue:
        enqueue(scoring_fit_task, run.pk)
    return run


def _json_safe(value: object) -> object:
    """Metrics as JSON takes them: a NaN or infinity (a check with nothing to divide by) becomes null."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _heartbeat(run: ScoringRun) -> None:
    ScoringRun.objects.filter(pk=run.pk, started_at=run.started_at).update(heartbeat_at=timezone.now())


def scoring_fit(*, run_id: int, queue: bool = True) -> None:
    """Claim the run (queued → fitting), fit, split into chunks and queue them (unless the caller scores them:
    `queue=False`). A failure is recorded on the run; a transient one puts the run back in the queue for the task's
    retry."""
    now = timezone.now()
    if not ScoringRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, attempts__lt=MAX_ATTEMPTS).update(
        status=RunStatus.FITTING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    ):
        return
    run = ScoringRun.objects.get(pk=run_id)
    mine = ScoringRun.objects.filter(pk=run.pk, status=RunStatus.FITTING, started_at=run.started_at)
    try:
        with reading_from_replica():  # purchases up to the run's moment; the heartbeat writes to the primary
            fitted, metrics = fit_run(as_of=run.as_of, params=run.params, heartbeat=lambda: _heartbeat(run))
        with transaction.atomic():
            if not mine.select_for_update().exists():
                return  # taken for dead and started again elsewhere
            chunks = _chunks(run)
            mine.update(
                status=RunStatus.SCORING,
                fitted=pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL),
                metrics=_json_safe(metrics),
                chunks_total=len(chunks),
                heartbeat_at=timezone.now(),
            )
            if queue:
                _queue_chunks([c.pk for c in chunks])
        if not chunks:  # nobody to score: the run closes now, with its (empty) counts
            scoring_finish(run_id=run.pk)
    except TRANSIENT_ERRORS:
        mine.update(status=RunStatus.QUEUED)
        raise
    except Exception:
        logger.exception("scoring run %s failed while fitting", run.pk)
        mine.update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            message=gettext("The fit failed. The error has been logged; you can start a new run."),
        )
        raise


def _chunks(run: ScoringRun) -> list[ScoringChunk]:
    """Consecutive id ranges of about CRM_SCORING_CHUNK members each (ids have gaps: a range is cut where the
    count reaches the size, read from the id order in one query)."""
    size = settings.CRM_SCORING_CHUNK
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {Customer._meta.db_table}) s "  # noqa: S608
            "WHERE n %% %s = 1 ORDER BY id",
            [size],
        )
        starts = [row[0] for row in cursor.fetchall()]
    if not starts:
        return []
    top = Customer.objects.aggregate(top=Max("pk"))["top"] + 1
    bounds = [*starts, top]
    return ScoringChunk.objects.bulk_create(
        ScoringChunk(run=run, number=i, lo=lo, hi=hi) for i, (lo, hi) in enumerate(itertools.pairwise(bounds), 1)
    )


def _queue_chunks(chunk_ids: list[int]) -> None:
    """One task per chunk once the transaction commits, as a Celery group would send them, each kept in the
    outbox on its own if Redis is away."""
    from analytics.tasks import scoring_chunk_task

    for pk in chunk_ids:
        enqueue(scoring_chunk_task, pk)


_fitted_cache: dict[int, Fitted] = {}


def run_fitted(run: ScoringRun) -> Fitted:
    """The run's fitted models, unpickled once per worker process."""
    if run.pk not in _fitted_cache:
        _fitted_cache.clear()
        data = ScoringRun.objects.filter(pk=run.pk).values_list("fitted", flat=True).get()
        _fitted_cache[run.pk] = pickle.loads(bytes(data))  # noqa: S301 -- written by this project's own fit
    return _fitted_cache[run.pk]


def scoring_chunk(*, chunk_id: int) -> None:
    """Claim the chunk (pending, or running past its lease), score it, write it; the last chunk closes the run."""
    now = timezone.now()
    claimable = Q(status=ChunkStatus.PENDING) | Q(status=ChunkStatus.RUNNING, claimed_at__lt=now - _lease())
    if not ScoringChunk.objects.filter(
        claimable, pk=chunk_id, run__status=RunStatus.SCORING, attempts__lt=MAX_ATTEMPTS
    ).update(status=ChunkStatus.RUNNING, claimed_at=now, attempts=F("attempts") + 1):
        return
    chunk = ScoringChunk.objects.select_related("run").defer("run__fitted").get(pk=chunk_id)
    run = chunk.run
    started = time.monotonic()
    fitted = run_fitted(run)  # from the primary: written by this run's fit a moment ago, maybe not replicated yet
    with reading_from_replica():
        scored = score_members(fitted, as_of=run.as_of, lo=chunk.lo, hi=chunk.hi)
    with transaction.atomic():
        mine = ScoringChunk.objects.select_for_update().filter(
            pk=chunk.pk, status=ChunkStatus.RUNNING, claimed_at=chunk.claimed_at
        )
        if not mine.exists():
            logger.warning("scoring chunk %s was taken up by another worker; this one's scores are dropped", chunk.pk)
            return
        _write(run, scored, lo=chunk.lo, hi=chunk.hi, history=True)
        count = len(scored.scores)
        mine.update(
            status=ChunkStatus.DONE, members=count, seconds=time.monotonic() - started, finished_at=timezone.now()
        )
        ScoringRun.objects.filter(pk=run.pk).update(
            chunks_done=F("chunks_done") + 1, members=F("members") + count, heartbeat_at=timezone.now()
        )
    logger.info("scoring run %s: chunk %s done, %d members", run.pk, chunk.number, count)
    if not ScoringChunk.objects.filter(run=run).exclude(status=ChunkStatus.DONE).exists():
        scoring_finish(run_id=run.pk)


def _write(
    run: ScoringRun,
    scored: Scored,
    *,
    lo: int | None = None,
    hi: int | None = None,
    ids: list[int] | None = None,
    history: bool,
) -> None:
    """Replace the members' current scores and recommendations (and this run's history rows) in bulk."""
    members = Q(customer_id__gte=lo, customer_id__lt=hi) if lo is not None else Q(customer_id__in=ids)
    now = timezone.now()
    # An erased member is scored with everyone (the models learn from all purchases) but nothing is kept about them.
    chunk = Q(pk__gte=lo, pk__lt=hi) if lo is not None else Q(pk__in=ids)
    erased = set(Customer.objects.filter(chunk, erased_at__isnull=False).values_list("pk", flat=True))
    if erased:
        scored = dataclasses.replace(
            scored,
            scores=[row for row in scored.scores if row["customer_id"] not in erased],
            recommendations={k: v for k, v in scored.recommendations.items() if k not in erased},
        )
    if history:
        ScoreHistory.objects.filter(members, run=run).delete()
        copy_rows(ScoreHistory, [row | {"run_id": run.pk} for row in scored.scores])
    MemberScore.objects.filter(members).delete()
    copy_rows(
        MemberScore,
        [
            row
            | {
                "run_id": run.pk,
                "scored_at": now,
                "churn_source": scored.churn_source if row["churn_probability"] is not None else "",
                "churn_reasons": json.dumps(scored.reasons.get(row["customer_id"], [])),  # copy_rows takes it as text
            }
            for row in scored.scores
        ],
    )
    MemberRecommendation.objects.filter(members).delete()
    copy_rows(
        MemberRecommendation,
        [
            {
                "customer_id": customer_id,
                "rank": rank,
                "product_id": rec.product,
                "because_of_id": rec.because_of,
                "together": rec.together,
                "run_id": run.pk,
            }
            for customer_id, recs in scored.recommendations.items()
            for rank, rec in enumerate(recs, 1)
        ],
    )


def scoring_finish(*, run_id: int) -> None:
    """Close the run once every chunk is done: its segment counts and the movement since the previous run."""
    if ScoringChunk.objects.filter(run_id=run_id).exclude(status=ChunkStatus.DONE).exists():
        return
    run = ScoringRun.objects.get(pk=run_id)
    if run.status != RunStatus.SCORING:
        return
    metrics = dict(run.metrics)
    counts = ScoreHistory.objects.filter(run=run).values("segment").annotate(n=Count("pk"))
    metrics["segments"] = {row["segment"]: row["n"] for row in counts}
    previous = (
        ScoringRun.objects.filter(status=RunStatus.DONE, as_of__lte=run.as_of).exclude(pk=run.pk).order_by("-as_of")
    ).first()
    if previous is not None:
        metrics["movement"] = {"previous_run": previous.pk, "moves": _movement(previous, run)}
    ScoringRun.objects.filter(pk=run.pk, status=RunStatus.SCORING).update(
        status=RunStatus.DONE, finished_at=timezone.now(), metrics=metrics
    )


def _movement(previous: ScoringRun, run: ScoringRun) -> list[dict]:
    """How many members went from each segment to each other one between the two runs (one join)."""
    table = ScoreHistory._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.segment, c.segment, count(*) FROM {table} c JOIN {table} p "  # noqa: S608
            "ON p.customer_id = c.customer_id AND p.run_id = %s WHERE c.run_id = %s AND p.segment <> c.segment "
            "GROUP BY 1, 2 ORDER BY 3 DESC",
            [previous.pk, run.pk],
        )
        return [{"from": a, "to": b, "members": n} for a, b, n in cursor.fetchall()]


def scoring_sweep(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Take up what dead workers left: a fit or chunk whose lease lapsed is queued again (a run is failed once a
    part has been tried MAX_ATTEMPTS times), and a run whose chunks are all done but which was never closed is
    closed."""
    from analytics.tasks import scoring_fit_task

    now = now or timezone.now()
    stale = now - _lease()
    found = {"fits": 0, "chunks": 0, "closed": 0, "failed": 0}
    for run in ScoringRun.objects.filter(status=RunStatus.FITTING, heartbeat_at__lt=stale):
        if run.attempts >= MAX_ATTEMPTS:
            found["failed"] += _fail(
                run, gettext("The fit stopped %(count)d times without finishing.") % {"count": run.attempts}
            )
        elif ScoringRun.objects.filter(pk=run.pk, status=RunStatus.FITTING, started_at=run.started_at).update(
            status=RunStatus.QUEUED
        ):
            enqueue(scoring_fit_task, run.pk)
            found["fits"] += 1
    for run in ScoringRun.objects.filter(status=RunStatus.SCORING):
        chunks = ScoringChunk.objects.filter(run=run)
        if not chunks.exclude(status=ChunkStatus.DONE).exists():
            scoring_finish(run_id=run.pk)
            found["closed"] += 1
            continue
        lapsed = chunks.filter(Q(status=ChunkStatus.RUNNING, claimed_at__lt=stale) | Q(status=ChunkStatus.PENDING))
        if run.heartbeat_at and run.heartbeat_at >= stale and not lapsed.filter(status=ChunkStatus.RUNNING).exists():
            continue  # chunks are being scored; those pending are in the queue
        if lapsed.filter(attempts__gte=MAX_ATTEMPTS).exists():
            failed = gettext("A chunk of members failed %(count)d times.") % {"count": MAX_ATTEMPTS}
            found["failed"] += _fail(run, failed)
            continue
        ids = list(lapsed.values_list("pk", flat=True))
        ScoringRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
        _queue_chunks(ids)
        found["chunks"] += len(ids)
    return found


def _fail(run: ScoringRun, message: str) -> int:
    return ScoringRun.objects.filter(pk=run.pk, status=run.status).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), message=message
    )


def latest_run() -> ScoringRun | None:
    return ScoringRun.objects.filter(status=RunStatus.DONE).order_by("-as_of", "-pk").first()


def member_rescore(*, customer: Customer) -> None:
    """Score one member against the latest run's edges and models (after a merge gave them another's purchases);
    their current scores change, the run's history stays as the run saw it."""
    run = latest_run()
    if run is None or not run.fitted:
        return
    scored = score_members(run_fitted(run), as_of=run.as_of, ids=[customer.pk])
    _write(run, scored, ids=[customer.pk], history=False)


def scores_settle_merge(*, survivor: Customer, other: Customer, **kwargs: object) -> None:
    """Before a merge moves the other's rows: its history and recommendations would clash with the survivor's
    (one row per run and member, one per rank), and describe a member who no longer exists; they go. The
    survivor is scored anew once the merge is done (`scores_after_merge`)."""
    ScoreHistory.objects.filter(customer=other).delete()
    MemberRecommendation.objects.filter(customer=other).delete()


def scores_after_merge(*, survivor: Customer, **kwargs: object) -> None:
    """Queued for a worker once the merge commits: scoring needs the run's fitted models, tens of megabytes a web
    process should not load."""
    from analytics.tasks import scoring_member_task

    enqueue(scoring_member_task, survivor.pk)


def scores_settle_erasure(*, customer: Customer, **kwargs: object) -> None:
    """In customer_erase's transaction: what scoring worked out about the person (current scores, their rows of
    every run's history, recommendations) goes, and no later run writes them again (`_write`). A run's counts
    and movement, already worked out, stay as the run saw them."""
    MemberScore.objects.filter(customer=customer).delete()
    ScoreHistory.objects.filter(customer=customer).delete()
    MemberRecommendation.objects.filter(customer=customer).delete()
