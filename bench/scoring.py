"""Benchmark scoring on the bench database (1,000,000 members and 10,000,000 purchases: fill them with bench/run.py).

Runs a real scoring run (analytics/services/scoring.py): the fit in this process, then the chunks taken by
--workers processes as Celery workers would take them (any process any chunk), and reports each step's time and
the peak memory of the largest process. Then, for comparison, the same RFM scores computed by one SQL statement
and by pandas alone on the same purchases (each read whole from Postgres).

    .venv/bin/python -m bench.scoring [--parts rfm] [--parts rfm,clv,churn,recommendations] [--workers 2]
                                      [--compare] [--database-url URL]

Budgets (docs: ARCHITECTURE.md): RFM of everyone under 60 s; churn and CLV of everyone under 3 minutes; peak
memory under 2 GB.
"""

import argparse
import io
import multiprocessing
import os
import resource
import sys
import time

from bench import db


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(chunks: multiprocessing.Queue, results: multiprocessing.Queue) -> None:
    from django.db import connections

    connections.close_all()  # never the parent's socket
    from analytics.services.scoring import scoring_chunk

    done = 0
    while True:
        pk = chunks.get()
        if pk is None:
            break
        scoring_chunk(chunk_id=pk)
        done += 1
    results.put({"chunks": done, "rss_mb": _rss_mb()})


def run(parts: list[str], workers: int) -> dict:
    from django.db import connections

    from analytics.models import ScoringRun
    from analytics.services import scoring

    ScoringRun.objects.filter(status__in=["queued", "fitting", "scoring"]).update(status="failed")
    started = time.perf_counter()
    run = scoring.scoring_run_start(params={"parts": parts}, queue=False)  # this bench runs the fit and chunks
    scoring.scoring_fit(run_id=run.pk, queue=False)
    fit_seconds = time.perf_counter() - started
    run.refresh_from_db()
    ids = list(run.chunks.order_by("number").values_list("pk", flat=True))
    connections.close_all()

    context = multiprocessing.get_context("fork")
    chunks, results = context.Queue(), context.Queue()
    for pk in ids:
        chunks.put(pk)
    for _ in range(workers):
        chunks.put(None)
    begun = time.perf_counter()
    processes = [context.Process(target=_worker, args=(chunks, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    answers = [results.get() for _ in processes]
    for process in processes:
        process.join()
    score_seconds = time.perf_counter() - begun
    run.refresh_from_db()
    return {
        "run": run,
        "fit": fit_seconds,
        "score": score_seconds,
        "total": time.perf_counter() - started,
        "peak_mb": max([a["rss_mb"] for a in answers] + [_rss_mb()]),
    }


def rfm_one_sql() -> tuple[float, int]:
    """The same R, F, M scores and segments as the run's (edges by percentile_disc, a value on an edge in the
    quintile below) computed and written to a scratch table by one statement."""
    from django.db import connection

    sql = """
        CREATE TEMP TABLE bench_rfm AS
        WITH m AS (
            SELECT customer_id,
                current_date - max((occurred_at AT TIME ZONE 'Asia/Shanghai')::date)
                    FILTER (WHERE status <> 'refunded') AS recency,
                count(*) FILTER (WHERE status <> 'refunded' AND occurred_at > now() - interval '365 days') AS frequency,
                round(coalesce(sum(amount - refunded_amount) FILTER (WHERE occurred_at > now() - interval '365 days'),
                      0) * 100)::bigint AS monetary
            FROM interactions_transaction GROUP BY customer_id
            HAVING count(*) FILTER (WHERE status <> 'refunded') > 0
        ), e AS (
            SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY recency) AS r,
                percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY frequency) AS f,
                percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY monetary) AS m
            FROM m
        ), s AS (
            SELECT m.customer_id,
                6 - (1 + (m.recency > e.r[1])::int + (m.recency > e.r[2])::int + (m.recency > e.r[3])::int
                     + (m.recency > e.r[4])::int) AS r,
                1 + (m.frequency > e.f[1])::int + (m.frequency > e.f[2])::int + (m.frequency > e.f[3])::int
                    + (m.frequency > e.f[4])::int AS f,
                1 + (m.monetary > e.m[1])::int + (m.monetary > e.m[2])::int + (m.monetary > e.m[3])::int
                    + (m.monetary > e.m[4])::int AS m
            FROM m, e
        )
        SELECT s.*, g.segment FROM s JOIN analytics_rfmgridcell g ON g.r = s.r AND g.fm = (s.f + s.m + 1) / 2
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_rfm")
        cursor.execute(sql)
        cursor.execute("SELECT count(*) FROM bench_rfm")
        rows = cursor.fetchone()[0]
    return time.perf_counter() - started, rows


def rfm_pandas() -> tuple[float, int, float]:
    """The same scores by pandas alone: every purchase read into one frame (COPY), grouped and cut in memory."""
    import numpy as np
    import pandas as pd
    from django.db import connection

    from analytics.models import RfmGridCell
    from analytics.rfm import fm_score, rfm_score, rfm_segments

    started = time.perf_counter()
    buffer = io.StringIO()
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY (SELECT customer_id, (occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS day, "
            "(status <> 'refunded')::int AS kept, round((amount - refunded_amount) * 100)::bigint AS net "
            "FROM interactions_transaction) TO STDOUT WITH (FORMAT csv, HEADER)",
            buffer,
        )
    buffer.seek(0)
    frame = pd.read_csv(buffer, parse_dates=["day"])
    del buffer
    today = pd.Timestamp.now().normalize()
    inside = frame["day"] > today - pd.Timedelta(days=365)
    frame["orders"] = frame["kept"] * inside
    frame["spent"] = frame["net"] * inside
    frame["kept_day"] = frame["day"].where(frame["kept"] == 1)
    per = frame.groupby("customer_id").agg(last=("kept_day", "max"), f=("orders", "sum"), m=("spent", "sum"))
    per = per.dropna(subset=["last"])
    recency = (today - per["last"]).dt.days.to_numpy()

    def edges(values):
        return [float(v) for v in np.quantile(values, [0.2, 0.4, 0.6, 0.8], method="inverted_cdf")]

    r = rfm_score(recency, edges(recency), higher_is_better=False)
    f = rfm_score(per["f"].to_numpy(), edges(per["f"].to_numpy()))
    m = rfm_score(per["m"].to_numpy(), edges(per["m"].to_numpy()))
    grid = {(c.r, c.fm): c.segment for c in RfmGridCell.objects.all()}
    per["segment"] = rfm_segments(r, fm_score(f, m), grid)
    return time.perf_counter() - started, len(per), _rss_mb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", action="append", help="comma-separated parts; repeat for several runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare", action="store_true", help="also RFM by one SQL statement and by pandas alone")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.migrate(url)
    db.setup_django(url)
    from customers.models import Customer
    from interactions.models import Transaction

    print("command: .venv/bin/python -m bench." + " ".join(["scoring", *sys.argv[1:]]))
    load = os.getloadavg()
    print(
        f"{Customer.objects.count():,} members, {Transaction.objects.count():,} purchases; "
        f"{args.workers} worker processes; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print("| run | fit (s) | chunks (s) | total (s) | members | peak memory (MB) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for parts in args.parts or ["rfm", "rfm,clv,churn,recommendations"]:
        result = run(parts.split(","), args.workers)
        scored = result["run"]
        print(
            f"| {parts} (run {scored.pk}, {scored.status}) | {result['fit']:.1f} | {result['score']:.1f} | "
            f"{result['total']:.1f} | {scored.members:,} | {result['peak_mb']:,.0f} |",
            flush=True,
        )
    if args.compare:
        seconds, rows = rfm_one_sql()
        print(f"\nRFM by one SQL statement (scores and segments into a scratch table): {seconds:.1f} s, {rows:,} rows")
        seconds, rows, peak = rfm_pandas()
        print(
            f"RFM by pandas alone (every purchase read into memory): {seconds:.1f} s, {rows:,} members, "
            f"peak memory {peak:,.0f} MB"
        )
    end = os.getloadavg()
    print(f"\nload average at the end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}")


if __name__ == "__main__":
    main()
