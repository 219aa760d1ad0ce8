import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import Workbook

from crm.models import Job, JobStatus
from customers.imports import ImportFileError, guess_mapping, import_rows, read_table
from customers.models import ConsentEvent, Customer, Source
from customers.tasks import customer_import_task
from customers.tests.factories import CustomerFactory, TierFactory

pytestmark = pytest.mark.django_db

GOOD_AND_BAD = (
    "姓名,手机号,邮箱,生日,会员等级,会员号,接收短信\n"
    "张三,13800000001,zhang@example.com,1990-01-02,金卡,OLD-1,是\n"
    "李四,12345,li@example.com,1991-02-03,,OLD-2,否\n"
    ",13800000003,,,,OLD-3,\n"
    "王五,13800000004,wang@example.com,2999-01-01,,OLD-4,\n"
    "赵六,13800000005,zhao@example.com,1985/06/07,钻石王者,OLD-5,\n"
    "钱七,+86 138 0000 0006,qian@example.com,,,OLD-6,\n"
)


def run(text: str, encoding="utf-8", filename="members.csv"):
    TierFactory(name="金卡")
    headers, rows = read_table(text.encode(encoding), filename)
    return import_rows(rows, mapping=guess_mapping(headers), actor=None)


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
    report = import_rows(rows, mapping=guess_mapping(headers), actor=None)
    assert report.created == 1 and Customer.objects.get().birthday.isoformat() == "1992-03-04"


def test_upload_preview_mapping_and_job(manager_client, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = io.BytesIO(GOOD_AND_BAD.encode())
    upload.name = "members.csv"
    response = manager_client.post(reverse("customers:import"), {"file": upload})
    assert response.status_code == 302
    preview = manager_client.get(response.url)
    body = preview.content.decode()
    assert "6 rows to import" in body and "张三" in body
    columns = {
        f"col_{i}": field
        for i, field in enumerate(["name", "mobile", "email", "birthday", "tier", "legacy_number", "sms_opt_in"])
    }
    TierFactory(name="金卡")
    with django_capture_on_commit_callbacks() as callbacks:
        done = manager_client.post(response.url, columns)
    job = Job.objects.get(kind="customer_import")
    assert done.url == job.get_absolute_url() and len(callbacks) == 1
    customer_import_task(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and "2 created" in job.message and "4 with errors" in job.message
    errors = b"".join(manager_client.get(reverse("job_download", args=[job.pk])).streaming_content)
    assert errors.decode("utf-8-sig").splitlines()[1].startswith("3,")
    assert "Download the rows with errors" in manager_client.get(job.get_absolute_url()).content.decode()


def test_mapping_without_a_name_column_is_refused_and_keeps_the_choices(manager_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = io.BytesIO(b"a,b\n1,2\n")
    upload.name = "x.csv"
    url = manager_client.post(reverse("customers:import"), {"file": upload}).url
    response = manager_client.post(url, {"col_0": "mobile", "col_1": ""})
    assert "No column is mapped to Name" in response.content.decode()
    assert not Job.objects.exists()


def test_upload_of_a_binary_file_says_why(manager_client):
    upload = io.BytesIO(b"\x00\x01\x02")
    upload.name = "x.csv"
    response = manager_client.post(reverse("customers:import"), {"file": upload})
    assert response.status_code == 200 and "binary data" in response.content.decode()


def test_sales_and_marketing_may_not_import(sales_client, marketing_client):
    assert sales_client.get(reverse("customers:import")).status_code == 403
    assert marketing_client.get(reverse("customers:import")).status_code == 403


def test_management_command_reports_progress_and_writes_error_rows(tmp_path, capsys):
    TierFactory(name="金卡")
    path = tmp_path / "members.csv"
    path.write_text(GOOD_AND_BAD, encoding="gbk")
    call_command("import_customers", str(path))
    out, err = capsys.readouterr()
    assert "rows read: 6" in out and "2 created" in out
    assert "line 3:" in err
    assert (tmp_path / "members.csv.errors.csv").read_text(encoding="utf-8-sig").count("\n") == 5
