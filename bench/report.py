"""The Markdown report: figures beside their budgets, the data volume and how they were produced."""

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from bench.db import ROOT
from bench.measure import BUDGET_MS, DETAIL, Result, explain

VOLUME_SQL = """
SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM customers_customer_tags),
       pg_size_pretty(pg_table_size('customers_customer')), pg_size_pretty(pg_indexes_size('customers_customer')),
       current_setting('server_version'), current_setting('shared_buffers')
"""


@dataclass
class Setting:
    """How a run went, beside its figures."""

    command: str
    runs: int
    warmup: int
    fill_seconds: float | None  # None: the database already held the customers
    bench_mb: float
    fill_mb: float | None
    load: tuple[float, float]  # one-minute load average before and after measuring


def markdown(results: list[Result], s: Setting) -> str:
    with connection.cursor() as cur:
        cur.execute(VOLUME_SQL)
        customers, tag_links, table_size, index_size, version, shared_buffers = cur.fetchone()
    fill = f"filled in {s.fill_seconds:.0f} s, peak {s.fill_mb:.0f} MB" if s.fill_seconds else "not filled by this run"
    lines = [
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} at commit `{_git_version()}`.",
        "",
        f"- Command: `{s.command}`",
        f"- Data: {customers:,} customers, {tag_links:,} customer-tag links; table {table_size}, "
        f"its indexes {index_size}; {fill}",
        f"- Machine: {os.cpu_count()} cores, {_ram_gb():.0f} GB RAM, load average {s.load[0]:.1f} before and "
        f"{s.load[1]:.1f} after; PostgreSQL {version} on the same machine, shared_buffers {shared_buffers}",
        f"- Each figure: {s.runs} timed requests after {s.warmup} warm-up ones, a different customer or text each "
        "time; server time through Django's test client in-process, logged in as a Manager",
        f"- Peak memory (ru_maxrss) of the benchmark process: {s.bench_mb:.0f} MB",
    ]
    for group, budget in BUDGET_MS.items():
        rule = f"p95 under {budget} ms" + (", same query count for every customer" if group == DETAIL else "")
        lines += ["", f"### {group} (budget: {rule})", "", HEADER, "|---|---:|---:|---:|---:|---|"]
        lines += [_row(r) for r in results if r.scenario.group == group]
    missed = [r for r in results if not r.meets_budget]
    lines += ["", f"Budgets missed: {len(missed)} of {len(results)}."]
    return "\n".join(lines) + "\n"


HEADER = "| measurement | median ms | p95 ms | SQL queries | slowest query ms | meets budget |"


def _row(r: Result) -> str:
    fewest, most = r.queries
    queries = str(fewest) if fewest == most else f"{fewest}–{most}"
    verdict = "yes" if r.meets_budget else "**no**"
    return (
        f"| {r.scenario.name} | {r.median_ms:.1f} | {r.p95_ms:.1f} | {queries} | {r.slowest_sql_ms:.1f} | {verdict} |"
    )


def explanations(results: list[Result]) -> str:
    parts = []
    for r in results:
        if not r.meets_budget and (plan := explain(r.slowest_sql)):
            title = f"#### {r.scenario.group}: {r.scenario.name}"
            parts.append(f"\n{title}\n\n```sql\n{r.slowest_sql}\n```\n\n```\n{plan}\n```")
    return "\n".join(parts) + "\n" if parts else ""


def _git_version() -> str:
    git = ["git", "describe", "--always", "--dirty"]
    done = subprocess.run(git, cwd=ROOT, capture_output=True, text=True)  # noqa: S603, S607 -- fixed command
    return done.stdout.strip() or "none (not a git checkout)"


def _ram_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
