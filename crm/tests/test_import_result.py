"""The page of a finished import: counts, the first bad rows (line, column as headed in the file, reason in the
viewer's language), the download of them all, and links to the members it wrote."""

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation

from crm.importers import ERRORS_SHOWN, MEMBERS_SHOWN
from crm.models import Job, JobStatus
from crm.tasks import import_task
from customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def finished_import(user, text: str, mapping: dict[int, str], *, language: str = "en") -> Job:
    """An import job run to its end by the worker, in `language`."""
    path = default_storage.save("imports/members.csv", ContentFile(text.encode()))
    job = Job.objects.create(
        kind="customers_import",
        created_by=user,
        params={"path": path, "filename": "members.csv", "importer": "customers", "rows": None, "mapping": mapping},
    )
    with translation.override(language):
        import_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    return job


def error_rows(body: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table[^>]*id="import-errors".*?<tbody>(.*?)</tbody>', body, re.S).group(1)
    return [
        tuple(re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_bad_rows_are_listed_with_line_column_and_reason_and_can_be_downloaded(manager_user, manager_client):
    text = "Name,Handy,Mail\nGood,13800000001,good@example.com\nBad phone,12345,\nNo mail,13800000003,not-an-address\n"
    job = finished_import(manager_user, text, {"0": "name", "1": "mobile", "2": "email"})
    body = manager_client.get(job.get_absolute_url()).content.decode()
    rows = error_rows(body)
    assert [(line, column) for line, column, _reason in rows] == [("3", "Handy"), ("4", "Mail")]
    assert "mainland China mobile" in rows[0][2] and "e-mail" in rows[1][2].lower()
    assert reverse("job_download", args=[job.pk]) in body
    assert 'id="import-errors-more"' not in body  # all of them are shown
    counts = re.sub(r"<[^>]+>|\s+", " ", re.search(r'id="import-counts".*?</dl>', body, re.S).group(0))
    assert re.search(r"Imported\s+1\b", counts) and re.search(r"With errors\s+2\b", counts)


def test_only_the_first_50_bad_rows_are_shown_and_the_file_has_them_all(manager_user, manager_client):
    bad = [f"Member {i},1234{i}" for i in range(ERRORS_SHOWN + 10)]
    job = finished_import(
        manager_user, "\n".join(["name,mobile", *bad, "Good,13800000001"]) + "\n", {"0": "name", "1": "mobile"}
    )
    body = manager_client.get(job.get_absolute_url()).content.decode()
    rows = error_rows(body)
    assert [line for line, _c, _r in rows] == [str(n) for n in range(2, ERRORS_SHOWN + 2)]
    assert f"The first {ERRORS_SHOWN} of {ERRORS_SHOWN + 10} rows with errors" in body
    download = b"".join(manager_client.get(reverse("job_download", args=[job.pk])).streaming_content)
    assert len(download.decode("utf-8-sig").splitlines()) == 1 + ERRORS_SHOWN + 10


def test_the_page_links_the_imported_members_and_the_list_of_imported_members(manager_user, manager_client):
    lines = [f"会员{i},{13900000000 + i}" for i in range(MEMBERS_SHOWN + 5)]
    job = finished_import(manager_user, "\n".join(["姓名,手机号", *lines]) + "\n", {"0": "name", "1": "mobile"})
    body = manager_client.get(job.get_absolute_url()).content.decode()
    first = Customer.objects.get(name="会员0")
    assert f'<a href="{first.get_absolute_url()}">会员0</a>' in body
    linked = re.findall(r'<li class="list-inline-item"><a href="[^"]+">(会员\d+)</a>', body)
    assert linked == [f"会员{i}" for i in range(MEMBERS_SHOWN)]
    assert reverse("customers:list") + "?source=import" in body
    assert "Download the rows with errors" not in body  # there are none


def test_a_chinese_viewer_reads_the_reasons_of_an_import_run_in_english_in_chinese(manager_user, manager_client):
    job = finished_import(
        manager_user, "name,mobile\nGood,13800000001\nBad,12345\nGood,13800000001\n", {"0": "name", "1": "mobile"}
    )
    english = error_rows(manager_client.get(job.get_absolute_url()).content.decode())
    assert english[0][2] == (
        "Mobile phone: Enter a mainland China mobile number (e.g. 13812345678)"
        " or an international number starting with +."
    )
    assert english[1][2] == "Same member as line 2."
    manager_client.post(reverse("set_language"), {"language": "zh-hans"})
    chinese = error_rows(manager_client.get(job.get_absolute_url()).content.decode())
    assert chinese == [
        ("3", "mobile", "手机号: 请输入中国大陆手机号（如 13812345678），或以 + 开头的国际号码。"),
        ("4", "—", "与第 2 行为同一会员。"),
    ]
    # The error file stays in the language the import ran in.
    download = b"".join(manager_client.get(reverse("job_download", args=[job.pk])).streaming_content)
    assert "Enter a mainland China mobile number" in download.decode("utf-8-sig")


def test_the_result_comes_with_the_progress_fragment_the_page_polls(manager_user, manager_client):
    job = finished_import(manager_user, "name,mobile\nBad,12345\n", {"0": "name", "1": "mobile"})
    fragment = manager_client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and 'id="import-errors"' in fragment


def test_a_job_still_running_shows_no_result(manager_user, manager_client):
    job = Job.objects.create(kind="customers_import", created_by=manager_user, params={"importer": "customers"})
    body = manager_client.get(job.get_absolute_url()).content.decode()
    assert 'id="import-result"' not in body
