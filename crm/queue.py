"""Handing tasks to the workers with Redis allowed to be away: the one way the project queues a task.

`enqueue` publishes once the current transaction commits. If the broker does not answer, the task is kept
in the outbox table (PendingTask) instead of failing the request or the job that queued it, and
`outbox_drain` (beat, crm/schedule.py) hands the kept tasks over once Redis answers again. Every task claims
its work before doing it (crm/schedule.py, module docstring), so a task handed over twice (a publish that
reached Redis but reported an error) still does its work once.
"""

import logging

from celery import Task
from django.contrib import messages
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crm.celery import app
from crm.models import PendingTask

logger = logging.getLogger(__name__)

# What a publish raises when the broker is away: Celery wraps most in kombu's OperationalError.
BROKER_ERRORS: tuple[type[Exception], ...] = (KombuOperationalError, RedisConnectionError, RedisTimeoutError, OSError)


def enqueue(task: Task, *args: object, countdown: float | None = None) -> None:
    """Queue `task(*args)` once the current transaction commits (at once outside one)."""
    options = {"countdown": countdown} if countdown is not None else {}
    transaction.on_commit(lambda: publish(task, list(args), options))


def publish(task: Task, args: list, options: dict) -> bool:
    """Hand the task to the broker now; kept in the outbox (False) if the broker is away."""
    if app.conf.task_always_eager:  # no broker (no REDIS_URL): the task runs here, its errors are its own
        task.apply_async(args, **options)
        return True
    try:
        task.apply_async(args, **options)
    except BROKER_ERRORS as error:
        logger.warning("queue away (%s): %s%s kept in the outbox", error, task.name, tuple(args))
        PendingTask.objects.create(task=task.name, args=args, options=options)
        return False
    return True


def is_waiting(task_name: str, *args: object) -> bool:
    """Whether this call of the task waits in the outbox (a page says it will start when the queue is back)."""
    return PendingTask.objects.filter(task=task_name, args=list(args)).exists()


def tell_if_waiting(request: HttpRequest) -> bool:
    """After a view queued work: if tasks wait in the outbox, the queue is away, so this one waits too; say so."""
    if not PendingTask.objects.exists():
        return False
    messages.warning(
        request, _("The queue service is not answering: the work will start when it is back. Nothing is lost.")
    )
    return True


def _task(name: str) -> Task:
    if name not in app.tasks:
        app.loader.import_default_modules()  # Celery's autodiscovery of every app's tasks, as a worker does
    return app.tasks[name]


def outbox_drain() -> dict[str, int]:
    """Hand the kept tasks to the broker, oldest first, and stop at the first that still fails. Each row is
    locked while handed over and deleted in the same transaction (skip_locked: two drains never hand one task
    over twice); a row whose commit fails after the publish is handed over again next time (harmless, above)."""
    queued = 0
    while True:
        with transaction.atomic():
            row = PendingTask.objects.select_for_update(skip_locked=True).order_by("pk").first()
            if row is None:
                break
            try:
                task = _task(row.task)
            except KeyError:  # Celery's NotRegistered: a task renamed or removed since; it can never run
                logger.error("outbox: no task %s any more; dropped with its arguments %r", row.task, row.args)
                row.delete()
                continue
            try:
                task.apply_async(row.args, **row.options)
            except BROKER_ERRORS:
                PendingTask.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
                logger.warning("queue still away: %d tasks wait in the outbox", PendingTask.objects.count())
                break
            row.delete()
        queued += 1
    return {"queued": queued, "waiting": PendingTask.objects.count()}
