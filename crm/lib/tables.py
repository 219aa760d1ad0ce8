"""Reading uploaded tables (CSV in UTF-8 or GBK, or xlsx) and parsing their cells.

Shared by every importer (customers, transactions): see crm/importers.py.
"""

import csv
import datetime
import io
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

TRUE = {"1", "y", "yes", "true", "是", "同意", "✓"}
FALSE = {"", "0", "n", "no", "false", "否", "不同意"}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%Y年%m月%d日"]
DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

Rows = Iterator[tuple[int, list[str]]]


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, format, no header)."""


def read_table(content: bytes, filename: str) -> tuple[list[str], Rows]:
    """Headers and (line number, cells) rows of a CSV (UTF-8 or GBK) or xlsx file; blank rows are skipped."""
    if PurePath(filename).suffix.lower() in (".xlsx", ".xlsm"):
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception as e:  # openpyxl raises many kinds for a file that is not a workbook
            raise ImportFileError(_("This is not a readable Excel (xlsx) file.")) from e
        rows = ((n, [_cell(v) for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1))
    else:
        rows = _csv_rows(_decode(content))
    try:
        _line, headers = next(rows)
    except (StopIteration, csv.Error) as e:
        raise ImportFileError(_("The file is empty or has no header row.")) from e
    headers = [h.strip() for h in headers]
    return headers, ((n, cells) for n, cells in rows if any(c.strip() for c in cells))


def _csv_rows(text: str) -> Rows:
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
    if b"\x00" in content[:4096]:
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
        return datetime.date.fromisoformat(text)  # the common case, and far faster than strptime
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValidationError(_("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": text})


def parse_datetime(text: str) -> datetime.datetime | None:
    """A naive date and time (the caller makes it aware); a bare date means midnight."""
    text = text.strip()
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    day = parse_date(text)
    return datetime.datetime.combine(day, datetime.time()) if day else None


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": text})


def parse_decimal(text: str) -> Decimal | None:
    text = text.strip().replace(",", "").removeprefix("¥").removeprefix("￥")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": text}) from None
