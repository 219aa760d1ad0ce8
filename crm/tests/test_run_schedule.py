"""The scheduler of `make run`: each entry of crm/schedule.py runs on its crontab, once per due time."""

import datetime

import pytest
import time_machine

from crm.management.commands.run_schedule import Schedule, run_due
from crm.models import Notification
from crm.schedule import BEAT_SCHEDULE
from interactions.tests.factories import ReminderFactory

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))  # CELERY_TIMEZONE
START = datetime.datetime(2026, 3, 2, 10, 3, tzinfo=SHANGHAI)
EVERY_5_MINUTES = {
    "reminders-notify",
    "jobs-sweep",
    "outbox-drain",
    "campaigns-sweep",
    "campaigns-start-due",
    "campaign-ab-winners",
    "campaign-results-refresh",
    "analytics-scoring-sweep",
}
HOURLY = {"automations-hourly"}  # at :20


def at(hour: int, minute: int, second: int = 0, *, day: int = 2) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, second, tzinfo=SHANGHAI)


def test_nothing_runs_at_start_and_the_five_minute_jobs_run_once_each_five_minutes():
    with time_machine.travel(START, tick=False) as clock:
        schedule = Schedule(BEAT_SCHEDULE)
        assert schedule.due() == []
        clock.move_to(at(10, 4, 59))
        assert schedule.due() == []
        clock.move_to(at(10, 5))
        assert set(schedule.due()) == EVERY_5_MINUTES
        clock.move_to(at(10, 5, 30))
        assert schedule.due() == []  # the same due time does not fire twice
        clock.move_to(at(10, 10, 1))
        assert set(schedule.due()) == EVERY_5_MINUTES


def test_daily_jobs_run_at_their_hour_once():
    with time_machine.travel(at(2, 0), tick=False) as clock:
        schedule = Schedule(BEAT_SCHEDULE)
        clock.move_to(at(2, 30))
        assert "membership-daily" in schedule.due()
        clock.move_to(at(2, 35))
        assert "membership-daily" not in schedule.due()
        clock.move_to(at(3, 30))
        assert set(schedule.due()) == {*EVERY_5_MINUTES, *HOURLY, "purchase-stats-reconcile"}
        clock.move_to(at(4, 0))
        assert set(schedule.due()) == {*EVERY_5_MINUTES, "analytics-scoring"}
        clock.move_to(at(4, 45))
        assert set(schedule.due()) == {*EVERY_5_MINUTES, *HOURLY, "analytics-aggregates"}
        clock.move_to(at(5, 15))
        assert set(schedule.due()) == {*EVERY_5_MINUTES, "segment-snapshots-daily"}
        clock.move_to(at(6, 0))
        assert set(schedule.due()) == {*EVERY_5_MINUTES, *HOURLY, "reminder-rules-daily"}
        clock.move_to(at(6, 0, 1))
        assert schedule.due() == []


def test_times_missed_while_the_clock_jumped_are_made_up_by_one_run():
    with time_machine.travel(START, tick=False) as clock:
        schedule = Schedule(BEAT_SCHEDULE)
        clock.move_to(at(11, 2))  # a laptop asleep across twelve five-minute marks
        assert set(schedule.due()) == EVERY_5_MINUTES | HOURLY
        assert schedule.due() == []


def test_the_wait_is_until_the_next_due_time():
    with time_machine.travel(at(10, 3, 30), tick=False):
        schedule = Schedule(BEAT_SCHEDULE)
        assert schedule.seconds_to_next() == pytest.approx(90, abs=1)


@pytest.mark.django_db
def test_a_reminder_that_falls_due_is_notified_by_the_next_run(service_user, django_capture_on_commit_callbacks):
    reminder = ReminderFactory(assignee=service_user, due_at=at(10, 4), text="Call back")
    with time_machine.travel(START, tick=False) as clock:
        schedule = Schedule(BEAT_SCHEDULE)
        clock.move_to(at(10, 5))
        with django_capture_on_commit_callbacks(execute=True):
            assert set(run_due(schedule)) == EVERY_5_MINUTES
        clock.move_to(at(10, 10))
        with django_capture_on_commit_callbacks(execute=True):
            run_due(schedule)

    notification = Notification.objects.get()
    assert notification.user == service_user and "Call back" in notification.text
    reminder.refresh_from_db()
    assert reminder.notified_at == at(10, 5)
