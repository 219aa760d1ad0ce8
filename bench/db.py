"""The bench's own database: never the dev or production one unless asked for by URL."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_bench"


def database_url(given: str | None = None) -> str:
    return given or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def ensure_database(url: str) -> None:
    """Create the database named in the URL if the server does not have it yet."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                print(f"Creating database {name}", flush=True)
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def django_env(url: str) -> dict[str, str]:
    """Environment for Django processes: settings read DATABASE_URL when they are imported."""
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "crm.settings.base"}


def migrate(url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=django_env(url), check=True
    )


def setup_django(url: str) -> None:
    os.environ.update(django_env(url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
