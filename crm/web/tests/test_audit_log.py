"""The audit log page: managers and admins search the trail; nobody else sees it."""

import datetime

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from crm.audit import audit_record
from crm.lib.crm_number import format_number
from crm.models import AuditAction, AuditEvent
from customers.services import merge
from customers.tests.factories import CustomerFactory

URL = reverse("audit_log")


def rows(response) -> str:
    return response.content.decode().split('id="audit-entries"', 1)[1]


@pytest.fixture
def wang(service_user):
    customer = CustomerFactory(name="王芳")
    audit_record(action=AuditAction.VIEW, actor=service_user, customer_id=customer.pk)
    return customer


def test_a_manager_finds_who_viewed_a_customer_by_crm_number(manager_client, wang):
    other = CustomerFactory()
    audit_record(action=AuditAction.EXPORT, customer_id=other.pk)
    page = rows(manager_client.get(URL, {"customer": format_number(wang.crm_number)}))
    assert "service" in page and "Viewed" in page
    assert "Exported" not in page


def test_entries_of_a_customer_merged_away_are_found_under_the_survivor(manager_client, manager_user, wang):
    survivor = CustomerFactory(name="王芳", mobile=wang.mobile[:-1] + "9")
    merge.customer_merge(survivor=survivor, other=wang, actor=manager_user)
    page = rows(manager_client.get(URL, {"customer": str(survivor.crm_number)}))
    assert "Viewed" in page and "Merged" in page
    # And the merged-away number still leads there.
    assert "Viewed" in rows(manager_client.get(URL, {"customer": str(wang.crm_number)}))


def test_search_by_user_action_and_dates(manager_client, wang, sales_user):
    audit_record(action=AuditAction.EXPORT, actor=sales_user)
    assert "Exported" not in rows(manager_client.get(URL, {"user": "service"}))
    assert "Viewed" not in rows(manager_client.get(URL, {"action": "export"}))
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    assert "No entries match" in rows(manager_client.get(URL, {"since": tomorrow.isoformat()}))


def test_a_mistyped_crm_number_is_refused_with_a_message_and_the_typed_text_kept(manager_client, wang):
    text = str(wang.crm_number)[:-1] + str((int(str(wang.crm_number)[-1]) + 1) % 10)
    response = manager_client.get(URL, {"customer": text})
    assert "This is not a valid CRM number." in response.content.decode()
    assert f'value="{text}"' in response.content.decode()
    assert "No entries match" in rows(response)


@pytest.mark.parametrize("who", ["service_client", "sales_client", "marketing_client"])
def test_other_roles_may_not_read_the_log(request, who, wang):
    assert request.getfixturevalue(who).get(URL).status_code == 403


def test_the_page_reads_the_same_number_of_queries_for_few_and_many_entries(
    manager_client, wang, django_assert_max_num_queries
):
    manager_client.get(URL)
    for _ in range(40):
        audit_record(action=AuditAction.VIEW, customer_id=CustomerFactory().pk)
    with django_assert_max_num_queries(12):
        assert manager_client.get(URL).status_code == 200


@given(
    params=st.dictionaries(
        st.sampled_from(["customer", "user", "action", "since", "until", "page"]),
        st.text(max_size=30),
        max_size=6,
    )
)
def test_any_query_is_answered_without_an_error_and_writes_nothing(manager_client, params):
    before = AuditEvent.objects.count()
    response = manager_client.get(URL, params)
    assert response.status_code in (200, 400)  # 400: a NUL character, refused at the edge
    assert AuditEvent.objects.count() == before


@pytest.fixture
def archived(settings, manager_client):
    import time_machine
    from django.core.files.storage import default_storage

    from crm.audit import audit_archive_old
    from crm.models import AuditArchive

    settings.RETENTION_AUDIT_YEARS = 1
    with time_machine.travel(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC), tick=False):
        audit_record(action=AuditAction.EXPORT, target="old export")
    audit_archive_old()
    archive = AuditArchive.objects.get()
    yield archive
    default_storage.delete(archive.file.name)


def test_archived_entries_are_listed_and_download_as_written(manager_client, archived):
    import gzip
    import json

    page = manager_client.get(URL).content.decode()
    assert reverse("audit_archive_download", args=[archived.pk]) in page
    response = manager_client.get(reverse("audit_archive_download", args=[archived.pk]))
    entries = [json.loads(line) for line in gzip.decompress(b"".join(response.streaming_content)).splitlines()]
    assert [e["target"] for e in entries] == ["old export"]


def test_an_altered_archive_file_is_not_served(manager_client, archived):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.delete(archived.file.name)
    default_storage.save(archived.file.name, ContentFile(b"forged"))
    assert manager_client.get(reverse("audit_archive_download", args=[archived.pk])).status_code == 404


def test_only_managers_and_admins_download_archives(sales_client, archived):
    assert sales_client.get(reverse("audit_archive_download", args=[archived.pk])).status_code == 403
