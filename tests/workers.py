"""Real Celery workers on Redis for the tests that need them: started against the test database. Several with
names of their own (`-n w1@%h`) stand in for workers on several machines; each may log to a file of its own,
which says what that worker did."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

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


@contextmanager
def held(sql: str, params: tuple = ()) -> Iterator[None]:
    """Hold a lock from a connection of its own, in a transaction left open, so that a worker reaching it waits
    there: the moment a test kills it is then mid-job by construction, not by timing."""
    holder = connections.create_connection("default")
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            cursor.execute(sql, params)
        yield
    finally:
        holder.rollback()
        holder.close()


@contextmanager
def held_by(write: Callable[[], object]) -> Iterator[None]:
    """As `held`, with rows that `write` makes in a transaction left open (in a thread, so on a connection of its
    own): a worker writing a row that clashes with one of them (a unique key) waits until they are rolled back."""
    ready, release, errors = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                write()
                ready.set()
                release.wait(120)
                transaction.set_rollback(True)
        except Exception as error:  # noqa: BLE001 -- handed to the test, which fails with it
            errors.append(error)
        finally:
            ready.set()
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    ready.wait(30)
    assert not errors, errors
    try:
        yield
    finally:
        release.set()
        thread.join(30)


def blocked_backend(timeout: float = 60) -> int:
    """The pid of the test database's backend that waits for a lock (a worker stopped at a `held` lock)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if row := cursor.fetchone():
                return row[0]
            time.sleep(0.1)
    pytest.fail(f"no worker waited for the held lock within {timeout}s")


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL: no warm shutdown, so its task is neither finished nor acknowledged."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=20)


def backend_gone(pid: int, timeout: float = 30) -> None:
    """Wait until a killed worker's backend has noticed its client is gone and rolled back (once its lock wait
    ends, on its next read from the closed socket)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return
            time.sleep(0.1)
    pytest.fail(f"the killed worker's backend {pid} is still there after {timeout}s")


def wait_until(check, timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
