"""Row-by-row CSV or xlsx writing into a temporary file, so big exports stay out of memory.

Every export goes through these writers, and they make every cell inert: text that a
spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage return:
OWASP's "CSV injection") gets a leading apostrophe, and xlsx cells are always written as
values, never as formulas.
"""

import csv
import io
import re
import tempfile

from django.core.files import File
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A signed number ("+8613812345678", "-20") is data that no spreadsheet runs as a formula;
# left as it is, exported phone numbers and negative points stay readable.
SIGNED_NUMBER = re.compile(r"[+-]\d+(\.\d+)?")


def inert(value):
    """The cell as a spreadsheet will show it without running anything."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not SIGNED_NUMBER.fullmatch(value):
        return "'" + value
    return value


class CsvWriter:
    extension = "csv"

    def __init__(self):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the caller as the result
        # UTF-8 with BOM: Excel then opens Chinese text correctly.
        self._text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._text)

    def write_row(self, row: list) -> None:
        self._csv.writerow([inert(v) for v in row])

    def close(self) -> File:
        self._text.flush()
        self._text.detach()
        self._file.seek(0)
        return File(self._file)


class XlsxWriter:
    extension = "xlsx"

    def __init__(self):
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet()

    def write_row(self, row: list) -> None:
        self._sheet.append([self._cell(v) for v in row])

    def _cell(self, value):
        value = inert(value)
        if not isinstance(value, str):
            return value
        # The xlsx format cannot hold most control characters (openpyxl refuses them): drop them.
        cell = WriteOnlyCell(self._sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # a value, never a formula, whatever the text
        return cell

    def close(self) -> File:
        out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the caller as the result
        self._book.save(out)
        out.seek(0)
        return File(out)


def writer(fmt: str) -> CsvWriter | XlsxWriter:
    return XlsxWriter() if fmt == "xlsx" else CsvWriter()
