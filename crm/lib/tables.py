"""Reading uploaded tables (CSV in UTF-8 or GBK, or xlsx) and parsing their cells.

Shared by every importer (customers, transactions): see crm/importers.py.
"""

import codecs
import csv
import datetime
import io
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from itertools import islice
from pathlib import PurePath
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from crm.lib.dates import EARLIEST_DATE, LATEST_DATE

TRUE = {"1", "y", "yes", "true", "是", "同意", "✓"}
FALSE = {"", "0", "n", "no", "false", "否", "不同意"}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%Y年%m月%d日"]
DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

Lines = Iterator[tuple[int, list[str]]]  # (line number, cells)

ENCODINGS = ("utf-8-sig", "gb18030")  # tried in this order
CHUNK = 64 * 1024  # bytes read at a time
REPORT_ROWS = 10_000  # rows between two progress calls of table_check
LINE_BREAK = re.compile(rb"[\r\n]")
# Postgres text holds any character but NUL (and surrogates, which no UTF-8 file can carry).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, format, no header)."""


class Rows(Lines):
    """A table's rows as (line number, cells), read lazily, blank ones skipped; they know their
    header, so an importer can report a row with more cells than it (see row_problem)."""

    def __init__(self, headers: list[str], lines: Lines):
        self.headers = headers
        self._lines = lines

    def __next__(self) -> tuple[int, list[str]]:
        return next(self._lines)


def read_table(source: bytes | BinaryIO, filename: str, *, encoding: str | None = None) -> tuple[list[str], Rows]:
    """Headers and (line number, cells) rows of a CSV (UTF-8 or GBK) or xlsx file; blank rows are skipped.

    `source` is the file's bytes or a seekable binary file (a stored upload), read as a stream: a CSV
    through a text wrapper a chunk at a time, so a big file is never held whole. A CSV's encoding is
    found by decoding the whole file once (UTF-8, else GBK), unless `encoding` names it. The rows are
    read lazily, so a line that cannot be read raises ImportFileError while iterating; `table_check`
    reads the whole file once to find that before importing anything.
    """
    file = io.BytesIO(source) if isinstance(source, bytes) else source
    file.seek(0)
    if _is_xlsx(filename):
        rows = _xlsx_rows(file)
    else:
        _refuse_binary(file)
        rows = _csv_rows(file, encoding or csv_encoding(file))
    try:
        _line, headers = next(rows)
    except StopIteration as e:
        raise ImportFileError(_("The file is empty or has no header row.")) from e
    headers = [h.strip() for h in headers]
    return headers, Rows(headers, ((n, cells) for n, cells in rows if any(c.strip() for c in cells)))


def table_check(
    source: bytes | BinaryIO, filename: str, *, on_progress: Callable[[int], None] | None = None
) -> tuple[list[str], int]:
    """Headers and the number of rows, reading the whole file once: a line that cannot be
    read refuses the file (ImportFileError) before anything is imported, on every path.
    `on_progress(rows)` is called every REPORT_ROWS rows, for a job's heartbeat."""
    headers, rows = read_table(source, filename)
    count = 0
    for count, _row in enumerate(rows, 1):
        if on_progress and count % REPORT_ROWS == 0:
            on_progress(count)
    return headers, count


def table_preview(
    file: BinaryIO, filename: str, *, rows: int, max_bytes: int = 1024 * 1024
) -> tuple[list[str], list[list[str]], int | None]:
    """Headers, the first `rows` rows and the row count if the file ended within them (else None),
    reading no more than those rows and about `max_bytes` of a CSV: what a web request may afford.

    A line among them that cannot be read refuses the file as `table_check` would; the rest of a
    bigger file is checked by the job. The encoding is chosen on the bytes read.
    """
    is_csv = not _is_xlsx(filename)
    encodings: list[str | None] = [None]
    if is_csv:
        _refuse_binary(file)
        guessed = csv_encoding(file, limit=max_bytes)
        encodings = [guessed, *(e for e in ENCODINGS if e != guessed)]
    for encoding in encodings:
        first, cut = [], False
        try:
            headers, lines = read_table(file, filename, encoding=encoding)
            for _line, cells in islice(lines, rows + 1):
                first.append(cells)
                if is_csv and file.tell() > max_bytes:
                    cut = True
                    break
        except UnicodeDecodeError:
            continue  # UTF-8 in the first bytes, not further on: read as GBK, as the whole file would be
        return headers, first[:rows], len(first) if len(first) <= rows and not cut else None
    raise ImportFileError(_encoding_error())


def csv_encoding(file: BinaryIO, *, limit: int | None = None) -> str:
    """UTF-8 if the file (or its first `limit` bytes) decodes as UTF-8, else GBK; read a chunk at a time."""
    for encoding in ENCODINGS:
        file.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        left = limit
        try:
            while chunk := file.read(CHUNK if left is None else min(CHUNK, left)):
                decoder.decode(chunk)
                if left is not None:
                    left -= len(chunk)
            if left is None or left > 0:  # the file ended: nothing may be left half a character
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        file.seek(0)
        return encoding
    raise ImportFileError(_encoding_error())


def _is_xlsx(filename: str) -> bool:
    return PurePath(filename).suffix.lower() in (".xlsx", ".xlsm")


def _encoding_error() -> str:
    return _("The file's text encoding is not UTF-8 or GBK; save it as UTF-8 CSV and try again.")


def _refuse_binary(file: BinaryIO) -> None:
    """Binary files (xls, an xlsx renamed .csv, UTF-16 "Unicode text", images) have a NUL byte before
    their first line break; a NUL further on is a stray in a text file and costs only its row (see
    row_problem), wherever it is."""
    file.seek(0)
    while chunk := file.read(CHUNK):
        head = LINE_BREAK.split(chunk, maxsplit=1)[0]
        if b"\x00" in head:
            raise ImportFileError(_("This does not look like a CSV file (it contains binary data)."))
        if len(head) < len(chunk):
            break
    file.seek(0)


def row_problem(cells: list[str], headers: list[str]) -> str | None:
    """Why a row cannot be imported by any importer, or None: cells past the header, or text no database can store."""
    # Both checks look at every cell, so each starts with one cheap test that passes for almost every row.
    filled = max((i + 1 for i, cell in enumerate(cells) if cell.strip()), default=0) if len(cells) > len(headers) else 0
    if filled > len(headers):
        # Blank cells past the header (a trailing comma) lose nothing. (An xlsx header row is read
        # as wide as the sheet, so a spreadsheet's rows never reach past it.)
        return _(
            "This line has %(cells)d cells but the header has %(columns)d; put quotes around a cell that holds a comma."
        ) % {"cells": filled, "columns": len(headers)}
    if not UNSTORABLE.search("".join(cells)):
        return None
    for index, cell in enumerate(cells):
        if UNSTORABLE.search(cell):
            column = headers[index] if index < len(headers) and headers[index] else str(index + 1)
            return _("%(column)s: contains a NUL byte (an invisible control character), which cannot be stored.") % {
                "column": column
            }
    return None


def _xlsx_rows(file: BinaryIO) -> Lines:
    # openpyxl raises many kinds of error for a file that is not a workbook, some of them only
    # once it reads a damaged sheet's rows; each means the same to the user.
    try:
        rows = load_workbook(file, read_only=True, data_only=True).active.iter_rows(values_only=True)
    except Exception as e:
        raise ImportFileError(_("This is not a readable Excel (xlsx) file.")) from e
    line = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as e:
            raise ImportFileError(
                _("Row %(line)d: the Excel (xlsx) file is damaged here, so it cannot be read past it.")
                % {"line": line + 1}
            ) from e
        line += 1
        yield line, [_cell(v) for v in row]


def _csv_rows(file: BinaryIO, encoding: str) -> Lines:
    """(first line number, cells): a quoted cell may span lines, so count lines, not rows."""
    # Lines end at "\n" only, as they are numbered (a lone "\r" stays in its cell, as it always has).
    text = io.TextIOWrapper(file, encoding=encoding, newline="\n")
    try:
        reader = csv.reader(text, strict=True)
        start = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise ImportFileError(
                    _(
                        "Line %(line)d: a quote is not closed (or a cell is malformed), "
                        "so the file cannot be read past it."
                    )
                    % {"line": start}
                ) from e
            yield start, cells
            start = reader.line_num + 1
    finally:
        text.detach()  # the file is the caller's: read it again, close it


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.time() else value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_date(text: str) -> datetime.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)  # the common case, and far faster than strptime
    except ValueError:
        day = None
    for fmt in DATE_FORMATS if day is None else ():
        try:
            day = datetime.datetime.strptime(text, fmt).date()
            break
        except ValueError:
            continue
    if day is None:
        raise ValidationError(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": shown(text)})
    return _within_range(day, text)


def parse_datetime(text: str) -> datetime.datetime | None:
    """A naive date and time (the caller makes it aware); a bare date means midnight."""
    text = text.strip()
    for fmt in DATETIME_FORMATS:
        try:
            when = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        _within_range(when.date(), text)
        return when
    day = parse_date(text)
    return datetime.datetime.combine(day, datetime.time()) if day else None


def _within_range(day: datetime.date, text: str) -> datetime.date:
    # Years near 1 or 9999 parse, but overflow once a time zone or a day is added.
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            _("“%(value)s” is not between %(earliest)s and %(latest)s.")
            % {"value": shown(text), "earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()}
        )
    return day


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": shown(text)})


def parse_decimal(text: str) -> Decimal | None:
    text = text.strip().replace(",", "").removeprefix("¥").removeprefix("￥")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():  # NaN and Infinity parse, but are no amount
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": shown(text)})
    return number


def shown(text: str, limit: int = 40) -> str:
    """A cell as an error message quotes it: a huge cell is cut, so the message stays readable."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
