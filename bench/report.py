"""The Markdown report: figures beside their budgets, the data volume and how they were produced.

Every figure is given in ms and as a multiple of the reference page timed between its requests (see
bench/measure.py), and is judged against both forms of its budget.
"""

import os
import statistics
import subprocess
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from bench.db import ROOT
from bench.importing import ImportResult
from bench.measure import BUDGET_MS, BUDGET_MULTIPLE, DETAIL, Result, explain, p95

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
    commit: str = ""  # default: `git describe` of the working tree


def markdown(results: list[Result], s: Setting) -> str:
    with connection.cursor() as cur:
        cur.execute(VOLUME_SQL)
        customers, tag_links, table_size, index_size, version, shared_buffers = cur.fetchone()
        cur.execute(PURCHASES_SQL)
        purchases, purchase_lines, points, purchase_size, purchase_index_size, points_size = cur.fetchone()
    lines = [
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} at commit `{s.commit or git_version()}`.",
        "",
        f"- Command: `{s.command}`",
        f"- Data: {customers:,} customers, {tag_links:,} customer-tag links; table {table_size}, "
        f"its indexes {index_size}; {_filled(s.fill)}",
        f"- Purchases: {purchases:,} with {purchase_lines:,} product lines and {points:,} points entries; "
        f"table {purchase_size}, its indexes {purchase_index_size}, the points ledger {points_size} in all; "
        f"{_filled(s.purchases_fill)}",
        f"- Machine: {os.cpu_count()} cores, {_ram_gb():.0f} GB RAM, {_load(results, s)}; "
        f"PostgreSQL {version} on the same machine, shared_buffers {shared_buffers}",
        f"- Each figure: {s.runs} timed requests after {s.warmup} warm-up ones, a different customer or text each "
        "time; server time through Django's test client in-process, logged in as a Manager",
        "- Reference: the base template with the top bar for the same signed-in Manager and nothing else "
        "(`/bench/reference/`, wired by bench/urls.py), requested alternately with each measurement's requests; "
        "a figure's multiple (×) is its median or p95 over the median or p95 of the reference requests timed "
        f"between its own. Over the whole run the reference took {_reference(results)}",
        f"- Peak memory (ru_maxrss) of the benchmark process: {s.bench_mb:.0f} MB",
    ]
    for group, budget in BUDGET_MS.items():
        if not (rows := [r for r in results if r.scenario.group == group]):
            continue
        rule = f"p95 under {budget} ms" + (", same query count for every customer" if group == DETAIL else "")
        rule += f"; p95 under {BUDGET_MULTIPLE[group]}× the reference's p95"
        lines += ["", f"### {group} (budgets: {rule})", "", HEADER, "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
        lines += [_row(r) for r in rows]
        if group == DETAIL:
            lines += ["", _same_queries(rows)]
    lines += ["", *misses(results)]
    return "\n".join(lines) + "\n"


def misses(results: list[Result]) -> list[str]:
    """The budgets missed, named, in ms and as multiples of the reference."""
    in_ms = [r for r in results if not r.meets_budget]
    in_multiples = [r for r in results if not r.meets_multiple_budget]
    return [
        f"Budgets missed in ms: {len(in_ms)} of {len(results)}{_names(in_ms, ms=True)}",
        "",
        f"Budgets missed as multiples of the reference: {len(in_multiples)} of {len(results)}"
        f"{_names(in_multiples, ms=False)}",
    ]


def _names(missed: list[Result], *, ms: bool) -> str:
    if not missed:
        return "."
    if ms:
        named = [f"{r.scenario.name} ({r.p95_ms:.1f} ms, budget {r.budget_ms} ms{_query_miss(r)})" for r in missed]
    else:
        named = [f"{r.scenario.name} ({r.p95_multiple:.1f}×, budget {r.budget_multiple}×)" for r in missed]
    return ": " + "; ".join(named) + "."


def _query_miss(r: Result) -> str:
    fewest, most = r.queries
    return f"; {fewest}–{most} queries, not a fixed number" if r.scenario.group == DETAIL and fewest != most else ""


def _load(results: list[Result], s: Setting) -> str:
    during = [r.load[0] for r in results]
    text = f"load average (1 min) {s.load[0]:.1f} before and {s.load[1]:.1f} after"
    if during:
        text += f", {min(during):.1f}–{max(during):.1f} at the end of each measurement"
    return text + " (the machine is shared: compare the multiples)"


def _reference(results: list[Result]) -> str:
    times = [t for r in results for t in r.reference_times]
    if len(times) < 2:
        return "no time (nothing measured)."
    return f"median {statistics.median(times):.1f} ms, p95 {p95(times):.1f} ms over {len(times):,} requests."


def _filled(fill: tuple[float, float] | None) -> str:
    return f"filled in {fill[0]:.0f} s, peak {fill[1]:.0f} MB" if fill else "not filled by this run"


def _same_queries(results: list[Result]) -> str:
    counts = sorted({n for r in results for n in r.queries})
    verdict = "the same for every customer" if len(counts) == 1 else "**not** the same for every customer"
    return f"Customer page SQL queries over all the rows above: {', '.join(map(str, counts))}, {verdict}."


HEADER = (
    "| measurement | median ms | p95 ms | reference median / p95 ms | median × | p95 × | SQL queries "
    "| slowest query ms | meets ms budget | meets × budget |"
)


def _row(r: Result) -> str:
    fewest, most = r.queries
    queries = str(fewest) if fewest == most else f"{fewest}–{most}"
    return (
        f"| {r.scenario.name} | {r.median_ms:.1f} | {r.p95_ms:.1f} "
        f"| {r.reference_median_ms:.1f} / {r.reference_p95_ms:.1f} | {r.median_multiple:.1f} | {r.p95_multiple:.1f} "
        f"| {queries} | {r.slowest_sql_ms:.1f} | {_yes(r.meets_budget)} | {_yes(r.meets_multiple_budget)} |"
    )


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


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


def git_version() -> str:
    git = ["git", "describe", "--always", "--dirty"]
    done = subprocess.run(git, cwd=ROOT, capture_output=True, text=True)  # noqa: S603, S607 -- fixed command
    return done.stdout.strip() or "none (not a git checkout)"


def _ram_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
