"""Importing tables of records: the upload/preview/mapping pages and the background job
are shared; each app registers what it imports (customers, transactions) here.

An importer's `run` validates rows like its forms and services do, reports bad rows
with their line number and reason, and skips rows already present, so importing
the same file twice adds nothing.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import DataError, IntegrityError, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from crm.jobs import job_fail, job_finish, job_heartbeat, job_progress
from crm.lib import tabular
from crm.lib.tables import ImportFileError, Rows, read_table, row_problem, table_check
from crm.models import Job

logger = logging.getLogger(__name__)


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    errors: list[tuple[int, list[str], str]] = field(default_factory=list)  # (line, cells, reason)

    def add(self, other: "ImportReport") -> None:
        self.created += other.created
        self.skipped += other.skipped
        self.errors += other.errors

    def summary(self) -> str:
        return _("%(created)d created, %(skipped)d already present, %(failed)d with errors.") % {
            "created": self.created,
            "skipped": self.skipped,
            "failed": len(self.errors),
        }


@dataclass(frozen=True)
class Importer:
    kind: str
    label: Promise
    # field -> (label, lower-case header names recognised automatically)
    fields: dict[str, tuple[Promise, list[str]]]
    required: frozenset[str]
    permissions: tuple[str, ...]
    # run(rows, mapping=..., actor=..., on_progress=...) -> ImportReport
    run: Callable[..., ImportReport]

    def guess_mapping(self, headers: list[str]) -> dict[int, str]:
        """Column index -> field, for the headers we recognise."""
        mapping = {}
        for index, header in enumerate(headers):
            for name, (label, aliases) in self.fields.items():
                if header.lower() in aliases or header == str(label):
                    mapping.setdefault(index, name)
        return mapping

    def mapping_errors(self, mapping: dict[int, str]) -> list[str]:
        missing = self.required - set(mapping.values())
        return [_("No column is mapped to %(field)s.") % {"field": self.fields[f][0]} for f in sorted(missing)]

    def reason(self, message_dict: dict[str, list[str]]) -> str:
        labels = {name: str(label) for name, (label, _aliases) in self.fields.items()}
        return "; ".join(f"{labels.get(f, f)}: {' '.join(m)}" for f, m in message_dict.items())

    def allowed(self, user: AbstractBaseUser) -> bool:
        return user.has_perms(self.permissions)


type Row[T] = tuple[int, list[str], T]  # (line, cells, parsed)


def import_in_chunks[T](
    rows: Rows,
    *,
    parse: Callable[[list[str]], T],
    keys: Callable[[T], list[str]],
    insert: Callable[[list[Row[T]], ImportReport], None],
    reason: Callable[[dict[str, list[str]]], str],
    duplicate: str,
    on_progress: Callable[[int], None] | None = None,
    chunk_size: int = 2000,
) -> ImportReport:
    """The loop every importer shares; a bad row costs only itself.

    A row with cells past the header or text no database can store is reported first;
    `parse` turns cells into a record or raises ValidationError (the line is reported with
    `reason`); a row whose `keys` an earlier line already had is reported with `duplicate`
    (% {"line": n}); good rows go to `insert` a chunk at a time, which counts them.
    Errors come out in line order.
    """
    report = ImportReport()
    seen: dict[str, int] = {}
    chunk: list[Row[T]] = []
    done = 0
    for line, cells in rows:
        done += 1
        if problem := row_problem(cells, rows.headers):
            report.errors.append((line, cells, problem))
            continue
        try:
            parsed = parse(cells)
        except ValidationError as e:
            report.errors.append((line, cells, reason(e.message_dict)))
            continue
        row_keys = keys(parsed)
        if (first := next((seen[k] for k in row_keys if k in seen), None)) is not None:
            report.errors.append((line, cells, duplicate % {"line": first}))
            continue
        seen.update((k, line) for k in row_keys)
        chunk.append((line, cells, parsed))
        if len(chunk) >= chunk_size:
            _insert_or_isolate(chunk, report, insert)
            chunk = []
            if on_progress:
                on_progress(done)
    if chunk:
        _insert_or_isolate(chunk, report, insert)
    if on_progress:
        on_progress(done)
    report.errors.sort(key=lambda error: error[0])
    return report


def _insert_or_isolate[T](
    chunk: list[Row[T]], report: ImportReport, insert: Callable[[list[Row[T]], ImportReport], None]
) -> None:
    """Insert a chunk; if the database refuses it (a value out of range, a record stored meanwhile),
    insert each half again, down to the single rows it refuses, which are reported."""
    part = ImportReport()
    try:
        with transaction.atomic():
            insert(chunk, part)
    except (DataError, IntegrityError):
        if len(chunk) > 1:
            half = len(chunk) // 2
            _insert_or_isolate(chunk[:half], report, insert)
            _insert_or_isolate(chunk[half:], report, insert)
            return
        line, cells, _parsed = chunk[0]
        logger.warning("import: the database refused line %d", line, exc_info=True)
        report.errors.append(
            (line, cells, _("The database refused this row (a value is out of range or already taken)."))
        )
        return
    report.add(part)


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    IMPORTERS[importer.kind] = importer


def importers_for(user: AbstractBaseUser) -> list[Importer]:
    return [i for i in IMPORTERS.values() if i.allowed(user)]


def import_job_run(job: Job) -> ImportReport | None:
    """The background job: read the stored upload as a stream, check it whole, import it, keep the bad
    rows as a file. A file that cannot be read fails the job with the reason, shown on its page."""
    importer = IMPORTERS[job.params["importer"]]
    filename = job.params["filename"]
    try:
        f = default_storage.open(job.params["path"], "rb")
    except FileNotFoundError:
        job_fail(job, message=_("The uploaded file is no longer stored; upload it again."))
        return None
    with f:
        try:
            # The upload page read only the first rows: a line further on that cannot be read refuses
            # the file here, before anything is imported.
            headers, total = table_check(f, filename, on_progress=lambda _rows: job_heartbeat(job))
        except ImportFileError as e:
            job_fail(job, message=str(e))
            return None
        _headers, rows = read_table(f, filename)
        mapping = {int(k): v for k, v in job.params["mapping"].items()}
        job_progress(job, done=0, total=total)
        report = importer.run(
            rows, mapping=mapping, actor=job.created_by, on_progress=lambda n: job_progress(job, done=n)
        )
    writer = tabular.CsvWriter()
    writer.write_row([_("Line"), _("Error"), *headers])
    for line, cells, reason in report.errors:
        writer.write_row([line, reason, *cells])
    # The upload stays with the job, so the job can be run again (adding nothing twice).
    job_finish(job, filename="import-errors.csv", content=writer.close(), message=report.summary())
    return report
