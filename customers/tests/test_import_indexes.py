"""A big customer import sets the search indexes aside and builds them again after, whatever happens."""

import pytest
from django.db import connection

from crm.indexes import indexes_set_aside
from crm.jobs import jobs_sweep
from crm.lib.tables import read_table
from crm.models import Job, JobKind, JobStatus, SetAsideIndex
from customers.imports import CUSTOMERS, SEARCH_INDEXES
from customers.models import Customer
from customers.selectors import customer_search

pytestmark = pytest.mark.django_db

CSV = "姓名,手机\n" + "".join(f"会员{i},1380000{i:04d}\n" for i in range(1, 31))


def search_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customers_customer' AND indexname = ANY(%s)",
            [SEARCH_INDEXES],
        )
        return dict(cursor.fetchall())


def run_import(*, total, on_progress=None):
    headers, rows = read_table(CSV.encode(), "members.csv")
    return CUSTOMERS.run(
        rows, mapping=CUSTOMERS.guess_mapping(headers), actor=None, on_progress=on_progress, total=total
    )


@pytest.fixture
def before():
    indexes = search_indexes()
    assert set(indexes) == set(SEARCH_INDEXES)  # the test database has pg_trgm
    return indexes


@pytest.mark.django_db(transaction=True)  # the build waits for no open transaction's checks
def test_a_big_import_into_a_smaller_table_builds_the_search_indexes_after(settings, before):
    settings.CRM_IMPORT_SET_ASIDE_ROWS = 10
    during = []
    report = run_import(total=30, on_progress=lambda done: during.append(set(search_indexes())))
    assert report.created == 30
    assert during and all(seen == set() for seen in during)  # set aside while the rows went in
    assert search_indexes() == before  # built again, as they were
    assert not SetAsideIndex.objects.exists()
    assert [c.name for c in customer_search(Customer.objects.all(), "会员17", contacts=True)] == ["会员17"]


def test_an_import_smaller_than_the_threshold_keeps_the_indexes(settings, before):
    settings.CRM_IMPORT_SET_ASIDE_ROWS = 100
    during = []
    run_import(total=30, on_progress=lambda done: during.append(set(search_indexes())))
    assert during and all(seen == set(SEARCH_INDEXES) for seen in during)


def test_an_import_into_a_bigger_table_keeps_the_indexes(settings, before):
    settings.CRM_IMPORT_SET_ASIDE_ROWS = 10
    Customer.objects.bulk_create(Customer(name=f"已有{i}") for i in range(40))
    during = []
    run_import(total=30, on_progress=lambda done: during.append(set(search_indexes())))
    assert during and all(seen == set(SEARCH_INDEXES) for seen in during)


@pytest.mark.django_db(transaction=True)  # the build waits for no open transaction's checks
def test_an_import_that_fails_midway_still_builds_the_indexes(settings, before):
    settings.CRM_IMPORT_SET_ASIDE_ROWS = 10

    def fail(done):
        raise RuntimeError("the worker stopped")

    with pytest.raises(RuntimeError):
        run_import(total=30, on_progress=fail)
    assert search_indexes() == before
    assert not SetAsideIndex.objects.exists()


def test_indexes_a_killed_import_left_aside_are_built_by_the_sweep_once_no_import_runs(before, admin_user):
    indexes_set_aside(table="customers_customer", names=SEARCH_INDEXES)  # what a killed import leaves
    assert search_indexes() == {}
    running = Job.objects.create(
        kind=JobKind.CUSTOMERS_IMPORT, status=JobStatus.RUNNING, params={}, created_by=admin_user
    )  # its heartbeat is now: not stale
    assert jobs_sweep()["indexes_rebuilt"] == 0  # not under a running import
    assert search_indexes() == {}
    Job.objects.filter(pk=running.pk).update(status=JobStatus.DONE)
    assert jobs_sweep()["indexes_rebuilt"] == len(SEARCH_INDEXES)
    assert search_indexes() == before
    assert not SetAsideIndex.objects.exists()


@pytest.mark.django_db(transaction=True)  # the build waits for no open transaction's checks
def test_the_next_import_builds_what_a_killed_one_left_aside(settings, before):
    settings.CRM_IMPORT_SET_ASIDE_ROWS = 1000
    indexes_set_aside(table="customers_customer", names=SEARCH_INDEXES)
    run_import(total=30)
    assert search_indexes() == before
