"""Reading a stored table as a stream: the whole-file check, and the preview a web page may afford."""

import io

import pytest

from crm.lib.tables import ImportFileError, read_table, table_check, table_preview


def csv_file(count: int, tail: bytes = b"") -> io.BytesIO:
    body = "".join(f"会员{i},{13900000000 + i}\n" for i in range(count))
    return io.BytesIO(("name,mobile\n" + body).encode() + tail)


def test_the_preview_of_a_small_file_counts_its_rows():
    headers, rows, count = table_preview(csv_file(3), "m.csv", rows=5)
    assert headers == ["name", "mobile"] and rows[0] == ["会员0", "13900000000"] and count == 3


def test_the_preview_stops_at_its_rows_or_bytes_and_does_not_count():
    assert table_preview(csv_file(10), "m.csv", rows=5)[1:] == (
        [[f"会员{i}", f"{13900000000 + i}"] for i in range(5)],
        None,
    )
    _headers, rows, count = table_preview(csv_file(100_000), "m.csv", rows=100_000, max_bytes=64 * 1024)
    assert count is None and 1000 < len(rows) < 10_000


def test_the_preview_reads_gbk_whose_first_bytes_are_plain_ascii():
    # The bytes the encoding is guessed on are ASCII (valid UTF-8); the Chinese right after them is
    # GBK: the preview reads GBK, as the whole-file check would.
    window = 64 * 1024
    ascii_rows = b"name,mobile\n" + b"".join(b"Member %d,139%08d\n" % (i, i) for i in range(3000))
    ascii_rows = ascii_rows[: ascii_rows.rindex(b"\n", 0, window - 20) + 1]
    ascii_rows += b"Pad," + b"9" * (window - len(ascii_rows) - 5) + b"\n"
    assert len(ascii_rows) == window
    content = ascii_rows + "张三,13800000001\n".encode("gbk")
    _headers, rows, _count = table_preview(io.BytesIO(content), "m.csv", rows=10_000, max_bytes=window)
    assert rows[-1] == ["张三", "13800000001"]
    assert list(read_table(content, "m.csv")[1])[-1][1] == ["张三", "13800000001"]


def test_a_file_is_checked_whole_then_read_again_from_the_same_handle():
    file = csv_file(70_000)
    calls = []
    assert table_check(file, "m.csv", on_progress=calls.append) == (["name", "mobile"], 70_000)
    assert calls == [10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000]
    _headers, rows = read_table(file, "m.csv")
    assert sum(1 for _row in rows) == 70_000 and not file.closed


def test_the_whole_file_check_refuses_a_fault_past_any_preview():
    file = csv_file(20_000, tail=b"\xff\x80\n")
    assert table_preview(file, "m.csv", rows=10, max_bytes=64 * 1024)[2] is None
    with pytest.raises(ImportFileError, match="UTF-8 or GBK"):
        table_check(file, "m.csv")
