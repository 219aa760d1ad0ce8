import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.lib.tables import read_table
from crm.models import Job, JobStatus
from crm.tasks import import_task
from customers.tests.factories import CustomerFactory, TierFactory
from interactions.imports import TRANSACTIONS
from interactions.models import Transaction, TransactionSource
from interactions.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def members():
    TierFactory(name="普通", rank=0, min_spend=0)
    return {
        "crm": CustomerFactory(name="按编号"),
        "legacy": CustomerFactory(name="按会员号", legacy_number="OLD-9"),
        "phone": CustomerFactory(name="按手机", mobile="+8613600000009"),
    }


def orders(members) -> str:
    crm = members["crm"].crm_number_display
    return (
        "会员,下单时间,实付金额,订单号,渠道,门店,货号,数量\n"
        f"{crm},2026-03-01 10:00,199.00,A-1,门店,西湖店,SKU-1,2\n"
        "OLD-9,2026/03/02,88,A-2,网店,,,\n"
        "136 0000 0009,2026-03-03,0,A-3,,,,\n"
        "136 0000 0009,2026-03-03,-5,A-4,,,,\n"
        "99999999,2026-03-04,10,A-5,,,,\n"
        f"{crm},someday,10,A-6,,,,\n"
        f"{crm},2026-03-05,10,A-1,,,,\n"
        "136 0000 0009,2026-03-06,66.6,,,,,\n"
    )


def run(text: str, encoding="utf-8"):
    headers, rows = read_table(text.encode(encoding), "orders.csv")
    return TRANSACTIONS.run(rows, mapping=TRANSACTIONS.guess_mapping(headers), actor=None)


def test_good_orders_go_in_and_bad_ones_are_reported_by_line(members):
    ProductFactory(sku="SKU-1", name="丝巾")
    report = run(orders(members))
    lines = {line: reason for line, _cells, reason in report.errors}
    assert report.created == 3
    assert sorted(lines) == [4, 5, 6, 7, 8]
    assert "more than 0" in lines[4] and "more than 0" in lines[5]
    assert "No such customer" in lines[6]
    assert "not a date" in lines[7]
    assert "Same order as line 2" in lines[8]
    first = Transaction.objects.get(external_ref="A-1")
    assert (first.customer, first.amount, first.source) == (members["crm"], Decimal("199.00"), TransactionSource.IMPORT)
    assert first.lines.get().quantity == 2 and first.lines.get().product.sku == "SKU-1"
    assert Transaction.objects.get(external_ref="A-2").customer == members["legacy"]
    assert Transaction.objects.get(customer=members["phone"]).amount == Decimal("66.60")


def test_imported_purchases_earn_points(members):
    ProductFactory(sku="SKU-1")
    run(orders(members))
    members["crm"].refresh_from_db()
    assert members["crm"].points_balance == 199


def test_importing_the_same_file_twice_adds_nothing(members):
    ProductFactory(sku="SKU-1")
    run(orders(members))
    again = run(orders(members))
    assert Transaction.objects.count() == 3
    assert (again.created, again.skipped) == (0, 3)


def test_unknown_sku_is_reported(members):
    report = run(f"会员,日期,金额,货号\n{members['crm'].crm_number},2026-01-01,10,NOPE\n")
    assert report.created == 0 and "No product with this SKU" in report.errors[0][2]


def test_gbk_file_and_upload_page(members, manager_client, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    file = io.BytesIO(f"会员,日期,金额\n{members['crm'].crm_number},2026-01-01,10\n".encode("gbk"))
    file.name = "orders.csv"
    response = manager_client.post(reverse("import"), {"file": file, "importer": "transactions"})
    columns = {"col_0": "customer", "col_1": "occurred_at", "col_2": "amount"}
    with django_capture_on_commit_callbacks():
        manager_client.post(response.url, columns)
    job = Job.objects.get(kind="transactions_import")
    import_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and "1 created" in job.message


def test_import_command_for_transactions(members, tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text(f"会员,日期,金额\n{members['crm'].crm_number},2026-01-01,10\n,2026-01-01,10\n", encoding="utf-8")
    call_command("import_file", "transactions", str(path))
    out, err = capsys.readouterr()
    assert "1 created" in out and "line 3:" in err


def test_marketing_cannot_import_purchases(marketing_client):
    assert marketing_client.get(reverse("import")).status_code == 403


def test_channel_names_in_either_language_are_accepted(members):
    text = (
        "会员,日期,金额,渠道\n"
        f"{members['crm'].crm_number},2026-01-01,10,电话订购\n"
        f"{members['crm'].crm_number},2026-01-02,10,Online shop\n"
    )
    assert run(text).created == 2
    assert sorted(Transaction.objects.values_list("channel", flat=True)) == ["online", "phone"]


def test_a_nul_byte_in_any_cell_costs_only_its_row(members):
    crm = members["crm"].crm_number
    report = run(
        "会员,日期,金额,订单号,门店,货号\n"
        f"{crm},2026-01-01,10,B-1,,\n"
        f"{crm}\x00,2026-01-02,10,B-2,,\n"
        f"{crm},2026-01-03,10,B-3,西湖\x00店,\n"
        f"{crm},2026-01-04,10,B-4,,SKU\x00\n"
        f"{crm},2026-01-05,10,B-5,,\n"
    )
    assert sorted(Transaction.objects.values_list("external_ref", flat=True)) == ["B-1", "B-5"]
    assert [line for line, _cells, _reason in report.errors] == [3, 4, 5]
    assert all("NUL" in reason for _line, _cells, reason in report.errors)


@pytest.mark.parametrize(
    ("amount", "quantity", "reason"),
    [
        ("NaN", "", "not a number"),
        ("inf", "", "not a number"),
        ("1e20", "", "digits"),
        ("12345678901", "", "digits"),
        ("10.005", "", "decimal places"),
        ("10", "1.5", "whole number"),
        ("10", "1e30", "Quantity"),
        ("10", "1e999999999", "Quantity"),
        ("10", "0", "at least 1"),
    ],
)
def test_amounts_and_quantities_the_database_cannot_hold_are_reported(members, amount, quantity, reason):
    ProductFactory(sku="SKU-1")
    crm = members["crm"].crm_number
    report = run(
        "会员,日期,金额,订单号,货号,数量\n"
        f"{crm},2026-01-01,{amount},C-1,SKU-1,{quantity}\n"
        f"{crm},2026-01-02,10,C-2,SKU-1,2\n"
    )
    assert list(Transaction.objects.values_list("external_ref", flat=True)) == ["C-2"]
    [(line, _cells, message)] = report.errors
    assert line == 2 and reason in message


@pytest.mark.parametrize("when", ["9999-12-31", "0001-01-01", "1899-12-31", "2999-01-01"])
def test_purchase_dates_out_of_range_are_reported(members, when):
    crm = members["crm"].crm_number
    report = run(f"会员,日期,金额,订单号\n{crm},{when},10,D-1\n{crm},2026-01-02,10,D-2\n")
    assert list(Transaction.objects.values_list("external_ref", flat=True)) == ["D-2"]
    assert [line for line, _cells, _reason in report.errors] == [2]


def test_over_long_store_and_order_number_are_reported_not_cut(members):
    crm = members["crm"].crm_number
    report = run(
        "会员,日期,金额,订单号,门店,币种\n"
        f"{crm},2026-01-01,10,{'E' * 65},,\n"
        f"{crm},2026-01-02,10,E-2,{'店' * 101},\n"
        f"{crm},2026-01-03,10,E-3,,C\x01Y\n"
        f"{crm},2026-01-04,10,E-4,{'店' * 100},cny\n"
    )
    assert list(Transaction.objects.values_list("external_ref", flat=True)) == ["E-4"]
    reasons = {line: reason for line, _cells, reason in report.errors}
    assert "at most 64 characters" in reasons[2] and "at most 100 characters" in reasons[3]
    assert "three-letter" in reasons[4]


def test_a_row_with_more_cells_than_the_header_is_reported(members):
    crm = members["crm"].crm_number
    report = run(f"会员,日期,金额\n{crm},2026-01-01,10,A-9\n{crm},2026-01-02,10,,\n")
    assert Transaction.objects.count() == 1
    [(line, _cells, reason)] = report.errors
    assert line == 2 and "4 cells but the header has 3" in reason


def test_import_command_refuses_a_file_with_an_unclosed_quote(members, tmp_path):
    path = tmp_path / "orders.csv"
    crm = members["crm"].crm_number
    path.write_text(f'会员,日期,金额\n{crm},2026-01-01,10\n"{crm},2026-01-02,10\n', encoding="utf-8")
    with pytest.raises(CommandError, match="Line 3: a quote is not closed"):
        call_command("import_file", "transactions", str(path))
    assert not Transaction.objects.exists()


def test_a_row_the_database_refuses_costs_only_itself(members):
    crm = members["crm"].crm_number
    # The column holds the amount, but not the points it would earn (more than a Postgres integer).
    report = run(
        f"会员,日期,金额,订单号\n{crm},2026-01-01,10,F-1\n{crm},2026-01-02,9999999999.99,F-2\n{crm},2026-01-03,10,F-3\n"
    )
    assert sorted(Transaction.objects.values_list("external_ref", flat=True)) == ["F-1", "F-3"]
    assert report.created == 2 and [line for line, _cells, _reason in report.errors] == [3]
    members["crm"].refresh_from_db()
    assert members["crm"].points_balance == 20
