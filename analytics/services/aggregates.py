"""The dashboards' refresh: fills the pre-aggregated tables (analytics.aggregates says what each figure means).

One refresh at a time (a Postgres advisory lock; a second caller is told it was skipped). Each block commits on
its own and the watermarks move only at the end, so a killed refresh is simply done again by the next one: every
block replaces the rows it covers, so doing one twice changes nothing.
"""

import datetime
import logging
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from analytics.aggregates import categories, cohorts, daily, distributions, monthly, tracking
from analytics.aggregates.common import month_of, run
from analytics.forecast import forecasts_refresh
from analytics.models import AggregateState
from crm.queue import enqueue

logger = logging.getLogger(__name__)

LOCK_KEY = 0x6167_6772  # "aggr"
# A full refresh's daily blocks: each scans its two years and the 89 days before, and the whole points table
# (it has no index on `at`), so fewer, larger blocks cost less than yearly ones while still reporting progress.
FULL_BLOCK_DAYS = 730
# Each step's hash aggregates (a member's days, months, categories) hold up to millions of groups: room for them
# in memory instead of spilling to disk; the steps run one at a time, so a refresh stays far below its 2 GB.
WORK_MEM = "128MB"


Progress = Callable[[int, int], None]


def _locked() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        return cursor.fetchone()[0]


def _unlock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def aggregates_refresh(*, full: bool = False, progress: Progress | None = None) -> dict:
    """Bring the dashboards' tables up to date: incrementally (what changed since the last refresh; a first
    refresh is a full one), or from all history. Returns what it did, or {"skipped": True} when another refresh
    holds the lock."""
    if not _locked():
        logger.info("dashboard refresh skipped: another one is under way")
        return {"skipped": True}
    try:
        return _refresh(full=full, progress=progress)
    finally:
        _unlock()


def _refresh(*, full: bool, progress: Progress | None) -> dict:
    started = time.perf_counter()
    today = timezone.localdate()
    current = tracking.state()
    changes = tracking.watermarks()
    full = full or current.refreshed_at is None
    if full:
        span = daily.history_range(today=today)
        blocks = daily.split(*span, FULL_BLOCK_DAYS) if span else []
        months = None
    else:
        changes = tracking.changes_since(current, changes, today=today)
        blocks = daily.blocks_for(activity_days=changes.activity_days, count_days=changes.count_days, today=today)
        months = sorted({month_of(day) for day in changes.days})

    steps: list[tuple[str, Callable[[], int]]] = []
    if full:
        # Days outside the history (a member merged away took the first ones) keep no row.
        first, last = (blocks[0][0], blocks[-1][1]) if blocks else (today, today - datetime.timedelta(days=1))
        steps.append(
            ("outside", lambda: run("DELETE FROM {daily} WHERE day < %(a)s OR day > %(b)s", {"a": first, "b": last}))
        )
    for start, end in blocks:
        steps.append((f"days {start}..{end}", lambda start=start, end=end: daily.daily_block(start=start, end=end)))
    steps.append(("months", lambda: monthly.months_recompute(months=months)))
    steps.append(("cohorts", lambda: cohorts.cohorts_recompute(months=months)))
    steps.append(("categories", lambda: categories.categories_recompute(today=today)))
    steps.append(("distributions", lambda: distributions.distributions_recompute(today=today)))
    total = len(steps) + 1  # and the forecasts
    AggregateState.objects.filter(pk=1).update(started_at=timezone.now(), step="", done=0, total=total)

    written, timings = 0, {}
    for done, (step, work) in enumerate(steps, 1):
        begun = time.perf_counter()
        with transaction.atomic():
            run(f"SET LOCAL work_mem = '{WORK_MEM}'", {})
            written += work()
            AggregateState.objects.filter(pk=1).update(step=step[:60], done=done)
        kind = step.split(" ")[0]
        timings[kind] = round(timings.get(kind, 0) + time.perf_counter() - begun, 2)
        if progress:
            progress(done, total)
    forecasts_refresh()
    if progress:
        progress(total, total)

    seconds = time.perf_counter() - started
    with transaction.atomic():
        tracking.state_save(changes, seconds=seconds)
    days = sum((end - start).days + 1 for start, end in blocks)
    result = {
        "full": full,
        "days": days,
        "blocks": len(blocks),
        "months": "all" if months is None else len(months),
        "rows": written,
        "seconds": round(seconds, 2),
        "steps": timings,  # seconds per kind of step: days, months, cohorts, categories, distributions
    }
    logger.info("dashboard refresh: %s", result)
    return result


def aggregates_refresh_running() -> bool:
    """Whether a refresh holds the lock now (in any process)."""
    if not _locked():
        return True
    _unlock()
    return False


def aggregates_refresh_queue() -> bool:
    """Queue an incremental refresh for a worker (the dashboard's button); False when one is already under way."""
    from analytics.tasks import aggregates_refresh_task

    if aggregates_refresh_running():
        return False
    enqueue(aggregates_refresh_task)
    return True
