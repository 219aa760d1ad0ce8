"""Run the periodic jobs of crm/schedule.py in this process: the scheduler of `make run`.

Production runs celery beat and workers on Redis. The embedded set-up has neither a broker
nor beat (tasks run inline), so without this the reminder job never ran and the bell stayed
empty. One process that fires each due entry on its crontab, in process, is the smallest thing
that works with nothing else running; each task claims its work, so a run that overlaps a real
beat elsewhere does no harm.
"""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from crm.celery import app
from crm.schedule import BEAT_SCHEDULE

logger = logging.getLogger(__name__)

# Sleep no longer than this, so a clock that jumps (a laptop waking up) is noticed soon.
MAX_SLEEP_SECONDS = 60.0


class Schedule:
    """Which entries of a beat schedule are due, each once per due time.

    Like beat, it counts from its start: nothing is due at once, and a time missed while it
    was not running (or several, after the clock jumped) is made up by a single run.
    """

    def __init__(self, entries: dict[str, dict]) -> None:
        self.entries = entries
        self.last_run = {name: entry["schedule"].now() for name, entry in entries.items()}

    def due(self) -> list[str]:
        """The entries due now, marked as run."""
        names = []
        for name, entry in self.entries.items():
            if entry["schedule"].is_due(self.last_run[name]).is_due:
                self.last_run[name] = entry["schedule"].now()
                names.append(name)
        return names

    def seconds_to_next(self) -> float:
        remaining = (
            entry["schedule"].remaining_estimate(self.last_run[name]).total_seconds()
            for name, entry in self.entries.items()
        )
        return max(0.0, min(remaining, default=MAX_SLEEP_SECONDS))


def run_due(schedule: Schedule) -> list[str]:
    """Run the due entries' tasks here, one after the other; return their names."""
    names = schedule.due()
    app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery), as a worker loads them
    for name in names:
        task = app.tasks[schedule.entries[name]["task"]]
        # apply(): in this process whatever the broker; a failure is logged by Celery and the next entry runs.
        result = task.apply(throw=False)
        if result.failed():
            logger.error("Scheduled job %s failed: %r", name, result.result)
        else:
            logger.info("Scheduled job %s done: %s", name, result.result)
    return names


class Command(BaseCommand):
    help = "Run the periodic jobs of crm/schedule.py in this process (the scheduler of `make run`)."

    def handle(self, *args, **options):
        schedule = Schedule(BEAT_SCHEDULE)
        self.stdout.write(f"Scheduler running: {', '.join(BEAT_SCHEDULE)}")
        try:
            while True:
                run_due(schedule)
                close_old_connections()  # as a worker does after each task: none is kept while sleeping
                time.sleep(min(schedule.seconds_to_next(), MAX_SLEEP_SECONDS) + 0.5)
        except KeyboardInterrupt:
            return
