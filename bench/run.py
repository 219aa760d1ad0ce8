"""Benchmark the customer pages against a million customers; prints a Markdown report.

    .venv/bin/python bench/run.py [--customers 1000000] [--fill/--no-fill] [--runs 50] [--output FILE]

Uses its own database (--database-url, else $BENCH_DATABASE_URL, else crm_bench on the local
server), creates and migrates it, fills it when it does not hold --customers customers (or when
--fill), then times each page against the architecture page's "Performance budgets".
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

    fill_seconds = None
    if args.fill or (args.fill is None and Customer.objects.count() != args.customers):
        started = time.perf_counter()
        fill = [sys.executable, "-m", "bench.fill", "--customers", str(args.customers), "--database-url", url]
        subprocess.run(fill, cwd=db.ROOT, check=True)  # noqa: S603 -- our own interpreter and module
        fill_seconds = time.perf_counter() - started

    from bench import measure, report

    load_before = os.getloadavg()[0]
    client = measure.bench_client()
    results = []
    for scenario in measure.scenarios(count=args.runs + args.warmup, seed=args.seed):
        result = measure.measure(client, scenario, runs=args.runs, warmup=args.warmup)
        print(f"  {scenario.name}: median {result.median_ms:.1f} ms, p95 {result.p95_ms:.1f} ms", flush=True)
        results.append(result)
    setting = report.Setting(
        command=_command(),
        runs=args.runs,
        warmup=args.warmup,
        fill_seconds=fill_seconds,
        bench_mb=_peak_mb(resource.RUSAGE_SELF),
        fill_mb=_peak_mb(resource.RUSAGE_CHILDREN) if fill_seconds else None,
        load=(load_before, os.getloadavg()[0]),
    )
    text = report.markdown(results, setting)
    if args.explain:
        text += report.explanations(results)
    print(text)
    if args.output:
        args.output.write_text(text)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--fill", action=argparse.BooleanOptionalAction, help="default: fill if the count differs")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per measurement")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests before them")
    parser.add_argument("--seed", type=int, default=7, help="picks the customers and search texts")
    parser.add_argument("--database-url", help=f"default: $BENCH_DATABASE_URL or {db.DEFAULT_URL}")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query of each miss")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    return parser.parse_args()


def _command() -> str:
    python = os.path.relpath(sys.executable, db.ROOT)
    return shlex.join([sys.executable if python.startswith("..") else python, *sys.argv])


def _peak_mb(who: int) -> float:
    """ru_maxrss is in KiB on Linux; for children it is the largest of them (the fill, not migrate)."""
    return resource.getrusage(who).ru_maxrss / 1024


if __name__ == "__main__":
    main()
