"""A real Celery worker on Redis for the tests that need one: started against the test database."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from crm.celery import app


def start_worker() -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=warning",
        ],
        env=env,
        cwd=settings.BASE_DIR,
    )


def require_redis() -> None:
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("CI") == "true":
            pytest.fail("REDIS_URL is not set: CI must run the real-worker tests")
        pytest.skip("REDIS_URL not set: no real Celery worker to run against")
    app.control.purge()
