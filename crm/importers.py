"""Importing tables of records: the upload/preview/mapping pages and the background job
are shared; each app registers what it imports (customers, transactions) here.

An importer's `run` validates rows like its forms and services do, reports bad rows
with their line number and reason, and skips rows already present, so importing
the same file twice adds nothing.
"""

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from crm.jobs import job_fail, job_finish, job_heartbeat, job_progress
from crm.lib import tabular
from crm.lib.tables import UNSTORABLE, ImportFileError, Rows, read_table, row_problem, table_check
from crm.models import Job, JobStatus

logger = logging.getLogger(__name__)


MEMBERS_SHOWN = 20  # members linked from an import's result page
ERRORS_SHOWN = 50  # bad rows listed on it; the error file has them all


class Reason(str):
    """Why a row was not imported: text in the language of the run (the error file, the command's
    output) that can say itself again in another language (`say()` under the active language, for
    the result page, read in the viewer's language) and knows what it is about: importer `fields`
    and `cells` (indexes in the row), for the column shown beside it."""

    say: Callable[[], str]
    fields: tuple[str, ...]
    cells: tuple[int, ...]

    def __new__(
        cls, say: Callable[[], str], *, fields: Iterable[str] = (), cells: Iterable[int] = (), text: str | None = None
    ) -> "Reason":
        reason = super().__new__(cls, say() if text is None else text)
        reason.say, reason.fields, reason.cells = say, tuple(fields), tuple(cells)
        return reason

    def in_languages(self) -> dict[str, str]:
        """The reason in every language of the interface, by language code."""
        said = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                said[code] = self.say()
        return said


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[tuple[int, list[str], str]] = field(default_factory=list)  # (line, cells, reason)
    members: list[int] = field(default_factory=list)  # ids of the first members written, for the result page

    def add(self, other: "ImportReport") -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.errors += other.errors
        self.note_members(other.members)

    def note_members(self, ids: Iterable[int]) -> None:
        """Keep the first MEMBERS_SHOWN members the import wrote (created, or given purchases)."""
        for pk in ids:
            if len(self.members) >= MEMBERS_SHOWN:
                return
            if pk not in self.members:
                self.members.append(pk)

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
    # (name, link) of the members with these ids, for the result page; and a link to list them all
    members: Callable[[list[int]], list[tuple[str, str]]] | None = None
    members_list: Callable[[], str] | None = None

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
    duplicate: Promise,
    mapping: dict[int, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
    chunk_size: int = 2000,
) -> ImportReport:
    """The loop every importer shares; a bad row costs only itself.

    A row with cells past the header or text no database can store is reported first;
    `parse` turns cells into a record or raises ValidationError (the line is reported with
    `reason`); a row whose `keys` an earlier line already had is reported with `duplicate`
    (a lazy text, % {"line": n}); good rows go to `insert` a chunk at a time, which counts them.
    Errors come out in line order, as Reasons that can be said again in another language.
    """
    report = ImportReport()
    columns = {name: index for index, name in (mapping or {}).items()}
    seen: dict[str, int] = {}
    chunk: list[Row[T]] = []
    done = 0
    inserter = _Inserter(insert, report, on_progress)
    try:
        for line, cells in rows:
            done += 1
            if problem := row_problem(cells, rows.headers):
                report.errors.append((line, cells, _row_problem(cells, rows.headers, problem)))
                continue
            try:
                parsed = parse(cells)
            except ValidationError as e:
                said = reason(e.message_dict)
                fields = [f for f in e.message_dict if f in columns]
                again = _parse_again(parse, cells, reason)
                report.errors.append((line, cells, Reason(again, fields=fields, text=said)))
                continue
            row_keys = keys(parsed)
            if (first := next((seen[k] for k in row_keys if k in seen), None)) is not None:
                report.errors.append((line, cells, Reason(partial(_interpolate, duplicate, {"line": first}))))
                continue
            seen.update((k, line) for k in row_keys)
            chunk.append((line, cells, parsed))
            if len(chunk) >= chunk_size:
                inserter.add(chunk, upto=done)
                chunk = []
        if chunk:
            inserter.add(chunk, upto=done)
    finally:
        inserter.close()
    if on_progress:
        on_progress(done)
    report.errors.sort(key=lambda error: error[0])
    return report


class _Inserter[T]:
    """Inserts the chunks in line order, each waiting for the one before. Outside a transaction, on a
    second thread with its own database connection: Postgres writes one chunk (COPY, index upkeep,
    commit, during which the thread holds no GIL) while this thread parses the next, so on two cores
    the database and Python work at once. Inside a transaction (a caller's atomic block, a test) a
    second connection could not see the caller's uncommitted rows, so the chunks go in inline.
    Progress counts the lines up to the last chunk that is in, never one still being written: a job taken
    up again after its worker died then starts from what its page said was done."""

    def __init__(
        self,
        insert: Callable[[list[Row[T]], ImportReport], None],
        report: ImportReport,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.insert, self.report, self.on_progress = insert, report, on_progress
        self.language = translation.get_language()  # messages written on the thread speak the run's language
        self.pending: tuple[Future[ImportReport], int] | None = None
        self.executor = None
        if not connection.in_atomic_block:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-insert")

    def add(self, chunk: list[Row[T]], *, upto: int) -> None:
        """Insert a chunk holding the file's lines up to the `upto`-th."""
        if self.executor is None:
            _insert_or_isolate(chunk, self.report, self.insert)
            self._progress(upto)
            return
        self._wait()
        self.pending = (self.executor.submit(self._insert, chunk), upto)

    def _progress(self, upto: int) -> None:
        if self.on_progress:
            self.on_progress(upto)

    def _insert(self, chunk: list[Row[T]]) -> ImportReport:
        part = ImportReport()
        with translation.override(self.language):
            _insert_or_isolate(chunk, part, self.insert)
        return part

    def _wait(self) -> None:
        if self.pending is not None:
            (pending, upto), self.pending = self.pending, None
            self.report.add(pending.result())  # an error on the thread is raised here
            self._progress(upto)

    def close(self) -> None:
        """Wait for the last chunk; the thread and its connection end whatever happened."""
        if self.executor is None:
            return
        try:
            self._wait()
        finally:
            self.executor.submit(lambda: connection.close()).result()  # the thread's own connection
            self.executor.shutdown()


def _row_problem(cells: list[str], headers: list[str], said: str) -> Reason:
    unstorable = [i for i, cell in enumerate(cells) if UNSTORABLE.search(cell)][:1]
    return Reason(lambda: row_problem(cells, headers) or "", cells=unstorable, text=said)


def _parse_again(parse: Callable, cells: list[str], reason: Callable[[dict[str, list[str]]], str]) -> Callable[[], str]:
    """A row's parse errors said again (in the language active then): parsing is a pure function of the cells."""

    def say() -> str:
        try:
            parse(cells)
        except ValidationError as e:
            return reason(e.message_dict)
        return ""

    return say


def _interpolate(text: Promise, params: dict) -> str:
    return str(text) % params


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
        report.errors.append((line, cells, Reason(partial(gettext, REFUSED))))
        return
    report.add(part)


REFUSED = gettext_noop("The database refused this row (a value is out of range or already taken).")
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
            rows,
            mapping=mapping,
            actor=job.created_by,
            on_progress=lambda n: job_progress(job, done=n),
            total=total,
        )
    writer = tabular.CsvWriter()
    writer.write_row([_("Line"), _("Error"), *headers])
    for line, cells, reason in report.errors:
        writer.write_row([line, reason, *cells])
    # What the result page shows, kept with the job so the page reads no file; written while this run
    # still holds the job (as crm.jobs writes progress), then the finish.
    outcome = import_outcome(report, headers=headers, mapping=mapping)
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, started_at=job.started_at).update(
        params={**job.params, "outcome": outcome}
    )
    # The upload stays with the job, so the job can be run again (adding nothing twice).
    job_finish(job, filename="import-errors.csv", content=writer.close(), message=report.summary())
    return report


def import_outcome(report: ImportReport, *, headers: list[str], mapping: dict[int, str]) -> dict:
    """The counts, the first ERRORS_SHOWN bad rows (line, the columns as headed in the file, the reason
    in every interface language, so the page speaks the viewer's) and the first members written."""
    columns = {name: index for index, name in mapping.items()}

    def header(index: int) -> str:
        return headers[index] if index < len(headers) and headers[index] else f"#{index + 1}"

    errors = []
    for line, _cells, reason in report.errors[:ERRORS_SHOWN]:
        if isinstance(reason, Reason):
            indexes = [*reason.cells, *(columns[f] for f in reason.fields if f in columns)]
            said = reason.in_languages()
        else:  # an importer's plain text: the language of the run
            indexes, said = [], {translation.get_language() or settings.LANGUAGE_CODE: str(reason)}
        errors.append({"line": line, "columns": [header(i) for i in dict.fromkeys(indexes)], "reason": said})
    return {
        "created": report.created,
        "updated": report.updated,
        "skipped": report.skipped,
        "failed": len(report.errors),
        "errors": errors,
        "members": report.members,
    }
