"""The dev server (`make run`) under 20 concurrent clients: no errors, and no connections left behind."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
CLIENTS, REQUESTS = 20, 5


def database_url() -> str:
    s = connection.settings_dict
    host = urllib.parse.quote(s["HOST"] or "", safe="")
    auth = urllib.parse.quote(s["USER"] or "") + (":" + urllib.parse.quote(s["PASSWORD"]) if s["PASSWORD"] else "")
    return f"postgres://{auth}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


def listening_port(server: subprocess.Popen, timeout: float = 60) -> int:
    """The port the server listens on once it does: started on port 0, it takes one the system picks, so that no
    other process (the other pytest-xdist worker's servers) can take it between our choosing it and its binding."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the dev server exited"
        for conn in psutil.Process(server.pid).net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN:
                return conn.laddr.port
        time.sleep(0.1)
    pytest.fail("the dev server did not listen")


def server_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def status(url: str) -> int:
    # An API call with an unknown token: the server looks the token up in the database and answers 401.
    request = urllib.request.Request(url, headers={"Authorization": "Bearer crm_not-a-token"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture
def dev_server():
    env = {"DATABASE_URL": database_url(), "DEBUG": "true", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env["API_RATE_ANONYMOUS"] = ""  # the clients below are one address: counting connections, not a flood
    env.update({k: os.environ[k] for k in ("CONN_MAX_AGE",) if k in os.environ})  # to see this test fail with 60
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{listening_port(server)}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_twenty_concurrent_clients_get_answers_and_leave_no_connections_open(dev_server):
    url = dev_server + "/api/v1/members/1000-0017/"
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(status, [url] * (CLIENTS * REQUESTS)))
    assert set(answers) == {401}
    # The last request threads finish closing (later when the other pytest-xdist worker keeps the cores busy);
    # a kept connection (CONN_MAX_AGE=60) outlives the wait.
    deadline = time.monotonic() + 10
    while server_connections() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server_connections() == 0
