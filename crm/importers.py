"""Importing tables of records: the upload/preview/mapping pages and the background job
are shared; each app registers what it imports (customers, transactions) here.

An importer's `run` validates rows like its forms and services do, reports bad rows
with their line number and reason, and skips rows already present, so importing
the same file twice adds nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from crm.jobs import job_finish, job_progress
from crm.lib import tabular
from crm.lib.tables import Rows, read_table
from crm.models import Job


@dataclass
class ImportReport:
    created: int = 0
    skipped: int = 0
    errors: list[tuple[int, list[str], str]] = field(default_factory=list)  # (line, cells, reason)

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

    def allowed(self, user) -> bool:
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
    """The loop every importer shares.

    `parse` turns cells into a record or raises ValidationError (the line is reported with
    `reason`); a row whose `keys` an earlier line already had is reported with `duplicate`
    (% {"line": n}); good rows go to `insert` a chunk at a time, which counts them.
    """
    report = ImportReport()
    seen: dict[str, int] = {}
    chunk: list[Row[T]] = []
    done = 0
    for line, cells in rows:
        done += 1
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
            insert(chunk, report)
            chunk = []
            if on_progress:
                on_progress(done)
    if chunk:
        insert(chunk, report)
    if on_progress:
        on_progress(done)
    return report


IMPORTERS: dict[str, Importer] = {}


def register(importer: Importer) -> None:
    IMPORTERS[importer.kind] = importer


def importers_for(user) -> list[Importer]:
    return [i for i in IMPORTERS.values() if i.allowed(user)]


def import_job_run(job: Job) -> ImportReport:
    """The background job: read the stored upload, import it, keep the bad rows as a file."""
    importer = IMPORTERS[job.params["importer"]]
    with default_storage.open(job.params["path"], "rb") as f:
        # The upload page read the whole file once, so it is known to parse.
        headers, rows = read_table(f.read(), job.params["filename"])
    mapping = {int(k): v for k, v in job.params["mapping"].items()}
    job_progress(job, done=0, total=job.params.get("rows", 0))
    report = importer.run(rows, mapping=mapping, actor=job.created_by, on_progress=lambda n: job_progress(job, done=n))
    writer = tabular.CsvWriter()
    writer.write_row([_("Line"), _("Error"), *headers])
    for line, cells, reason in report.errors:
        writer.write_row([line, reason, *cells])
    job_finish(job, filename="import-errors.csv", content=writer.close(), message=report.summary())
    default_storage.delete(job.params["path"])
    return report
