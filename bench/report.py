"""The Markdown report: figures beside their budgets, the data volume and how they were produced."""

import os
import subprocess
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from bench.db import ROOT
from bench.importing import ImportResult
from bench.measure import BUDGET_MS, DETAIL, Result, explain

IMPORT_BUDGET_S, IMPORT_BUDGET_MB = 180, 2048

VOLUME_SQL = """
SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM customers_customer_tags),
       pg_size_pretty(pg_table_size('customers_customer')), pg_size_pretty(pg_indexes_size('customers_customer')),
       current_setting('server_version'), current_setting('shared_buffers')
"""
PURCHASES_SQL = """
SELECT (SELECT count(*) FROM interactions_transaction), (SELECT count(*) FROM interactions_transactionline),
       (SELECT count(*) FROM customers_pointsentry),
       pg_size_pretty(pg_table_size('interactions_transaction')),
       pg_size_pretty(pg_indexes_size('interactions_transaction')),
       pg_size_pretty(pg_total_relation_size('customers_pointsentry'))
"""


@dataclass
class Setting:
    """How a run went, beside its figures."""

    command: str
    runs: int
    warmup: int
    fill: tuple[float, float] | None  # (seconds, peak MB) of the customer fill; None: not filled by this run
    purchases_fill: tuple[float, float] | None  # the same for the purchases
    bench_mb: float
    load: tuple[float, float]  # one-minute load average before and after measuring


def markdown(results: list[Result], s: Setting) -> str:
    with connection.cursor() as cur:
        cur.execute(VOLUME_SQL)
        customers, tag_links, table_size, index_size, version, shared_buffers = cur.fetchone()
        cur.execute(PURCHASES_SQL)
        purchases, purchase_lines, points, purchase_size, purchase_index_size, points_size = cur.fetchone()
    lines = [
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} at commit `{_git_version()}`.",
        "",
        f"- Command: `{s.command}`",
        f"- Data: {customers:,} customers, {tag_links:,} customer-tag links; table {table_size}, "
        f"its indexes {index_size}; {_filled(s.fill)}",
        f"- Purchases: {purchases:,} with {purchase_lines:,} product lines and {points:,} points entries; "
        f"table {purchase_size}, its indexes {purchase_index_size}, the points ledger {points_size} in all; "
        f"{_filled(s.purchases_fill)}",
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
        if group == DETAIL:
            lines += ["", _same_queries([r for r in results if r.scenario.group == DETAIL])]
    missed = [r for r in results if not r.meets_budget]
    lines += ["", f"Budgets missed: {len(missed)} of {len(results)}."]
    return "\n".join(lines) + "\n"


def _filled(fill: tuple[float, float] | None) -> str:
    return f"filled in {fill[0]:.0f} s, peak {fill[1]:.0f} MB" if fill else "not filled by this run"


def _same_queries(results: list[Result]) -> str:
    counts = sorted({n for r in results for n in r.queries})
    verdict = "the same for every customer" if len(counts) == 1 else "**not** the same for every customer"
    return f"Customer page SQL queries over all the rows above: {', '.join(map(str, counts))}, {verdict}."


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


def import_section(r: ImportResult) -> str:
    met = r.seconds < IMPORT_BUDGET_S and r.peak_mb < IMPORT_BUDGET_MB and r.errors == r.bad_rows
    verdict = ("yes" if met else "**no**") if r.rows >= 1_000_000 else "not judged (the budget is for 1,000,000 rows)"
    return "\n".join(
        [
            "",
            f"### Import of {r.rows:,} customers from CSV (budget: under {IMPORT_BUDGET_S // 60} min, "
            f"under {IMPORT_BUDGET_MB:,} MB peak, every bad row reported)",
            "",
            f"- Command: `{r.command}` (exit code {r.exit_code})",
            f"- Wall time {r.seconds:.1f} s, {r.rows_per_second:,.0f} rows/s; peak memory of the import process "
            f"{r.peak_mb:,.0f} MB",
            f"- Created {r.created:,} customers; {r.errors:,} rows reported as errors for {r.bad_rows:,} bad rows "
            "in the file",
            f"- Meets budget: {verdict}",
            "",
            "```",
            r.output,
            "```",
            "",
        ]
    )


def _git_version() -> str:
    git = ["git", "describe", "--always", "--dirty"]
    done = subprocess.run(git, cwd=ROOT, capture_output=True, text=True)  # noqa: S603, S607 -- fixed command
    return done.stdout.strip() or "none (not a git checkout)"


def _ram_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
