"""Reading uploaded tables (CSV in UTF-8 or GBK, or xlsx) and parsing their cells.

Shared by every importer (customers, transactions): see crm/importers.py.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from crm.lib.dates import EARLIEST_DATE, LATEST_DATE

TRUE = {"1", "y", "yes", "true", "是", "同意", "✓"}
FALSE = {"", "0", "n", "no", "false", "否", "不同意"}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%Y年%m月%d日"]
DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

Lines = Iterator[tuple[int, list[str]]]  # (line number, cells)

HEADER_LINE = re.compile(rb"[^\r\n]*")
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


def read_table(content: bytes, filename: str) -> tuple[list[str], Rows]:
    """Headers and (line number, cells) rows of a CSV (UTF-8 or GBK) or xlsx file; blank rows are skipped.

    The rows are read lazily, so a line that cannot be read raises ImportFileError while
    iterating; `table_check` reads the whole file once to find that before importing anything.
    """
    if PurePath(filename).suffix.lower() in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(content)
    else:
        rows = _csv_rows(_decode(content))
    try:
        _line, headers = next(rows)
    except StopIteration as e:
        raise ImportFileError(_("The file is empty or has no header row.")) from e
    headers = [h.strip() for h in headers]
    return headers, Rows(headers, ((n, cells) for n, cells in rows if any(c.strip() for c in cells)))


def table_check(content: bytes, filename: str) -> tuple[list[str], int]:
    """Headers and the number of rows, reading the whole file once: a line that cannot be
    read refuses the file (ImportFileError) before anything is imported, on every path."""
    headers, rows = read_table(content, filename)
    return headers, sum(1 for _row in rows)


def row_problem(cells: list[str], headers: list[str]) -> str | None:
    """Why a row cannot be imported by any importer, or None: cells past the header, or text no database can store."""
    filled = max((i + 1 for i, cell in enumerate(cells) if cell.strip()), default=0)
    if filled > len(headers):
        # Blank cells past the header (a trailing comma) lose nothing. (An xlsx header row is read
        # as wide as the sheet, so a spreadsheet's rows never reach past it.)
        return _(
            "This line has %(cells)d cells but the header has %(columns)d; put quotes around a cell that holds a comma."
        ) % {"cells": filled, "columns": len(headers)}
    for index, cell in enumerate(cells):
        if UNSTORABLE.search(cell):
            column = headers[index] if index < len(headers) and headers[index] else str(index + 1)
            return _("%(column)s: contains a NUL byte (an invisible control character), which cannot be stored.") % {
                "column": column
            }
    return None


def _xlsx_rows(content: bytes) -> Lines:
    # openpyxl raises many kinds of error for a file that is not a workbook, some of them only
    # once it reads a damaged sheet's rows; each means the same to the user.
    try:
        rows = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active.iter_rows(values_only=True)
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


def _csv_rows(text: str) -> Lines:
    """(first line number, cells): a quoted cell may span lines, so count lines, not rows."""
    reader = csv.reader(io.StringIO(text), strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise ImportFileError(
                _("Line %(line)d: a quote is not closed (or a cell is malformed), so the file cannot be read past it.")
                % {"line": start}
            ) from e
        yield start, cells
        start = reader.line_num + 1


def _decode(content: bytes) -> str:
    # Binary files (xls, an xlsx renamed .csv, UTF-16 "Unicode text", images) have a NUL byte
    # before their first line break; a NUL further on is a stray in a text file and costs only
    # its row (see row_problem), wherever it is.
    if content.find(b"\x00", 0, HEADER_LINE.match(content).end()) != -1:
        raise ImportFileError(_("This does not look like a CSV file (it contains binary data)."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file's text encoding is not UTF-8 or GBK; save it as UTF-8 CSV and try again."))


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
