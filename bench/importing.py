"""Time `manage.py import_file customers FILE` on a CSV of N members, into a fresh database.

    .venv/bin/python -m bench.importing --rows 1000000 [--profile] [--database-url URL]

The database is the bench's one with "_import" appended to its name: dropped, created and
migrated before every run, with the fill's tiers, so the import meets an empty customer table
as a first data migration does. Peak memory is the import process's own (wait4's ru_maxrss).
"""

import argparse
import csv
import os
import pstats
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from bench import csvfile, db
from bench.fill import TIERS

WORKDIR = Path("/tmp/crm-bench")  # noqa: S108 -- scratch files of a benchmark run
# The fill's tiers have Chinese names only (the English one blank, as the model allows).
TIER_SQL = (
    "INSERT INTO customers_tier (name, name_zh_hans, name_en, rank, min_spend, points_multiplier, benefits)"
    " VALUES (%(name)s, %(name)s, '', %(rank)s, %(min_spend)s, %(multiplier)s, '')"
)


@dataclass
class ImportResult:
    rows: int
    bad_rows: int
    seconds: float
    cpu_seconds: float  # user + system time of the import process (not Postgres'): less swayed by load than wall time
    peak_mb: float
    created: int
    errors: int  # rows in the errors file the command wrote
    exit_code: int
    command: str
    output: str  # the command's last lines

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def import_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_import"))


def fresh_database(url: str) -> None:
    parts = urlsplit(url)
    conn = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            name = sql.Identifier(parts.path.lstrip("/"))
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        conn.close()
    db.migrate(url)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for name, rank, min_spend, multiplier in TIERS:
            cur.execute(TIER_SQL, {"name": name, "rank": rank, "min_spend": min_spend, "multiplier": multiplier})
    conn.close()


def run(*, rows: int, url: str, profile: Path | None = None) -> ImportResult:
    WORKDIR.mkdir(exist_ok=True)
    path = WORKDIR / f"customers-{rows}.csv"
    errors_path = path.with_name(path.name + ".errors.csv")
    errors_path.unlink(missing_ok=True)
    started = time.perf_counter()
    bad = csvfile.write(path, rows=rows)
    _progress(f"{path} written: {rows:,} rows, {bad:,} of them bad, {path.stat().st_size / 1e6:.0f} MB", started)
    target = import_url(url)
    fresh_database(target)
    _progress(f"{urlsplit(target).path.lstrip('/')} created and migrated", started)
    command = ["manage.py", "import_file", "customers", str(path)]
    if profile:
        command = ["-m", "cProfile", "-o", str(profile), *command]
    log = WORKDIR / "import.log"
    with log.open("w") as out:
        began = time.perf_counter()
        env = db.django_env(target)
        child = subprocess.Popen([sys.executable, *command], cwd=db.ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    _progress(f"import finished in {seconds:.1f} s, exit code {child.returncode}", started)
    with psycopg2.connect(target) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers_customer")
        created = cur.fetchone()[0]
    conn.close()
    errors = 0
    if errors_path.exists():
        with errors_path.open(encoding="utf-8-sig", newline="") as f:
            errors = sum(1 for _ in csv.reader(f)) - 1
    output = log.read_text(errors="replace").replace("\r", "\n").strip().splitlines()
    return ImportResult(
        rows=rows,
        bad_rows=bad,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_mb=usage.ru_maxrss / 1024,
        created=created,
        errors=errors,
        exit_code=child.returncode,
        command=" ".join(["DATABASE_URL=" + target, os.path.relpath(sys.executable, db.ROOT), *command]),
        output="\n".join([line for line in output if "->" not in line and not line.startswith("rows read")][:6]),
    )


def _progress(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="run the import under cProfile; print the top functions")
    parser.add_argument("--database-url", help=f"default: $BENCH_DATABASE_URL or {db.DEFAULT_URL}")
    args = parser.parse_args()
    profile = WORKDIR / f"import-{args.rows}.prof" if args.profile else None
    result = run(rows=args.rows, url=db.database_url(args.database_url), profile=profile)
    print(result)
    if profile:
        for order in ("tottime", "cumulative"):
            pstats.Stats(str(profile)).sort_stats(order).print_stats(25)


if __name__ == "__main__":
    main()
