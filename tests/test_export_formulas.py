"""Every export, read back as a spreadsheet would: hostile text comes out as text, never as a formula."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.lib import tabular
from crm.lib.tabular import FORMULA_START, SIGNED_NUMBER
from crm.models import Job
from crm.tasks import import_task
from customers.tasks import customer_export_task
from customers.tests.factories import CustomerFactory
from interactions.services import transaction_record

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\t=1+1", "\r=1+1"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def read(content: bytes, fmt: str) -> list[list]:
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).active
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {cell.coordinate}: {cell.value!r}"
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def assert_inert(rows: list[list]) -> None:
    for row in rows:
        for value in row:
            if isinstance(value, str) and value.startswith(FORMULA_START):
                assert SIGNED_NUMBER.fullmatch(value), f"live formula: {value!r}"


def download(client, url) -> bytes:
    return b"".join(client.get(url).streaming_content)


def run_job(client, url, data, task, captured) -> Job:
    with captured():
        client.post(url, data)
    job = Job.objects.latest("pk")
    task(job.pk)
    return job


def import_hostile_names(client, captured) -> Job:
    lines = ["name,mobile,birthday"]
    lines += [f'"{name.replace(chr(34), chr(34) * 2)}",+86139000000{i:02d},' for i, name in enumerate(HOSTILE)]
    lines.append('"=BAD()",+8613900000099,not-a-date')  # a bad row: its cells go to the error report
    file = io.BytesIO("\n".join(lines).encode())
    file.name = "members.csv"
    mapping_url = client.post(reverse("import"), {"file": file, "importer": "customers"}).url
    return run_job(
        client, mapping_url, {"col_0": "name", "col_1": "mobile", "col_2": "birthday"}, import_task, captured
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_customer_list_export_of_imported_formulas_is_inert(manager_client, django_capture_on_commit_callbacks, fmt):
    import_hostile_names(manager_client, django_capture_on_commit_callbacks)
    job = run_job(
        manager_client,
        reverse("customers:export"),
        {"query": "", "format": fmt},
        customer_export_task,
        django_capture_on_commit_callbacks,
    )
    rows = read(download(manager_client, reverse("job_download", args=[job.pk])), fmt)
    assert_inert(rows)
    names = {row[1] for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil","x")' in names and "'-2+3" in names
    # Phone numbers are signed numbers, not formulas: they stay as they are.
    assert "+8613900000000" in {row[2] for row in rows[1:]}


def test_import_error_report_is_inert(manager_client, django_capture_on_commit_callbacks):
    job = import_hostile_names(manager_client, django_capture_on_commit_callbacks)
    rows = read(download(manager_client, reverse("job_download", args=[job.pk])), "csv")
    assert_inert(rows)
    assert rows[1][2] == "'=BAD()"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_customers_purchases_export_is_inert(manager_client, manager_user, fmt):
    customer = CustomerFactory(name="@SUM(1+1)")
    for store in HOSTILE[:4]:  # (the store is one line of text: tab and line breaks are refused on the way in)
        transaction_record(customer=customer, amount=Decimal("10.00"), store=store, actor=manager_user)
    url = reverse("interactions:purchase_export", args=[customer.crm_number]) + f"?format={fmt}"
    rows = read(download(manager_client, url), fmt)
    assert_inert(rows)
    assert "'+cmd|' /C calc'!A0" in {row[3] for row in rows[1:]}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_writer_neutralises_a_leading_tab_or_carriage_return(fmt):
    writer = tabular.writer(fmt)
    writer.write_row(["\t=1+1", "\r=1+1", "-20", "+8613900000000", "a=b"])
    [row] = read(writer.close().read(), fmt)
    assert_inert([row])
    assert row[2:] == (["-20", "+8613900000000", "a=b"])
