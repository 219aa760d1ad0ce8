"""Redis away (issue 14, "Failure and load"): the broker and the cache pointed at a closed port on loopback, as
when Redis stops answering (the machine's Redis keeps running for everyone else). Pages keep working; work that
cannot be queued is kept in the outbox and the user is told; once Redis answers again the outbox sweep hands
each kept task over once, and a real worker runs it once."""

import socket
import time

import pytest
from django.urls import reverse

from analytics.models import ScoringRun
from crm.celery import app
from crm.models import Job, JobStatus, PendingTask
from crm.queue import outbox_drain
from crm.tasks import outbox_drain_task
from customers.tests.factories import CustomerFactory
from interactions.tests.factories import ReminderFactory
from marketing.models import CampaignStatus
from marketing.tests.sending_fixtures import make_campaign
from tests.workers import held, require_redis, start_worker

pytestmark = pytest.mark.worker
WAITING = "will start when the queue service is back"
TOLD = "The queue service is not answering"


def closed_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def point_broker_at(url: str) -> None:
    app.conf.broker_url = url
    app._after_fork()  # Celery keeps one producer pool per broker connection: drop it, as a forked child does


def queued_messages() -> int:
    """Tasks waiting in the broker's default queue."""
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen("celery")


class RedisAway:
    def __init__(self, settings) -> None:
        self.real = app.conf.broker_url
        url = f"redis://127.0.0.1:{closed_port()}/0"
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
        point_broker_at(url)

    def back(self) -> None:
        point_broker_at(self.real)


@pytest.fixture
def redis_away(settings):
    require_redis()
    if not settings.CACHES["default"]["BACKEND"].endswith("SoftRedisCache"):
        pytest.fail("with REDIS_URL set the cache must be the soft Redis cache (crm/lib/cache.py)")
    away = RedisAway(settings)
    yield away
    away.back()
    app.control.purge()  # what a test queued must not reach a later test's worker


@pytest.mark.django_db
def test_the_main_pages_work_with_redis_away(redis_away, service_client, service_user):
    customer = CustomerFactory(owner=service_user)
    ReminderFactory(assignee=service_user, customer=customer)
    started = time.monotonic()
    for url in (reverse("home"), reverse("customers:list"), reverse("customers:detail", args=[customer.crm_number])):
        response = service_client.get(url)
        assert response.status_code == 200, url
    assert not PendingTask.objects.exists()
    assert time.monotonic() - started < 30  # no page waits out a long timeout (a generous bound: 2 busy cores)


# Transactional: the task is handed over when the view's transaction commits, before the view says what happened.
@pytest.mark.django_db(transaction=True)
def test_a_campaign_started_with_redis_away_keeps_its_batches_and_says_so(redis_away, marketing_client):
    campaign = make_campaign([CustomerFactory(email_opt_in=True) for _ in range(3)])
    response = marketing_client.post(reverse("marketing:campaign_start", args=[campaign.pk]), follow=True)
    assert response.status_code == 200 and TOLD in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    kept = list(PendingTask.objects.values_list("task", "args"))
    assert kept == [("marketing.tasks.campaign_send_batch_task", [campaign.pk])]


@pytest.mark.django_db(transaction=True)
def test_scoring_and_the_dashboard_refresh_started_with_redis_away_are_kept_and_the_user_told(
    redis_away, manager_client
):
    scoring = manager_client.post(reverse("analytics:run_start"), follow=True)
    refresh = manager_client.post(reverse("analytics:dashboard_refresh"), follow=True)
    assert scoring.status_code == refresh.status_code == 200
    assert TOLD in scoring.content.decode() and TOLD in refresh.content.decode()
    run = ScoringRun.objects.get()
    assert list(PendingTask.objects.values_list("task", "args")) == [
        ("analytics.tasks.scoring_fit_task", [run.pk]),
        ("analytics.tasks.aggregates_refresh_task", []),
    ]


@pytest.mark.django_db(transaction=True)
def test_an_export_started_with_redis_away_waits_in_the_outbox_and_runs_once_when_redis_is_back(
    redis_away, manager_client
):
    CustomerFactory.create_batch(3, city="宁波市")
    response = manager_client.post(reverse("customers:export"), {"query": "city=宁波市", "format": "csv"})
    assert response.status_code == 302
    job = Job.objects.get()
    assert response.url == job.get_absolute_url()
    assert WAITING in manager_client.get(response.url).content.decode()
    row = PendingTask.objects.get()
    assert (row.task, row.args) == ("customers.tasks.customer_export_task", [job.pk])

    # The sweep while Redis is still away hands nothing over and loses nothing.
    assert outbox_drain() == {"queued": 0, "waiting": 1}
    assert PendingTask.objects.get().attempts == 1

    redis_away.back()
    app.control.purge()
    assert outbox_drain_task() == {"queued": 1, "waiting": 0}
    assert outbox_drain_task() == {"queued": 0, "waiting": 0}  # a second sweep finds nothing to hand over
    assert queued_messages() == 1  # handed over exactly once
    worker = start_worker()
    try:
        deadline = time.monotonic() + 60
        while not job.finished:
            assert time.monotonic() < deadline, f"job still {job.status}"
            time.sleep(0.2)
            job.refresh_from_db()
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert job.status == JobStatus.DONE and job.attempts == 1 and (job.done, job.total) == (3, 3)
    assert WAITING not in manager_client.get(response.url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_kept_task_another_sweep_is_handing_over_is_left_to_it(redis_broker):
    row = PendingTask.objects.create(task="crm.tasks.jobs_sweep_task", args=[])
    # Another sweep holds the row while it hands it over: this one skips it instead of handing it over twice.
    with held(f"SELECT 1 FROM {PendingTask._meta.db_table} WHERE id = %s FOR UPDATE", (row.pk,)):  # noqa: S608
        assert outbox_drain() == {"queued": 0, "waiting": 1}
    assert queued_messages() == 0
    assert outbox_drain() == {"queued": 1, "waiting": 0}
    assert queued_messages() == 1
    app.control.purge()


def test_the_cache_answers_a_miss_while_redis_is_away(redis_away):
    from django.core.cache import cache

    assert cache.set("lane", 1, 60) is None  # dropped, with a warning in the log
    assert cache.get("lane", "none") == "none"
    assert cache.add("lane", 1) is False and cache.get_many(["lane"]) == {} and not cache.has_key("lane")
    assert cache.incr("count", 2) == 2  # as if just made: a throttle counting during the outage lets through
