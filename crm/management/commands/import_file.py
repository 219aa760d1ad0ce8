"""Import customers or transactions from a CSV (UTF-8 or GBK) or xlsx file, with a progress line.

Columns are matched by their header (English or Chinese names); rows with errors are
written next to the file as <file>.errors.csv with their line numbers.
"""

import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.importers import IMPORTERS
from crm.lib.tables import ImportFileError, read_table


class Command(BaseCommand):
    help = "Import a CSV or xlsx file; bad rows are reported with their line number."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("path", type=Path)

    def handle(self, *args, kind: str, path: Path, **options):
        importer = IMPORTERS[kind]
        try:
            headers, rows = read_table(path.read_bytes(), path.name)
        except (OSError, ImportFileError) as e:
            raise CommandError(str(e)) from e
        mapping = importer.guess_mapping(headers)
        if problems := importer.mapping_errors(mapping):
            raise CommandError(" ".join(problems) + f" Headers: {headers}")
        for index, field in mapping.items():
            self.stdout.write(f"  {headers[index]!r} -> {importer.fields[field][0]}")

        def progress(done: int) -> None:
            self.stdout.write(f"\rrows read: {done}", ending="")
            self.stdout.flush()

        report = importer.run(rows, mapping=mapping, actor=None, on_progress=progress)
        self.stdout.write("")
        self.stdout.write(report.summary())
        if report.errors:
            errors_path = path.with_name(path.name + ".errors.csv")
            with errors_path.open("w", newline="", encoding="utf-8-sig") as f:
                writer = csv.writer(f)
                writer.writerow(["line", "error", *headers])
                for line, cells, reason in report.errors:
                    writer.writerow([line, reason, *cells])
            for line, _cells, reason in report.errors[:20]:
                self.stderr.write(f"line {line}: {reason}")
            self.stderr.write(f"{len(report.errors)} rows with errors written to {errors_path}")
