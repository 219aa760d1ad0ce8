"""A read replica (DATABASE_REPLICA_URL) serves the dashboards, reports, chart numbers and scoring's reads, while
every write stays on the primary (crm/db_router.py). A second test database stands in for the replica: a copy of
the primary's, then given rows the primary does not have, so a figure on a page says which database it came from."""

import datetime
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from analytics.models import DailyKpi, MemberScore, ScoreHistory, ScoringRun
from analytics.services import scoring
from crm.db_router import reading_from_replica
from customers.tests.factories import CustomerFactory
from interactions.models import Transaction, TransactionStatus
from marketing.models import Segment

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
DAY = datetime.date(2026, 6, 1)


def copy_primary_to_replica() -> None:
    """The stand-in replica becomes a copy of the primary as it is now (tables and rows), as streaming would
    make it: its test database is created again from the primary's as a template."""
    primary, replica = connections["default"], connections["replica"]
    source, target = primary.settings_dict["NAME"], replica.settings_dict["NAME"]
    assert source != target
    primary.close()
    replica.close()
    with primary._nodb_cursor() as cursor:
        # A template must have no one connected: what is left of earlier tests' processes goes.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [source],
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
        cursor.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')


@pytest.fixture
def replica(settings):
    """Reads inside reading_from_replica() go to the stand-in (settings.CRM_READ_REPLICA, as
    DATABASE_REPLICA_URL sets it)."""
    settings.CRM_READ_REPLICA = "replica"
    return copy_primary_to_replica


def day_figures(database: str, new_members: int) -> None:
    DailyKpi.objects.using(database).create(day=DAY, new_members=new_members, orders=1, revenue=Decimal("10"))


def sales_and_members(client) -> list:
    params = {"start": DAY.isoformat(), "end": DAY.isoformat(), "grain": "day"}
    response = client.get(reverse("chart_json", args=["kpi_members"]), params)
    assert response.status_code == 200, response.content
    return response.json()["rows"]


def test_the_dashboard_and_its_charts_read_the_replica(replica, manager_client):
    replica()
    day_figures("default", 3)
    day_figures("replica", 777)
    params = {"start": DAY.isoformat(), "end": DAY.isoformat()}
    page = manager_client.get(reverse("analytics:dashboard"), params).content.decode()
    assert "777" in page
    tiles = manager_client.get(reverse("analytics:dashboard_tiles"), params).content.decode()
    assert "777" in tiles
    assert 777 in sales_and_members(manager_client)[0] and 3 not in sales_and_members(manager_client)[0]


def test_the_marketing_reports_read_the_replica(replica, manager_client):
    Segment.objects.create(name="Written before the copy")
    replica()
    Segment.objects.using("replica").create(name="Only on the replica")
    Segment.objects.create(name="Not replicated yet")
    page = manager_client.get(reverse("marketing:reports")).content.decode()
    assert "Written before the copy" in page and "Only on the replica" in page
    assert "Not replicated yet" not in page


def test_writes_and_reads_in_a_write_transaction_stay_on_the_primary(replica):
    replica()
    with reading_from_replica():
        Segment.objects.create(name="Written while reading from the replica")
        assert not Segment.objects.filter(name="Written while reading from the replica").exists()  # lag
        with transaction.atomic():
            assert Segment.objects.filter(name="Written while reading from the replica").exists()
    assert Segment.objects.filter(name="Written while reading from the replica").exists()  # outside: the primary
    assert not Segment.objects.using("replica").exists()


def test_without_a_replica_the_dashboard_reads_the_primary(settings, manager_client):
    settings.CRM_READ_REPLICA = ""
    day_figures("default", 3)
    with reading_from_replica():
        assert DailyKpi.objects.get(day=DAY).new_members == 3
    assert 3 in sales_and_members(manager_client)[0]


def test_scoring_reads_purchases_from_the_replica_and_writes_the_scores_to_the_primary(replica, settings):
    settings.CRM_SCORING_CHUNK = 2
    people = CustomerFactory.create_batch(4)
    replica()
    now = timezone.now()
    for days in (3, 40, 90):  # the first member's purchases, on the replica only (the primary's are not there yet)
        Transaction.objects.using("replica").create(
            customer_id=people[0].pk,
            occurred_at=now - datetime.timedelta(days=days),
            amount=Decimal("100"),
            status=TransactionStatus.COMPLETED,
        )
    run = scoring.scoring_run_start(params={"parts": ["rfm"]}, queue=False)
    scoring.scoring_fit(run_id=run.pk, queue=False)
    for chunk in run.chunks.all():
        scoring.scoring_chunk(chunk_id=chunk.pk)
    run = ScoringRun.objects.get(pk=run.pk)
    assert (run.status, run.members, run.chunks_done) == ("done", 4, 2), run.message
    scores = {row.customer_id: row for row in MemberScore.objects.all()}
    assert scores[people[0].pk].frequency == 3 and all(scores[p.pk].frequency == 0 for p in people[1:])
    assert ScoreHistory.objects.filter(run=run).count() == 4
    assert not MemberScore.objects.using("replica").exists() and not ScoringRun.objects.using("replica").exists()
