"""Bulk actions on the customer list: add or remove a tag, give another owner, export the selection."""

import csv
import io

import pytest
from django.contrib.messages import ERROR, get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from crm.models import AuditAction, AuditEvent, Job, JobKind, JobStatus
from crm.roles import Role
from customers.forms.bulk import BulkForm
from customers.models import Customer, Tag
from customers.services import bulk
from customers.tasks import customer_bulk_task, customer_export_task
from customers.tests.factories import CustomerFactory, TagFactory
from tests.hostile import hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db
BULK = reverse("customers:bulk")
LIST = reverse("customers:list")


def tagged(tag: Tag) -> set[int]:
    return set(tag.customers.values_list("pk", flat=True))


def bulk_audits(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.BULK, **filters).order_by("customer_id"))


def error_messages(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request) if m.level == ERROR]


def test_adding_a_tag_to_ticked_rows_tags_exactly_those_and_audits_each(manager_client, manager_user):
    vip = TagFactory(name="VIP")
    a, b, untouched = CustomerFactory.create_batch(3)
    response = manager_client.post(
        BULK, {"action": "tag_add", "scope": "selected", "ids": [a.pk, b.pk], "tag": "VIP", "query": "city=杭州市"}
    )
    assert response.status_code == 302 and response.url == f"{LIST}?city=%E6%9D%AD%E5%B7%9E%E5%B8%82"
    assert tagged(vip) == {a.pk, b.pk}
    audits = bulk_audits()
    assert [e.customer_id for e in audits] == sorted([a.pk, b.pk])
    assert all(e.actor == manager_user and e.changes == {"tags": {"added": ["VIP"]}} for e in audits)
    body = manager_client.get(response.url).content.decode()
    assert "Tag “VIP” added to 2 customers." in body
    assert untouched.pk not in tagged(vip)


def test_adding_a_tag_some_already_have_changes_and_audits_only_the_others(service_client):
    vip = TagFactory(name="VIP")
    had = CustomerFactory(tags=[vip])
    new = CustomerFactory()
    response = service_client.post(
        BULK, {"action": "tag_add", "scope": "selected", "ids": [had.pk, new.pk], "tag": "VIP"}, follow=True
    )
    assert tagged(vip) == {had.pk, new.pk}
    assert [e.customer_id for e in bulk_audits()] == [new.pk]
    assert "Tag “VIP” added to 1 customer. 1 selected customer was already so." in response.content.decode()


def test_all_matching_applies_to_the_whole_filter_not_only_the_page(service_client):
    vip = TagFactory(name="VIP")
    shanghai = CustomerFactory.create_batch(30, city="上海市")
    hangzhou = CustomerFactory(city="杭州市")
    service_client.post(BULK, {"action": "tag_add", "scope": "all", "query": "city=上海市&page=2", "tag": "VIP"})
    assert tagged(vip) == {c.pk for c in shanghai}
    assert hangzhou.pk not in tagged(vip)
    assert len(bulk_audits()) == 30


def test_all_matching_a_filter_that_is_no_longer_valid_changes_nobody(service_client):
    vip = TagFactory(name="VIP")
    CustomerFactory.create_batch(2)
    response = service_client.post(BULK, {"action": "tag_add", "scope": "all", "query": "tag=999999", "tag": "VIP"})
    assert error_messages(response) == ["The filter is no longer valid; please filter the list again."]
    assert not tagged(vip) and not bulk_audits()


def test_removing_a_tag_removes_it_from_the_selection_only(service_client, service_user):
    vip, other = TagFactory(name="VIP"), TagFactory(name="其他")
    a, b = CustomerFactory(tags=[vip, other]), CustomerFactory(tags=[vip])
    service_client.post(BULK, {"action": "tag_remove", "scope": "selected", "ids": [a.pk], "tag": "VIP"})
    assert tagged(vip) == {b.pk} and tagged(other) == {a.pk}
    assert [(e.customer_id, e.changes) for e in bulk_audits()] == [(a.pk, {"tags": {"removed": ["VIP"]}})]


def test_manager_gives_the_filtered_customers_another_owner(manager_client, make_user):
    old, new = make_user(Role.SALES, username="old-owner"), make_user(Role.SALES, username="new-owner")
    mine = CustomerFactory.create_batch(3, owner=old)
    others = CustomerFactory(owner=make_user(Role.SALES, username="third"))
    manager_client.post(BULK, {"action": "reassign", "scope": "all", "query": f"owner={old.pk}", "owner": new.pk})
    assert set(Customer.objects.filter(owner=new).values_list("pk", flat=True)) == {c.pk for c in mine}
    others.refresh_from_db()
    assert others.owner.username == "third"
    assert {e.customer_id: e.changes for e in bulk_audits()} == {
        c.pk: {"owner": ["old-owner", "new-owner"]} for c in mine
    }


def test_the_new_owner_must_be_staff_who_can_own_customers(manager_client, make_user):
    outsider = make_user(None, username="no-role")
    customer = CustomerFactory()
    response = manager_client.post(
        BULK, {"action": "reassign", "scope": "selected", "ids": [customer.pk], "owner": outsider.pk}
    )
    assert response.status_code == 302 and error_messages(response)
    customer.refresh_from_db()
    assert customer.owner is None and not bulk_audits()


@pytest.mark.parametrize(
    ("client_fixture", "action"),
    [("sales_client", "reassign"), ("service_client", "reassign"), ("marketing_client", "tag_add")],
)
def test_a_role_without_the_permission_gets_403_and_nothing_changes(request, client_fixture, action, make_user):
    TagFactory(name="VIP")
    owner = make_user(Role.SALES, username="new-owner")
    customer = CustomerFactory(owner=request.getfixturevalue(client_fixture.replace("client", "user")))
    data = {"action": action, "scope": "all", "ids": [customer.pk], "tag": "VIP", "owner": owner.pk}
    client = request.getfixturevalue(client_fixture)  # signing in is recorded: before counting
    before = table_counts()
    assert client.post(BULK, data).status_code == 403
    assert table_counts() == before
    customer.refresh_from_db()
    assert customer.owner.username != "new-owner" and not customer.tags.exists()


def test_marketing_may_not_even_open_the_bulk_form(marketing_client):
    assert marketing_client.post(BULK, {}).status_code == 403


def test_export_is_refused_without_the_export_permission(service_client):
    customer = CustomerFactory()
    response = service_client.post(BULK, {"action": "export", "scope": "selected", "ids": [customer.pk]})
    assert response.status_code == 403 and not Job.objects.exists()


def test_a_salesperson_cannot_touch_another_owners_customer_by_posting_its_id(sales_client, sales_user, make_user):
    vip = TagFactory(name="VIP")
    own = CustomerFactory(owner=sales_user)
    foreign = CustomerFactory(owner=make_user(Role.SALES, username="someone-else"))
    sales_client.post(BULK, {"action": "tag_add", "scope": "selected", "ids": [own.pk, foreign.pk], "tag": "VIP"})
    assert tagged(vip) == {own.pk}
    assert [e.customer_id for e in bulk_audits()] == [own.pk]


def test_a_salespersons_all_matching_is_their_own_book(sales_client, sales_user, make_user):
    vip = TagFactory(name="VIP")
    own = CustomerFactory.create_batch(2, owner=sales_user)
    CustomerFactory(owner=make_user(Role.SALES, username="someone-else"))
    sales_client.post(BULK, {"action": "tag_add", "scope": "all", "query": "", "tag": "VIP"})
    assert tagged(vip) == {c.pk for c in own}


def test_a_new_tag_is_created_for_a_manager_but_not_for_a_salesperson(manager_client, sales_client, sales_user):
    customer = CustomerFactory(owner=sales_user)
    response = sales_client.post(BULK, {"action": "tag_add", "scope": "selected", "ids": [customer.pk], "tag": "新"})
    assert error_messages(response) == ["There is no tag “新”."]
    assert not Tag.objects.exists() and not bulk_audits()
    manager_client.post(BULK, {"action": "tag_add", "scope": "selected", "ids": [customer.pk], "tag": " 新 "})
    assert tagged(Tag.objects.get(name="新")) == {customer.pk}


def test_nothing_ticked_and_no_tag_are_explained_and_change_nothing(service_client):
    TagFactory(name="VIP")
    response = service_client.post(BULK, {"action": "tag_add", "scope": "selected", "tag": "VIP"})
    assert error_messages(response) == ["Tick at least one customer, or choose all matching."]
    service_client.get(response.url)  # the list shows the message, and it is gone
    response = service_client.post(BULK, {"action": "tag_add", "scope": "all", "tag": ""})
    assert error_messages(response) == ["Name the tag."]
    assert not bulk_audits()


def test_exporting_the_ticked_rows_exports_only_those(manager_client, django_capture_on_commit_callbacks):
    a, b = CustomerFactory(name="甲"), CustomerFactory(name="乙")
    CustomerFactory(name="丙")
    with django_capture_on_commit_callbacks(execute=False):
        response = manager_client.post(
            BULK, {"action": "export", "scope": "selected", "ids": [a.pk, b.pk], "format": "csv"}
        )
    job = Job.objects.get()
    assert job.kind == JobKind.CUSTOMER_EXPORT and response.url == job.get_absolute_url()
    customer_export_task(job.pk)
    job.refresh_from_db()
    content = b"".join(manager_client.get(reverse("job_download", args=[job.pk])).streaming_content)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert sorted(r[1] for r in rows[1:]) == ["乙", "甲"]


def test_a_large_selection_becomes_a_job_with_progress_that_the_task_completes(
    manager_client, manager_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 3)
    monkeypatch.setattr(bulk, "CHUNK", 2)
    vip = TagFactory(name="VIP")
    customers = CustomerFactory.create_batch(5)
    with django_capture_on_commit_callbacks() as callbacks:
        response = manager_client.post(BULK, {"action": "tag_add", "scope": "all", "query": "", "tag": "VIP"})
    job = Job.objects.get()
    assert job.kind == JobKind.CUSTOMER_BULK and response.url == job.get_absolute_url()
    assert len(callbacks) == 1 and not tagged(vip)  # queued, not done in the request
    customer_bulk_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and (job.done, job.total) == (5, 5)
    assert tagged(vip) == {c.pk for c in customers}
    assert {e.changes["job"] for e in bulk_audits()} == {job.pk} and len(bulk_audits()) == 5
    body = manager_client.get(job.get_absolute_url()).content.decode()
    assert "100%" in body and "Tag “VIP” added to 5 customers." in body


def test_a_job_taken_up_again_after_its_worker_died_adds_nothing_twice(manager_user, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    vip = TagFactory(name="VIP")
    customers = CustomerFactory.create_batch(5)
    params = {"action": "tag_add", "filters": {}, "tag": vip.pk, "owner": None, "query": ""}
    job = Job.objects.create(kind=JobKind.CUSTOMER_BULK, params=params, created_by=manager_user)
    reports = []

    def dies_after_the_first_chunk(job, *, done, total=None):
        reports.append(done)
        if len(reports) == 3:  # the total, the first chunk, then the worker is killed
            raise SystemExit

    monkeypatch.setattr(bulk, "job_progress", dies_after_the_first_chunk)
    with pytest.raises(SystemExit):
        customer_bulk_task(job.pk)
    assert len(tagged(vip)) == 4 and len(bulk_audits()) == 4  # two chunks committed before it died
    monkeypatch.undo()
    monkeypatch.setattr(bulk, "CHUNK", 2)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)  # as the sweeper does once its lease lapsed
    customer_bulk_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert tagged(vip) == {c.pk for c in customers}
    assert sorted(e.customer_id for e in bulk_audits()) == sorted(c.pk for c in customers)  # no duplicates


def test_a_job_whose_starter_lost_the_permission_changes_nothing(make_user):
    seller = make_user(Role.SALES, username="seller")
    vip = TagFactory(name="VIP")
    CustomerFactory(owner=seller)
    params = {"action": "reassign", "filters": {}, "tag": None, "owner": seller.pk, "query": ""}
    job = Job.objects.create(kind=JobKind.CUSTOMER_BULK, params=params, created_by=seller)
    customer_bulk_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "no longer" in job.message
    assert not bulk_audits() and not tagged(vip)


def test_get_is_405(manager_client):
    assert manager_client.get(BULK).status_code == 405


def test_the_list_offers_ticks_and_the_action_bar_to_those_who_may_act(service_client, marketing_client):
    CustomerFactory()
    body = service_client.get(LIST).content.decode()
    assert 'id="bulk-form"' in body and 'name="ids"' in body and 'form="bulk-form"' in body
    assert 'value="tag_add"' in body and 'value="reassign"' not in body and 'value="export"' not in body
    body = marketing_client.get(LIST).content.decode()
    assert 'id="bulk-form"' not in body and 'name="ids"' not in body


def test_the_manager_may_reassign_and_export_from_the_bar(manager_client, make_user):
    make_user(Role.SALES, username="a-seller")
    body = manager_client.get(LIST, {"city": "杭州市"}).content.decode()
    assert 'value="reassign"' in body and 'value="export"' in body and "a-seller" in body
    assert 'name="query" value="city=%E6%9D%AD%E5%B7%9E%E5%B8%82"' in body


def test_past_the_lists_cap_all_matching_says_its_count_is_an_estimate(manager_user):
    assert "All 1,000 matching" in str(BulkForm(user=manager_user, total=1000)["scope"])
    assert "All matching (about 1,234,567)" in str(BulkForm(user=manager_user, total=1234567, estimate=True)["scope"])


def test_query_count_of_the_bulk_service_does_not_grow_with_customers(manager_user, make_user):
    new = make_user(Role.SALES, username="new-owner")
    old = make_user(Role.SALES, username="old-owner")
    vip = TagFactory(name="VIP")

    def counts(n: int) -> list[int]:
        ids = [c.pk for c in CustomerFactory.create_batch(n, owner=old)]
        filters = {"ids": ids}
        found = []
        for action, kwargs in [
            (bulk.BulkAction.TAG_ADD, {"tag": vip}),
            (bulk.BulkAction.TAG_REMOVE, {"tag": vip}),
            (bulk.BulkAction.REASSIGN, {"owner": new}),
        ]:
            with CaptureQueriesContext(connection) as queries:
                result = bulk.bulk_change_or_queue(actor=manager_user, action=action, filters=filters, **kwargs)
            assert result.changed == n
            found.append(len(queries))
        return found

    manager_user.has_perm("customers.change_customer")  # the user's permissions are loaded once, not per run
    assert counts(5) == counts(50)


ids = st.lists(st.one_of(hostile_number, st.integers(min_value=-(2**70), max_value=2**70).map(str)), max_size=4)


@given(
    action=st.one_of(st.sampled_from([*bulk.BulkAction.values, ""]), hostile_text),
    scope=st.one_of(st.sampled_from(["selected", "all"]), hostile_text),
    ids=ids,
    tag=st.one_of(st.just("VIP"), hostile_text),
    owner=st.one_of(st.just("OWNER"), hostile_number),
    query=st.one_of(st.just("city=杭州市"), hostile_text),
    fmt=st.one_of(st.just("csv"), hostile_text),
)
@pytest.mark.parametrize("role", [Role.SALES, Role.MANAGER])
def test_hostile_bulk_posts_never_fail_and_change_nothing_on_error(
    make_user, login_as, role, sales_user, action, scope, ids, tag, owner, query, fmt
):
    client = login_as(make_user(role, username=f"hostile-{role}".lower()))
    customer = CustomerFactory(owner=sales_user)
    TagFactory(name="VIP")
    ids = [str(customer.pk) if i == "0" else i for i in ids]
    owner = str(sales_user.pk) if owner == "OWNER" else owner
    with rolled_back():
        before = table_counts()
        data = {"action": action, "scope": scope, "ids": ids, "tag": tag, "owner": owner, "query": query, "format": fmt}
        response = client.post(BULK, data)
        assert response.status_code in (302, 400, 403)
        if response.status_code != 302 or error_messages(response):
            assert table_counts() == before
