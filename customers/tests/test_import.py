import csv
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from crm.lib.tables import ImportFileError, read_table
from customers.imports import CUSTOMERS
from customers.models import ConsentEvent, Customer, Source
from customers.tests.factories import GOOD_AND_BAD, CustomerFactory, TierFactory

pytestmark = pytest.mark.django_db


def run(text: str, encoding="utf-8", filename="members.csv"):
    TierFactory(name="金卡")
    headers, rows = read_table(text.encode(encoding), filename)
    return CUSTOMERS.run(rows, mapping=CUSTOMERS.guess_mapping(headers), actor=None)


def test_good_rows_go_in_and_bad_rows_are_reported_with_line_numbers():
    report = run(GOOD_AND_BAD)
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张三", "钱七"]
    lines = {line: reason for line, _cells, reason in report.errors}
    assert sorted(lines) == [3, 4, 5, 6]
    assert "mainland China mobile" in lines[3]
    assert "Name" in lines[4]
    assert "future" in lines[5]
    assert "Unknown tier" in lines[6]
    zhang = Customer.objects.get(name="张三")
    assert (zhang.mobile, zhang.tier.name, zhang.legacy_number, zhang.source) == (
        "+8613800000001",
        "金卡",
        "OLD-1",
        Source.IMPORT,
    )
    assert zhang.sms_opt_in and ConsentEvent.objects.filter(customer=zhang, channel="sms", granted=True).exists()


def test_importing_the_same_file_twice_creates_no_duplicates():
    run(GOOD_AND_BAD)
    report = run(GOOD_AND_BAD)
    assert Customer.objects.count() == 2
    assert (report.created, report.skipped) == (0, 2)


def test_gbk_encoded_file_is_read():
    report = run("姓名,手机号\n孙八,13800000008\n", encoding="gbk")
    assert report.created == 1 and Customer.objects.get().name == "孙八"


def test_same_member_twice_in_one_file_is_reported():
    report = run("姓名,手机号\n甲,13800000009\n乙,138 0000 0009\n")
    assert report.created == 1
    assert report.errors[0][0] == 3 and "line 2" in report.errors[0][2]


def test_row_matching_an_existing_customer_is_skipped_not_duplicated():
    CustomerFactory(mobile="+8613800000010")
    report = run("姓名,手机号\n已存在,13800000010\n")
    assert (report.created, report.skipped) == (0, 1)


def test_binary_file_is_refused_with_a_clear_message():
    with pytest.raises(ImportFileError, match="binary"):
        read_table(b"\x00\x01\x02PK\x00", "members.csv")


def test_file_in_another_encoding_is_refused_with_a_clear_message():
    with pytest.raises(ImportFileError, match="UTF-8 or GBK"):
        read_table(b"name\n\xff\x80\n", "members.csv")


def test_xlsx_is_read():
    book = Workbook()
    book.active.append(["Name", "Mobile", "Birthday"])
    book.active.append(["Amy Chen", "13800000011", "1992-03-04"])
    out = io.BytesIO()
    book.save(out)
    headers, rows = read_table(out.getvalue(), "members.xlsx")
    report = CUSTOMERS.run(rows, mapping=CUSTOMERS.guess_mapping(headers), actor=None)
    assert report.created == 1 and Customer.objects.get().birthday.isoformat() == "1992-03-04"


def test_management_command_reports_progress_and_writes_error_rows(tmp_path, capsys):
    TierFactory(name="金卡")
    path = tmp_path / "members.csv"
    path.write_text(GOOD_AND_BAD, encoding="gbk")
    call_command("import_file", "customers", str(path))
    out, err = capsys.readouterr()
    assert "rows read: 6" in out and "2 created" in out
    assert "line 3:" in err
    assert (tmp_path / "members.csv.errors.csv").read_text(encoding="utf-8-sig").count("\n") == 5


def test_a_short_row_just_lacks_the_optional_columns():
    report = run("姓名,手机号,邮箱\n短行\n完整,13800000013,ok@example.com\n")
    assert report.created == 2 and not report.errors


def test_an_unclosed_quote_names_its_line():
    headers, rows = read_table('姓名,手机号\n好,13800000015\n"未闭合,13800000012\n后面,13800000016\n'.encode(), "m.csv")
    with pytest.raises(ImportFileError, match="Line 3: a quote is not closed"):
        list(rows)


def test_line_numbers_count_lines_when_a_cell_spans_two():
    report = run('姓名,手机号,备注\n甲,13800000017,"第一行\n第二行"\n乙,12345,\n')
    assert [line for line, _cells, _reason in report.errors] == [4]


def test_a_file_without_a_name_column_cannot_be_mapped():
    headers, _rows = read_table("手机号,邮箱\n13800000014,a@example.com\n".encode(), "members.csv")
    assert CUSTOMERS.mapping_errors(CUSTOMERS.guess_mapping(headers)) == ["No column is mapped to Name."]


def test_text_with_tabs_newlines_and_backslashes_arrives_unchanged():
    notes = "line one\nline\ttwo \\N and C:\\path"
    run('姓名,手机号,备注\n"O\'Brien \\\\ 王",13800000018,"' + notes + '"\n')
    customer = Customer.objects.get()
    assert (customer.name, customer.notes) == ("O'Brien \\\\ 王", notes)


def members_csv(count: int) -> list[str]:
    return [f"会员{i:03d},{13900000000 + i},OLD-{i:03d},member{i}@example.com" for i in range(count)]


def test_a_nul_byte_past_the_first_4_kib_costs_only_its_row():
    lines = ["姓名,手机号,会员号,邮箱", *members_csv(120)]
    lines.insert(100, "坏\x00人,13800000099,OLD-NUL,nul@example.com")  # file line 101, well past 4 KiB
    assert len("\n".join(lines[:100]).encode()) > 4096
    report = run("\n".join(lines) + "\n")
    assert report.created == 120 and Customer.objects.count() == 120
    [(line, cells, reason)] = report.errors
    assert line == 101 and cells[0] == "坏\x00人"
    assert "姓名" in reason and "NUL" in reason
    assert not Customer.objects.filter(legacy_number="OLD-NUL").exists()


def test_a_nul_byte_in_an_early_row_costs_only_that_row_not_the_file():
    report = run("姓名,手机号\n甲,13800000021\n乙\x00,13800000022\n丙,13800000023\n")
    assert report.created == 2 and [line for line, _c, _r in report.errors] == [3]


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",  # an xlsx (zip) saved with a .csv name
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00",  # an old .xls
        "name,mobile\n甲,13800000024\n".encode("utf-16-le"),  # Excel's "Unicode text"
    ],
)
def test_a_binary_file_is_still_refused_as_a_whole(content):
    with pytest.raises(ImportFileError, match="binary"):
        read_table(content + b"\n" + "甲,13800000025\n".encode() * 500, "members.csv")


def test_a_row_with_more_cells_than_the_header_is_reported_with_its_line():
    report = run("姓名,手机号\n甲,13800000026\n乙,13800000027,多出来的,还有\n丙,13800000028,,\n")
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["丙", "甲"]
    [(line, cells, reason)] = report.errors
    assert line == 3 and cells[2:] == ["多出来的", "还有"]
    assert "4 cells but the header has 2" in reason


def test_over_long_values_are_reported_not_cut():
    report = run(f"姓名,手机号,会员号\n{'长' * 101},13800000029,\n好,13800000030,{'9' * 41}\n")
    assert report.created == 0
    reasons = [reason for _line, _cells, reason in report.errors]
    assert "at most 100 characters" in reasons[0] and "at most 40 characters" in reasons[1]


def test_a_long_bad_value_is_shortened_in_its_error_message():
    report = run(f"姓名,生日\n甲,{'x' * 5000}\n")
    [(_line, cells, reason)] = report.errors
    assert len(cells[1]) == 5000 and len(reason) < 200


def test_management_command_refuses_a_file_with_an_unclosed_quote_like_the_upload_page(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text('姓名,手机号\n好,13800000031\n"未闭合,13800000032\n后面,13800000033\n', encoding="utf-8")
    with pytest.raises(CommandError, match="Line 3: a quote is not closed"):
        call_command("import_file", "customers", str(path))
    assert not Customer.objects.exists()


def test_management_command_error_file_holds_no_live_formula(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text('姓名,手机号\n"=HYPERLINK(""http://evil"",""x"")",12345\n@SUM(1+1),67890\n', encoding="utf-8")
    call_command("import_file", "customers", str(path))
    with (tmp_path / "members.csv.errors.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert [row[0] for row in rows[1:]] == ["2", "3"]
    assert rows[1][2].endswith('=HYPERLINK("http://evil","x")') and rows[2][2].endswith("@SUM(1+1)")
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_chunks_go_in_on_a_second_thread_with_the_same_result(monkeypatch):
    """The job and the command run outside a transaction: the database writes one chunk while the next is
    parsed. The result is the same as inline: every good row once, each bad one reported, a re-run adds nothing."""
    monkeypatch.setattr("customers.imports.CHUNK", 3)
    TierFactory(name="金卡")
    good = [f"会员{i},{13900000000 + i},m{i}@example.com,2000-01-0{1 + i % 9},是" for i in range(20)]
    lines = [
        "姓名,手机号,邮箱,生日,接收短信",
        *good[:7],
        "坏,12345,,,",
        good[3],
        *good[7:],
        "没有日期,13700000000,,1990-02-30,",
    ]
    text = "\n".join(lines) + "\n"

    def run_threaded():
        headers, rows = read_table(text.encode(), "members.csv")
        return CUSTOMERS.run(rows, mapping=CUSTOMERS.guess_mapping(headers), actor=None)

    report = run_threaded()
    assert (report.created, report.skipped) == (20, 0)
    assert [line for line, _cells, _reason in report.errors] == [9, 10, 24]
    assert "line 5" in report.errors[1][2] and "date" in report.errors[2][2]
    assert Customer.objects.count() == 20 and ConsentEvent.objects.count() == 20
    assert report.members == list(Customer.objects.order_by("id").values_list("id", flat=True))
    again = run_threaded()
    assert (again.created, again.skipped, len(again.errors)) == (0, 20, 3) and Customer.objects.count() == 20
