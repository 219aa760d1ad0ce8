"""Benchmark the customer pages against a million customers and ten million purchases; prints a Markdown report.

    .venv/bin/python bench/run.py [--customers 1000000] [--transactions 10000000] [--fill/--no-fill]
                                  [--runs 50] [--only TEXT] [--profile] [--import-rows 1000000] [--output FILE]

Uses its own database (--database-url, else $BENCH_DATABASE_URL, else crm_bench on the local
server), creates and migrates it, fills it when it does not hold --customers customers (or when
--fill) and --transactions purchases (or when --fill-purchases), then times each page against the
architecture page's "Performance budgets", in ms and as multiples of a reference page timed between each
measurement's requests (bench/urls.py). --profile adds where the time goes on the heaviest customer page,
a random one, the list and a search (bench/profiling.py). --import-rows also times `manage.py import_file` on a
CSV of that many members, into a fresh database of its own (see bench/importing.py).
"""

import argparse
import os
import resource
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import db  # noqa: E402 -- the repository root must be importable first


def main() -> None:
    args = parse_args()
    url = db.database_url(args.database_url)
    db.ensure_database(url)
    db.migrate(url)
    db.setup_django(url)
    from customers.models import Customer
    from interactions.models import Transaction

    fill = purchases_fill = None
    if args.fill or (args.fill is None and Customer.objects.count() != args.customers):
        fill = _child(["bench.fill", "--customers", str(args.customers), "--database-url", url])
    transactions = 10 * args.customers if args.transactions is None else args.transactions
    if transactions and (args.fill_purchases or Transaction.objects.count() != transactions):
        purchases_fill = _child(["bench.fill_purchases", "--transactions", str(transactions), "--database-url", url])

    from bench import importing, measure, report

    load_before = os.getloadavg()[0]
    client = measure.bench_client()
    results = []
    count = args.runs + args.warmup
    scenarios = measure.scenarios(count=count, seed=args.seed) + measure.history_scenarios(count=count, seed=args.seed)
    if args.only:
        scenarios = [s for s in scenarios if args.only.casefold() in f"{s.group}: {s.name}".casefold()]
    print(f"Load average {_load()} before measuring", flush=True)
    for scenario in scenarios:
        r = measure.measure(client, scenario, runs=args.runs, warmup=args.warmup)
        print(
            f"  {scenario.name}: median {r.median_ms:.1f} ms ({r.median_multiple:.1f}×), p95 {r.p95_ms:.1f} ms "
            f"({r.p95_multiple:.1f}×); reference {r.reference_median_ms:.1f} / {r.reference_p95_ms:.1f} ms; "
            f"load average {_load()}",
            flush=True,
        )
        results.append(r)
    setting = report.Setting(
        command=_command(),
        runs=args.runs,
        warmup=args.warmup,
        fill=fill,
        purchases_fill=purchases_fill,
        bench_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        load=(load_before, os.getloadavg()[0]),
    )
    text = report.markdown(results, setting)
    if args.explain:
        text += report.explanations(results)
    if args.profile:
        from bench import profiling

        profiled = [measure.reference_scenario(), *(s for s in scenarios if s.profile)]
        text += profiling.section(client, profiled, runs=args.profile_runs)
    if args.import_rows:
        text += report.import_section(importing.run(rows=args.import_rows, url=url))
    print(text)
    if args.output:
        args.output.write_text(text)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, help="purchases to fill; default: 10 per customer, 0: none")
    parser.add_argument("--fill", action=argparse.BooleanOptionalAction, help="default: fill if the count differs")
    parser.add_argument("--fill-purchases", action="store_true", help="refill purchases even if the count matches")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per measurement")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests before them")
    parser.add_argument("--seed", type=int, default=7, help="picks the customers and search texts")
    parser.add_argument("--database-url", help=f"default: $BENCH_DATABASE_URL or {db.DEFAULT_URL}")
    parser.add_argument("--only", help="measure only the scenarios whose group or name contains this text")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each miss")
    parser.add_argument("--profile", action="store_true", help="add where the time goes on four of the pages")
    parser.add_argument("--profile-runs", type=int, default=30, help="requests per page and profiling pass")
    parser.add_argument("--import-rows", type=int, default=0, help="also time importing a CSV of this many members")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    return parser.parse_args()


def _load() -> str:
    return " / ".join(f"{a:.2f}" for a in os.getloadavg()) + " (1 / 5 / 15 min)"


def _command() -> str:
    python = os.path.relpath(sys.executable, db.ROOT)
    return shlex.join([sys.executable if python.startswith("..") else python, *sys.argv])


def _child(module_args: list[str]) -> tuple[float, float]:
    """Run one of our modules; (seconds, its own peak memory in MB: wait4's ru_maxrss is in KiB)."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", *module_args], cwd=db.ROOT)  # noqa: S603 -- our own module
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, module_args)
    return time.perf_counter() - started, usage.ru_maxrss / 1024


if __name__ == "__main__":
    main()
