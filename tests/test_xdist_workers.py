"""`make test` runs the suite in two pytest-xdist workers: what a test reaches outside its process is each worker's
own (crm/settings/test.py), so that one worker's Celery worker never runs the other's tasks on the wrong database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READ = (
    "import django; django.setup(); from django.conf import settings; from crm.celery import app; "
    "print(app.conf.broker_url, app.conf.result_backend, settings.CACHES['default']['LOCATION'], settings.MEDIA_ROOT)"
)


def settings_of(worker: str, redis_url: str) -> subprocess.CompletedProcess:
    """The test settings as a Celery worker started by a test under that xdist worker reads them."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings.test", "REDIS_URL": redis_url}
    env["PYTEST_XDIST_WORKER"] = worker
    return subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("redis_url", "first", "second"),
    [
        ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/14"),
        (
            "rediss://:s3cret@redis.example.com:6380/3",
            "rediss://:s3cret@redis.example.com:6380/3",
            "rediss://:s3cret@redis.example.com:6380/2",
        ),
    ],
)
def test_each_worker_has_a_redis_database_and_a_media_directory_of_its_own(redis_url, first, second):
    gw0, gw1 = settings_of("gw0", redis_url), settings_of("gw1", redis_url)
    assert gw0.returncode == gw1.returncode == 0, gw0.stderr + gw1.stderr
    assert gw0.stdout.split() == [first, first, first, str(ROOT / ".test-media" / "gw0")]
    assert gw1.stdout.split() == [second, second, second, str(ROOT / ".test-media" / "gw1")]


@pytest.mark.parametrize("redis_url", ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379"])
def test_a_redis_url_with_no_database_below_it_for_the_second_worker_is_refused(redis_url):
    done = settings_of("gw1", redis_url)
    assert done.returncode != 0
    assert "REDIS_URL must name a database of at least 1" in done.stderr
