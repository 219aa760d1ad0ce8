"""Time the churn model alone (no database): training once, then scoring and explaining everyone in chunks.

    .venv/bin/python bench/churn_model.py [--train 200000] [--score 1000000] [--chunk 10000]

The members come from the tests' generated membership with a planted signal (analytics/tests/churn_population.py),
so the figures are for the model's own work; reading the frames from Postgres and writing scores back are the
scoring job's and are timed with it.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402 -- the repository root must be importable first
from django.conf import settings  # noqa: E402

settings.configure(CRM_CURRENCY="CNY")
django.setup()

from analytics.churn import churn_dumps, churn_fit, churn_loads, churn_predict, churn_reasons, reason_text  # noqa: E402
from analytics.tests.churn_population import population  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=200_000)
    parser.add_argument("--score", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    args = parser.parse_args()

    features, churned = population(members=args.train, seed=1)
    started, started_cpu = time.perf_counter(), time.process_time()
    model = churn_fit(features=features, churned=churned)
    fitted, fitted_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    print(
        f"fit on {args.train:,} members: {fitted:.1f} s (CPU {fitted_cpu:.1f} s), chose {model.kind}, "
        f"validation AUC {model.validation_auc}"
    )
    stored = churn_dumps(model)
    print(f"stored model: {len(stored):,} bytes")

    chunks = range(0, args.score, args.chunk)
    # CPU seconds beside wall seconds: the machine is shared, and the model runs on one thread (THREADS).
    timings = {"load": 0.0, "predict": 0.0, "reasons": 0.0}
    cpu = dict.fromkeys(timings, 0.0)
    for first in chunks:
        chunk, _ = population(members=min(args.chunk, args.score - first), seed=1000 + first)
        for step in timings:
            started, started_cpu = time.perf_counter(), time.process_time()
            if step == "load":
                loaded = churn_loads(stored)
            elif step == "predict":
                churn_predict(loaded, features=chunk)
            else:
                reasons = churn_reasons(loaded, features=chunk)
            timings[step] += time.perf_counter() - started
            cpu[step] += time.process_time() - started_cpu
    totals = ", ".join(f"{name} {total:.1f} s (CPU {cpu[name]:.1f} s)" for name, total in timings.items())
    print(f"scored {args.score:,} members in {len(chunks)} chunks: {totals}")
    per_chunk = ", ".join(f"{name} {1000 * total / len(chunks):.0f} ms" for name, total in cpu.items())
    print(f"CPU per chunk of {args.chunk:,}: {per_chunk}")

    rows = chunk.to_dict("records")
    started = time.process_time()
    for row, member_reasons in zip(rows, reasons, strict=True):
        [reason_text(reason, row=row) for reason in member_reasons]
    print(f"reason texts for the last chunk: CPU {time.process_time() - started:.2f} s")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
