import os

from celery import Celery, Task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from crm.schedule import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")


# The one retry policy for every task (stated in crm/schedule.py beside the schedule): only these
# errors say "the same call may work in a moment"; anything else (a ValidationError, a bug) fails at once.
class ServiceUnavailable(Exception):
    """A service outside the database (an SMTP server, an SMS gateway) is away: the same call may work later."""


TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,  # Postgres restarting or out of connections, a dropped connection, a deadlock
    InterfaceError,  # a connection closed under the task
    RedisConnectionError,  # the cache on Redis away
    RedisTimeoutError,
    BrokerError,  # queueing a further task while the broker is away
    ServiceUnavailable,
)


class CrmTask(Task):
    """Every task's base (the app's task_cls): a transient error is retried up to 5 times after
    about 10, 20, 40, 80 and 160 s (full jitter, so workers that failed together do not return together)."""

    autoretry_for = TRANSIENT_ERRORS
    max_retries = 5
    retry_backoff = 10
    retry_backoff_max = 10 * 60
    retry_jitter = True


app = Celery("crm", task_cls=CrmTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()
