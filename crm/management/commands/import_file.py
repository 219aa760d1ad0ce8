"""Import customers or transactions from a CSV (UTF-8 or GBK) or xlsx file, with a progress line.

Columns are matched by their header (English or Chinese names); rows with errors are
written next to the file as <file>.errors.csv with their line numbers. A file that cannot
be read to the end is refused before anything is imported, as on the upload page.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from crm.importers import IMPORTERS
from crm.lib.tables import ImportFileError, read_table, table_check
from crm.lib.tabular import CsvWriter


class Command(BaseCommand):
    help = "Import a CSV or xlsx file; bad rows are reported with their line number."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("path", type=Path)

    def handle(self, *args, kind: str, path: Path, **options):
        importer = IMPORTERS[kind]
        try:
            content = path.read_bytes()
            headers, total = table_check(content, path.name)
        except (OSError, ImportFileError) as e:
            raise CommandError(str(e)) from e
        mapping = importer.guess_mapping(headers)
        if problems := importer.mapping_errors(mapping):
            raise CommandError(" ".join(problems) + " " + _("Headers: %(headers)s") % {"headers": headers})
        for index, field in mapping.items():
            self.stdout.write(f"  {headers[index]!r} -> {importer.fields[field][0]}")

        def progress(done: int) -> None:
            self.stdout.write("\r" + _("rows read: %(done)d") % {"done": done}, ending="")
            self.stdout.flush()

        _headers, rows = read_table(content, path.name)
        report = importer.run(rows, mapping=mapping, actor=None, on_progress=progress, total=total)
        self.stdout.write("")
        self.stdout.write(report.summary())
        if report.errors:
            errors_path = path.with_name(path.name + ".errors.csv")
            writer = CsvWriter()
            writer.write_row([_("Line"), _("Error"), *headers])
            for line, cells, reason in report.errors:
                writer.write_row([line, reason, *cells])
            with errors_path.open("wb") as f, writer.close() as written:
                for block in written.chunks():
                    f.write(block)
            for line, _cells, reason in report.errors[:20]:
                self.stderr.write(_("line %(line)d: %(reason)s") % {"line": line, "reason": reason})
            self.stderr.write(
                _("%(count)d rows with errors written to %(path)s") % {"count": len(report.errors), "path": errors_path}
            )
