"""Postgres restarted under the running app (issue 14, "Failure and load"): a private Postgres server (pgserver's,
from the virtualenv, on a socket in a temporary directory) holding a copy of the test database, and gunicorn
serving the app on it with the production connection settings (connections kept, health-checked). The server is
stopped: a page is a friendly 503 and the API answers JSON 503, with no traceback; the server comes back: the same
gunicorn worker answers 200 again, without a restart."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from pgserver import utils

from crm.web.api.services import TOKEN_PREFIX

pytestmark = [pytest.mark.failure, pytest.mark.django_db(transaction=True)]


class PrivateServer:
    """A throwaway Postgres from pgserver's binaries on a free loopback port, started and stopped with pg_ctl (as
    pgserver's own user when the tests run as root: Postgres refuses to run as root)."""

    def __init__(self, data: Path) -> None:
        from pgserver import postgres_server
        from pgserver._commands import initdb

        self.data = data
        self.port = free_port()
        self.bin = postgres_server.POSTGRES_BIN_PATH
        self.user = None
        if os.geteuid() == 0:
            self.user = "pgserver"
            pwd = utils.ensure_user_exists(self.user)
            utils.ensure_prefix_permissions(data)
            os.chown(data, pwd.pw_uid, pwd.pw_gid)
        initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=data, user=self.user)
        self.start()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.data, user=self.user, timeout=30)

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        self.pg_ctl("-o", f"-h 127.0.0.1 -p {self.port} -k {self.data}", "-l", str(self.data / "log"), "start")

    def load(self, database: str) -> None:
        """A copy of the test database (schema and rows), faster than migrating a new one. The test database's
        pg_trgm indexes fail to load (pgserver has no contrib extensions, and the app does without them)."""
        db = connection.settings_dict
        dump = subprocess.run(
            [self.bin / "pg_dump", "--no-owner", "--no-privileges", "-h", db["HOST"], "-p", str(db["PORT"] or 5432)]
            + ["-U", db["USER"], db["NAME"]],
            env={**os.environ, "PGPASSWORD": db["PASSWORD"] or ""},
            capture_output=True,
            check=True,
        ).stdout
        psql = [self.bin / "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q"]
        subprocess.run([*psql, "-c", f"CREATE DATABASE {database}"], check=True, capture_output=True)
        subprocess.run([*psql, "-d", database], input=dump, check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, **headers: str) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 -- loopback only
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture
def private_server():
    # Not pytest's tmp_path: its parent is private to root, where pgserver's user could not reach the data.
    data = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    server = PrivateServer(data)
    yield server
    with contextlib.suppress(subprocess.CalledProcessError):  # stopped already by a failed test
        server.stop()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def gunicorn(private_server):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "DATABASE_URL": private_server.url("app"),
        "CONN_MAX_AGE": "60",  # as in production: the worker keeps its connection across requests
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    command = [sys.executable, "-m", "gunicorn", "crm.wsgi:application", "--workers=1", f"--bind=127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "--graceful-timeout=2", "--log-level=warning"], env=env, cwd=settings.BASE_DIR)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if get(f"{base}/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
        time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=20)


def test_a_database_restart_gives_a_friendly_503_then_the_same_app_recovers(
    manager_user, private_server, gunicorn, settings
):
    client = Client()
    client.force_login(manager_user)  # the session row is copied with the database
    private_server.load("app")
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"}
    status, body, _headers = get(f"{gunicorn}/", **cookie)
    assert status == 200 and "/accounts/logout/" in body

    private_server.stop()
    status, body, headers = get(f"{gunicorn}/customers/", **cookie)
    assert status == 503 and headers["Retry-After"] == "30"
    assert "Briefly unavailable" in body and "try again in a moment" in body
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body
    token = f"{TOKEN_PREFIX}not-issued"  # well formed, so it is looked up
    status, body, headers = get(f"{gunicorn}/api/v1/members/", Authorization=f"Bearer {token}")
    assert status == 503 and headers["Content-Type"] == "application/json"
    assert '"reason": "database_unavailable"' in body and "psycopg" not in body

    private_server.start()
    status, body, _headers = get(f"{gunicorn}/customers/", **cookie)
    assert status == 200 and "/accounts/logout/" in body
