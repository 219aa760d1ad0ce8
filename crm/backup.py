"""Backups with Postgres's own tools: pg_dump's custom format out, pg_restore into an empty database.

The tools must be of the server's major version: an older pg_dump refuses a newer server, and a newer one
writes archives an older pg_restore cannot read. They are looked for where Debian, RHEL and the embedded
server (pgserver's package) keep them, then on PATH; none of the right version is a clear refusal.
Connection details go to the tools through libpq's environment variables, so no password shows in `ps`.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import environ
import psycopg2
from django.db import connections
from django.utils.translation import gettext as _

# Connection options libpq also reads from the environment; Django-only ones (pool, assume_role...) are dropped.
LIBPQ_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
# Anything in a schema of its own (not Postgres's) makes a database not empty.
USER_RELATIONS_SQL = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
ORDER BY c.relname
"""
VERSION_RE = re.compile(r"\(PostgreSQL\) (\d+)(?:\.(\d+))?")


class BackupError(Exception):
    """A refusal or a failed dump/restore, with a message meant for the operator."""


@dataclass(frozen=True)
class Target:
    """Where a database is: enough for libpq, and for the messages."""

    dbname: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_url(cls, url: str) -> "Target":
        config = environ.Env.db_url_config(url)
        if "postgresql" not in config.get("ENGINE", ""):
            raise BackupError(_("Not a Postgres URL: %(scheme)s") % {"scheme": url.split(":", 1)[0]})
        return cls._from_params(
            {
                "dbname": config.get("NAME", ""),
                "host": config.get("HOST", ""),
                "port": config.get("PORT", ""),
                "user": config.get("USER", ""),
                "password": config.get("PASSWORD", ""),
                **config.get("OPTIONS", {}),
            }
        )

    @classmethod
    def from_alias(cls, alias: str = "default") -> "Target":
        """The configured database; an embedded server is started first, as the app would, to find its socket."""
        connection = connections[alias]
        connection.ensure_connection()
        return cls._from_params(connection.get_connection_params())

    @classmethod
    def _from_params(cls, params: dict) -> "Target":
        options = tuple((k, str(v)) for k, v in params.items() if k in LIBPQ_ENV and v not in (None, ""))
        return cls(
            dbname=str(params.get("dbname") or params.get("database") or ""),
            host=str(params.get("host") or ""),
            port=str(params.get("port") or ""),
            user=str(params.get("user") or ""),
            password=str(params.get("password") or ""),
            options=options,
        )

    def __str__(self) -> str:
        where = self.host or _("local socket")
        return f"{self.dbname} @ {where}{':' + self.port if self.port else ''}"

    def env(self) -> dict[str, str]:
        """The tools' environment: English messages (their progress lines are read), no user PG* leaking in."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG") and k not in ("LANGUAGE", "LC_ALL")}
        env["LC_MESSAGES"] = "C"
        pairs = {"PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user, "PGPASSWORD": self.password}
        pairs |= {LIBPQ_ENV[key]: value for key, value in self.options}
        return env | {k: v for k, v in pairs.items() if v}

    def connect(self):  # noqa: ANN201 -- a psycopg2 connection
        kwargs = {"dbname": self.dbname, "host": self.host, "port": self.port, "user": self.user}
        kwargs |= {"password": self.password, **dict(self.options)}
        try:
            return psycopg2.connect(**{k: v for k, v in kwargs.items() if v})
        except psycopg2.OperationalError as e:
            raise BackupError(_("Cannot connect to %(target)s: %(error)s") % {"target": self, "error": e}) from e

    def server_major(self) -> int:
        conn = self.connect()
        try:
            return conn.server_version // 10000
        finally:
            conn.close()

    def relations(self) -> list[str]:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(USER_RELATIONS_SQL)
                return [row[0] for row in cur.fetchall()]
        finally:
            conn.close()


def _candidate_dirs(major: int) -> Iterator[Path]:
    yield Path(f"/usr/lib/postgresql/{major}/bin")  # Debian, Ubuntu (several versions side by side)
    yield Path(f"/usr/pgsql-{major}/bin")  # RHEL and the PGDG packages
    spec = importlib.util.find_spec("pgserver")  # the embedded server's own build
    if spec is not None and spec.origin:
        yield Path(spec.origin).parent / "pginstall" / "bin"
    for found in (shutil.which("pg_dump"), shutil.which("pg_restore")):
        if found:
            yield Path(found).resolve().parent


def _version(program: Path) -> str | None:
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None
    match = VERSION_RE.search(out)
    return f"{match.group(1)}.{match.group(2) or 0}" if match else None


def tool_for(name: str, major: int, dirs: Callable[[int], Iterator[Path]] = _candidate_dirs) -> Path:
    """The pg_dump or pg_restore of this major version; a refusal naming what was found otherwise."""
    seen: dict[Path, str] = {}
    for directory in dirs(major):
        program = directory / name
        if program in seen or not program.is_file():
            continue
        version = seen[program] = _version(program) or "?"
        if version.split(".")[0] == str(major):
            return program
    found = ", ".join(f"{path} ({version})" for path, version in seen.items()) or _("none")
    raise BackupError(
        _(
            "No %(name)s of PostgreSQL %(major)d found: the server is version %(major)d and the tools must match it. "
            "Found: %(found)s. Install the client tools of version %(major)d (Debian: postgresql-client-%(major)d)."
        )
        % {"name": name, "major": major, "found": found}
    )


def _run(argv: list, *, target: Target, stdout, on_line: Callable[[str], None]) -> list[str]:  # noqa: ANN001
    """Run a tool, passing each line of its --verbose stderr on; the lines that report errors."""
    errors = []
    with subprocess.Popen(argv, env=target.env(), stdout=stdout, stderr=subprocess.PIPE, text=True) as process:  # noqa: S603
        for raw in process.stderr:
            line = raw.rstrip()
            if ": error: " in line or line.startswith(("pg_dump: error", "pg_restore: error")):
                errors.append(line)
            on_line(line)
    if process.returncode and not errors:
        errors.append(_("%(tool)s exited with status %(code)d") % {"tool": argv[0], "code": process.returncode})
    return errors


def backup(*, path: Path, target: Target, force: bool = False, say: Callable[[str], None] = print) -> Path:
    """Dump the database to `path` (custom format, readable by its owner only); written whole or not at all."""
    if path.exists() and not force:
        raise BackupError(
            _("%(path)s exists already: choose a new name (a date in it) or add --force.") % {"path": path}
        )
    major = target.server_major()
    pg_dump = tool_for("pg_dump", major)
    say(
        _("Backing up %(target)s (PostgreSQL %(major)d) with %(tool)s")
        % {"target": target, "major": major, "tool": pg_dump}
    )
    partial = path.with_name(path.name + ".partial")
    started = time.monotonic()

    def on_line(line: str) -> None:
        if match := re.search(r'dumping contents of table "?([^"]+)"?', line):
            say("  " + _("table %(table)s") % {"table": match.group(1)})

    # A personal-data archive: no other user may read it, not even while it is being written.
    try:
        partial.unlink(missing_ok=True)  # one left by a killed run keeps the mode it was made with
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as e:
        raise BackupError(_("Cannot write %(path)s: %(error)s") % {"path": path, "error": e.strerror}) from e
    try:
        with os.fdopen(fd, "wb") as out:
            argv = [pg_dump, "--format=custom", "--verbose", "--no-password", f"--dbname={target.dbname}"]
            errors = _run(argv, target=target, stdout=out, on_line=on_line)
        if errors:
            raise BackupError("\n".join(errors))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    size = path.stat().st_size / 1024 / 1024
    say(
        _("Backup written: %(path)s (%(size).1f MB in %(seconds).0f s)")
        % {"path": path, "size": size, "seconds": time.monotonic() - started}
    )
    return path


def _archive_tables(pg_restore: Path, path: Path, target: Target) -> int:
    """How many tables' data the archive holds (the restore's progress counts them); a refusal if unreadable."""
    listing = subprocess.run(  # noqa: S603
        [pg_restore, "--list", path], env=target.env(), capture_output=True, text=True, check=False
    )
    if listing.returncode:
        error = listing.stderr.strip()
        raise BackupError(_("%(path)s is not a backup pg_restore can read: %(error)s") % {"path": path, "error": error})
    return sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line and not line.startswith(";"))


PHASES = (
    (re.compile(r"pg_restore: dropping "), _("dropping what the database held")),
    (re.compile(r"pg_restore: creating (TABLE|SEQUENCE|SCHEMA|EXTENSION|FUNCTION|TYPE) "), _("creating the tables")),
    (re.compile(r"pg_restore: creating (INDEX|CONSTRAINT|FK CONSTRAINT|TRIGGER) "), _("indexes, keys and triggers")),
)


def restore(*, path: Path, target: Target, force: bool = False, say: Callable[[str], None] = print) -> None:
    """Restore a backup into `target`, which must be empty unless `force`; in one transaction, so a failed restore
    leaves the target as it was."""
    if not path.is_file():
        raise BackupError(_("No backup at %(path)s.") % {"path": path})
    major = target.server_major()
    pg_restore = tool_for("pg_restore", major)
    present = target.relations()
    if present and not force:
        shown = ", ".join(present[:5]) + (", …" if len(present) > 5 else "")
        raise BackupError(
            _(
                "%(target)s is not empty: it holds %(count)d tables, sequences or views (%(shown)s). A restore goes "
                "into an empty database: create one (createdb NAME) and pass it with --database-url, or add --force "
                "to replace what this one holds with the backup."
            )
            % {"target": target, "count": len(present), "shown": shown}
        )
    tables = _archive_tables(pg_restore, path, target)
    say(
        _("Restoring %(path)s (%(tables)d tables) into %(target)s with %(tool)s")
        % {"path": path, "tables": tables, "target": target, "tool": pg_restore}
    )
    started = time.monotonic()
    loaded, phase = 0, None

    def on_line(line: str) -> None:
        nonlocal loaded, phase
        elapsed = f"[{time.monotonic() - started:6.0f} s]"
        if match := re.match(r'pg_restore: processing data for table "?([^"]+)"?', line):
            loaded += 1
            say(f"  {elapsed} {_('table')} {loaded}/{tables}: {match.group(1)}")
            return
        for pattern, name in PHASES:
            if pattern.match(line) and phase != name:
                phase = name
                say(f"  {elapsed} {name}")

    argv = [pg_restore, "--verbose", "--no-password", "--exit-on-error", "--single-transaction", "--no-owner"]
    if force:
        argv += ["--clean", "--if-exists"]
    argv += [f"--dbname={target.dbname}", path]
    errors = _run(argv, target=target, stdout=subprocess.DEVNULL, on_line=on_line)
    if errors:
        raise BackupError(_("Restore failed, nothing was changed: %(errors)s") % {"errors": "\n".join(errors)})
    say(_("Restored into %(target)s in %(seconds).0f s.") % {"target": target, "seconds": time.monotonic() - started})
