"""Import cells from outside: random hostile rows mixed with good ones, through both importers.

The property: nothing escapes as an exception, every good row is imported, a row that no
importer may take (a NUL byte, cells past the header) is reported at its own line, and a
row reported as an error wrote nothing.
"""

import csv
import io

import pytest
from django.db.models import Sum
from hypothesis import event, given
from hypothesis import strategies as st

from crm.importers import IMPORTERS
from crm.lib.tables import parse_decimal, read_table
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from interactions.models import Transaction
from tests.hostile import hostile_date, hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db

CUSTOMER_HEADERS = ["姓名", "手机号", "邮箱", "生日", "入会日期", "会员号", "接收短信", "城市", "备注"]
ORDER_HEADERS = ["会员", "下单时间", "金额", "订单号", "数量", "渠道", "门店", "币种"]
POINTS_MAX = 2**31 - 1

hostile_cell = st.one_of(hostile_text, hostile_date, hostile_number)
# What may land in each column; None for the marker column (legacy number, order number), which names the row.
CUSTOMER_CELLS = [
    hostile_text,
    st.one_of(hostile_number, hostile_text),
    hostile_text,
    hostile_date,
    hostile_date,
    None,
    hostile_text,
    hostile_text,
    hostile_text,
]
ORDER_CELLS = [
    hostile_text,
    hostile_date,
    hostile_number,
    None,
    hostile_number,
    hostile_text,
    hostile_text,
    hostile_text,
]


def table(columns: list[st.SearchStrategy | None]) -> st.SearchStrategy:
    """Rows of a file: None for a good row, or how a row that starts out good is made hostile."""
    hostile = [i for i, column in enumerate(columns) if column is not None]
    overrides = st.lists(st.sampled_from(hostile), min_size=1, max_size=3, unique=True).flatmap(
        lambda picked: st.tuples(*(columns[i] for i in picked)).map(lambda cells: dict(zip(picked, cells, strict=True)))
    )
    hostile_row = st.fixed_dictionaries(
        {
            "overrides": st.one_of(st.just({}), overrides, overrides),
            "marker_tail": st.sampled_from(["", "", "", "\x00", "x" * 70]),  # a NUL, or too long for the column
            "extra": st.one_of(st.just([]), st.just([]), st.lists(hostile_cell, min_size=1, max_size=3)),
            "shorter": st.integers(min_value=0, max_value=3),  # trailing cells left out: blank, which is fine
        }
    )
    return st.lists(st.one_of(st.none(), hostile_row), min_size=1, max_size=12)


def good_customer(i: int, marker: str) -> list[str]:
    return [f"Good {i}", f"137{i:08d}", f"good{i}@example.com", "1990-01-02", "2020-01-01", marker, "是", "杭州", ""]


def good_order(i: int, marker: str, crm: str) -> list[str]:
    return [crm, f"2026-01-{i % 28 + 1:02d} 10:00", "10.50", marker, "1", "门店", "西湖店", "CNY"]


def make_row(row: dict | None, i: int, kind: str, crm: str) -> list[str]:
    marker = f"G-{i}-" if row is None else f"H-{i}-{row['marker_tail']}"
    cells = good_customer(i, marker) if kind == "customers" else good_order(i, marker, crm)
    if row is None:
        return cells
    for index, cell in row["overrides"].items():
        cells[index] = cell
    return cells[: len(cells) - row["shorter"]] + row["extra"]


def write_csv(headers: list[str], rows: list[list[str]]) -> tuple[bytes, list[int]]:
    """The file, and the line each row starts on (a quoted cell with line breaks spans lines)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)  # "\r\n" ends a row, so a cell with a "\r" or "\n" in it is quoted
    writer.writerow(headers)
    lines = []
    for cells in rows:
        lines.append(out.getvalue().count("\n") + 1)
        writer.writerow(cells)
    return out.getvalue().encode(), lines


def must_fail(row: dict, cells: list[str], width: int) -> bool:
    """What every importer refuses, whatever the other cells mean: a NUL, cells past the header, a marker too long."""
    return any("\x00" in c for c in cells) or any(c.strip() for c in cells[width:]) or len(row["marker_tail"]) > 1


def check_import(kind: str, headers: list[str], drawn: list[dict | None], crm: str, stored) -> None:
    rows = [make_row(row, i, kind, crm) for i, row in enumerate(drawn)]
    content, lines = write_csv(headers, rows)
    importer = IMPORTERS[kind]
    before = table_counts()
    file_headers, read = read_table(content, "hostile.csv")
    report = importer.run(read, mapping=importer.guess_mapping(file_headers), actor=None)

    errors = {line: reason for line, _cells, reason in report.errors}
    assert len(errors) == len(report.errors), "one report per line"
    assert report.created + report.skipped + len(errors) == len(rows)
    assert table_counts()[stored._meta.label] - before[stored._meta.label] == report.created
    for i, (row, cells, line) in enumerate(zip(drawn, rows, lines, strict=True)):
        marker = f"{'H' if row else 'G'}-{i}-"
        written = stored.objects.filter(**{f"{_marker_field(stored)}__startswith": marker}).exists()
        if row is None:
            assert line not in errors and written, f"good line {line} not imported: {errors.get(line)}"
        elif must_fail(row, cells, len(headers)):
            assert line in errors and not written, f"bad line {line} not reported"
        if row is not None:
            event("a hostile row was imported" if written else "a hostile row was reported")
        if line in errors:
            assert not written, f"line {line} was reported ({errors[line]}) but written"
            if "database refused" in errors[line]:
                # Validation catches the rest first; only points past a Postgres integer (the purchase's own,
                # or the member's balance) are left to the database.
                assert kind == "transactions", errors[line]
                stored_amounts = Transaction.objects.aggregate(total=Sum("amount", default=0))["total"]
                assert parse_decimal(cells[2]) + stored_amounts >= POINTS_MAX, errors[line]


def _marker_field(model) -> str:
    return "legacy_number" if model is Customer else "external_ref"


@pytest.fixture
def member():
    return CustomerFactory(mobile="+8613600000001").crm_number_display


@given(drawn=table(CUSTOMER_CELLS))
def test_hostile_customer_cells_cost_only_their_rows(drawn, member):
    with rolled_back():
        check_import("customers", CUSTOMER_HEADERS, drawn, member, Customer)


@given(drawn=table(ORDER_CELLS))
def test_hostile_purchase_cells_cost_only_their_rows(drawn, member):
    with rolled_back():
        check_import("transactions", ORDER_HEADERS, drawn, member, Transaction)
