"""Set-up commands: one that needs no database starts no embedded Postgres."""

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["compile_catalogs"], ["check"]])
def test_a_command_that_needs_no_database_starts_no_embedded_postgres(tmp_path, command):
    data_dir = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["EMBEDDED_PGDATA"] = str(data_dir)

    done = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert not (data_dir / "postmaster.pid").exists()
    assert not data_dir.exists()  # not even initialised
    assert not [p for p in psutil.process_iter(["cmdline"]) if str(data_dir) in " ".join(p.info["cmdline"] or [])]


def test_the_first_connection_starts_the_embedded_postgres_and_make_stop_stops_it(tmp_path):
    data_dir = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env["EMBEDDED_PGDATA"] = str(data_dir)
    query = "from django.db import connection; connection.cursor().execute('SELECT 1'); print('connected')"
    try:
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", query], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert "connected" in done.stdout, done.stderr
        assert (data_dir / "postmaster.pid").exists()  # it outlives the command, for the next one
    finally:
        stopped = subprocess.run(
            [sys.executable, "-m", "crm.lib.embedded_db", "stop"], cwd=ROOT, env=env, capture_output=True, text=True
        )
    assert "Stopped" in stopped.stdout, stopped.stderr
    assert not (data_dir / "postmaster.pid").exists()
