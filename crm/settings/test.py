"""Tests: English UI by default, fast hashing, Celery never eager unless a test asks; under pytest-xdist
(`make test` runs the suite on every core), a Redis database and a media directory per worker."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, REDIS_URL

LANGUAGE_CODE = "en"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
ANYMAIL = {"WEBHOOK_SECRET": "anymail-test:webhook-secret"}
CRM_SMS_INBOUND_SECRET = "sms-inbound-test-secret"  # noqa: S105 -- tests only
# Rate-limit counters outlive a test in Redis and every test client calls from 127.0.0.1: a test that is not
# about rate limits must never meet one. Those that are set their own rates (crm/web/api/tests/test_api_rate_limits.py).
API_RATE = API_RATE_ANONYMOUS = WEBHOOK_RATE = "1000000/min"


def _redis_url_for_worker(url: str, *, worker: int) -> str:
    """REDIS_URL with its database counted down by the worker's number: gw0 keeps it, gw1 takes the one below.
    Down, not up: CI names the last database (15), and Redis has none above it unless configured to."""
    parts = urlsplit(url)
    base = parts.path.strip("/") or "0"
    if not base.isdigit() or int(base) < worker:
        raise ImproperlyConfigured(
            f"pytest-xdist worker gw{worker} takes Redis database {base} minus {worker}: "
            f"REDIS_URL must name a database of at least {worker} in its path (redis://host:6379/15)"
        )
    return parts._replace(path=f"/{int(base) - worker}").geturl()


# pytest-xdist's workers (gw0, gw1, ...) each have a test database of their own (pytest-django names it
# test_<name>_gw<n>); what a test reaches outside its process is split the same way, so that one worker's Celery
# worker never runs the other's tasks against the wrong database, and a cache key (a campaign's sending lane is
# keyed by its id, and ids repeat between the databases) or a stored file never meets the other's. The processes
# a test starts (Celery workers, a sending batch) inherit PYTEST_XDIST_WORKER, so they land on the same ones.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
MEDIA_ROOT = BASE_DIR / ".test-media" / XDIST_WORKER  # shared with the real worker a test starts
if REDIS_URL and XDIST_WORKER:
    REDIS_URL = _redis_url_for_worker(REDIS_URL, worker=int(XDIST_WORKER.removeprefix("gw")))
    CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
    CELERY_BROKER_URL = CELERY_RESULT_BACKEND = REDIS_URL

# A second database standing in for a read replica (tests/test_replica_reads.py): its own test database, filled
# by the test that asks for it; off (reads on the primary) unless a test turns CRM_READ_REPLICA on.
if "replica" not in DATABASES:
    DATABASES["replica"] = {
        **DATABASES["default"],
        # No migrations: the router lets none run there, and the test copies the primary's test database into it.
        "TEST": {"NAME": f"test_{DATABASES['default']['NAME']}_replica", "MIGRATE": False},
    }
CRM_READ_REPLICA = ""
