"""Fixtures for the tests that run a real Celery worker on Redis (tests/test_worker.py, test_reminder_worker.py)."""

import pytest

from crm.celery import app
from tests.workers import require_redis, start_worker


@pytest.fixture
def celery_worker_process(transactional_db):
    require_redis()
    worker = start_worker()
    yield worker
    worker.terminate()
    worker.wait(timeout=20)


@pytest.fixture
def redis_broker(transactional_db):
    """For a test that starts (and kills) its own workers."""
    require_redis()
    yield
    # A killed worker's task stays "unacked" in Redis, to be delivered again after the visibility
    # timeout: it must not reach a later run's database.
    with app.connection_for_write() as conn:
        conn.default_channel.client.delete("unacked", "unacked_index")
