"""The reminder job through a real Celery worker on Redis: queued twice, it notifies each reminder once."""

import datetime
import time

import pytest
from django.utils import timezone

from crm.models import Notification
from customers.tests.factories import CustomerFactory
from interactions.models import Reminder
from interactions.tasks import reminders_notify_task
from interactions.tests.factories import ReminderFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_until_notified(reminder: Reminder, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reminder.refresh_from_db()
        if reminder.notified_at:
            return
        time.sleep(0.2)
    pytest.fail(f"reminder {reminder.pk} not notified after {timeout}s")


def _due(user, minutes_ago: int) -> Reminder:
    return ReminderFactory(
        assignee=user, customer=CustomerFactory(), due_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )


def test_the_notify_job_on_a_real_worker_notifies_each_due_reminder_once(celery_worker_process, service_user):  # noqa: F811
    due = [_due(service_user, m) for m in (5, 10, 15)]
    later = ReminderFactory(assignee=service_user, due_at=timezone.now() + datetime.timedelta(days=1))
    reminders_notify_task.delay()
    reminders_notify_task.delay()  # a duplicate delivery, or beat firing while the first still runs
    for reminder in due:
        _wait_until_notified(reminder)
    # The solo worker takes tasks in order: once a third run has notified a new reminder, the duplicate has run too.
    sentinel = _due(service_user, 0)
    reminders_notify_task.delay()
    _wait_until_notified(sentinel)

    assert Notification.objects.filter(user=service_user).count() == 4
    later.refresh_from_db()
    assert later.notified_at is None
