"""Real Celery workers on Redis for the tests that need them: started against the test database. Several with
names of their own (`-n w1@%h`) stand in for workers on several machines; each may log to a file of its own,
which says what that worker did."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from crm.celery import app


def start_worker(
    *,
    name: str = "",
    logfile: Path | None = None,
    settings_module: str = "crm.settings.test",
    **env: str,
) -> subprocess.Popen:
    """A worker process (solo pool: one task at a time, as one prefork child would). `name` is its node name
    (`w1` becomes w1@<host>); with a `logfile` it logs there at INFO (each task, and what the services log)."""
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **env,
    }
    command = [sys.executable, "-m", "celery", "-A", "crm", "worker", "--pool=solo", "--without-gossip"]
    command += ["--without-mingle"]
    if name:
        command += ["-n", f"{name}@%h"]
    command += [f"--logfile={logfile}", "--loglevel=info"] if logfile else ["--loglevel=warning"]
    return subprocess.Popen(command, env=environment, cwd=settings.BASE_DIR)


def wait_for_workers(*names: str, timeout: float = 60) -> None:
    """Until each named worker answers a ping: ready to take tasks, so the first ones queued are shared."""
    deadline = time.monotonic() + timeout
    while True:
        answered = {node.split("@", 1)[0] for reply in app.control.ping(timeout=0.5) for node in reply}
        if set(names) <= answered:
            return
        assert time.monotonic() < deadline, f"workers {set(names) - answered} did not start"


def stop_workers(*workers: subprocess.Popen) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=20)


def require_redis() -> None:
    if not os.environ.get("REDIS_URL"):
        if os.environ.get("CI") == "true":
            pytest.fail("REDIS_URL is not set: CI must run the real-worker tests")
        pytest.skip("REDIS_URL not set: no real Celery worker to run against")
    app.control.purge()
