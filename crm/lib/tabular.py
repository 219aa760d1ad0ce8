"""Row-by-row CSV or xlsx writing into a temporary file, so big exports stay out of memory."""

import csv
import io
import tempfile

from django.core.files import File
from openpyxl import Workbook


class CsvWriter:
    extension = "csv"

    def __init__(self):
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the caller as the result
        # UTF-8 with BOM: Excel then opens Chinese text correctly.
        self._text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._text)

    def write_row(self, row: list) -> None:
        self._csv.writerow(row)

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
        self._sheet.append(row)

    def close(self) -> File:
        out = tempfile.TemporaryFile()  # noqa: SIM115 -- handed to the caller as the result
        self._book.save(out)
        out.seek(0)
        return File(out)


def writer(fmt: str) -> CsvWriter | XlsxWriter:
    return XlsxWriter() if fmt == "xlsx" else CsvWriter()
