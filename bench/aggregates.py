"""Benchmark the dashboards' refresh (analytics/services/aggregates.py) on the bench database (1,000,000 members and
10,000,000 purchases: fill them with bench/run.py).

Times a full re-aggregation, an incremental refresh with nothing new, then a day's worth of purchases (--day,
14,000 by default, each with a line or two) plus --late purchases dated last month inserted and refreshed
incrementally, as the 04:45 job would find them. The inserted purchases are then deleted, their days marked
dirty and refreshed once more (timed too), so the database is left as it was.

    .venv/bin/python -m bench.aggregates [--day 14000] [--late 50] [--no-full] [--database-url URL]

Budget (the task's): a full refresh in a few minutes at most on 2 cores; the daily refresh well inside its slot.
"""

import argparse
import os
import resource
import sys
import time

from bench import db

# A random member per purchase without sorting the members: the first id at or above a random point of the range.
INSERT = """
WITH picked AS MATERIALIZED (
    SELECT n, %(low)s + floor(random() * %(span)s)::bigint AS target FROM generate_series(1, %(count)s) n
)
INSERT INTO interactions_transaction (customer_id, occurred_at, channel, store, amount, currency, status,
    refunded_amount, source, external_ref, points_earned, points_reversed, coupon_code, discount, flagged,
    flag_reasons, created_at)
SELECT (SELECT c.id FROM customers_customer c WHERE c.id >= p.target ORDER BY c.id LIMIT 1),
       %(from)s + random() * (%(until)s - %(from)s), 'store', 'bench', round((20 + random() * 800)::numeric, 2),
       'CNY', 'completed', 0, 'demo', '', 0, 0, CASE WHEN random() < 0.05 THEN 'BENCH' ELSE '' END, 0, false,
       '[]'::jsonb, now()
FROM picked p
RETURNING id
"""

LINES = """
INSERT INTO interactions_transactionline (transaction_id, product_id, description, quantity, unit_price, line_total)
SELECT t.id, p.id, p.name, 1, t.amount, t.amount FROM interactions_transaction t
CROSS JOIN LATERAL (
    SELECT id, name FROM interactions_product WHERE t.id > 0 ORDER BY random() LIMIT 1 + (t.id %% 2)
) p
WHERE t.id = ANY(%(ids)s)
"""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def insert(count: int, since, until) -> list[int]:
    """`count` purchases by random members between the two moments, each with one or two lines."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM customers_customer")
        low, high = cursor.fetchone()
        values = {"count": count, "from": since, "until": until, "low": low, "span": high - low + 1}
        cursor.execute(INSERT, values)
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(LINES, {"ids": ids})
    return ids


def timed(label: str, **kwargs) -> dict:
    from analytics.services.aggregates import aggregates_refresh

    started = time.perf_counter()
    result = aggregates_refresh(**kwargs)
    seconds = time.perf_counter() - started
    print(
        f"| {label} | {seconds:.1f} | {result.get('days', '-')} in {result.get('blocks', '-')} | "
        f"{result.get('months', '-')} | {result.get('rows', '-'):,} | {_rss_mb():,.0f} | "
        + ", ".join(f"{k} {v:.1f}" for k, v in result.get("steps", {}).items())
        + " |",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--day", type=int, default=14_000, help="purchases of the new day")
    parser.add_argument("--late", type=int, default=50, help="purchases dated last month arriving with them")
    parser.add_argument("--full", action=argparse.BooleanOptionalAction, default=True, help="time a full refresh")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.migrate(url)
    db.setup_django(url)
    import datetime

    from django.db import connection
    from django.utils import timezone

    from analytics.aggregates.common import day_start
    from customers.models import Customer
    from interactions.models import Transaction

    print("command: .venv/bin/python -m bench." + " ".join(["aggregates", *sys.argv[1:]]))
    load = os.getloadavg()
    print(
        f"{Customer.objects.count():,} members, {Transaction.objects.count():,} purchases; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print("| refresh | seconds | days in blocks | months | rows written | peak memory (MB) | steps (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    if args.full:
        timed("full (all history)", full=True)
    else:
        timed("incremental (catching up before the timed ones)")
    timed("incremental, nothing new (the last two days)")

    now = timezone.now()
    today = timezone.localdate(now)
    last_month = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    ids = insert(args.day, day_start(today), max(now, day_start(today) + datetime.timedelta(minutes=1)))
    ids += insert(args.late, day_start(last_month), day_start(today.replace(day=1)))
    timed(f"incremental after {args.day:,} purchases today and {args.late} dated last month")

    with connection.cursor() as cursor:  # leave the database as it was: the days of the deleted rows are redone
        cursor.execute(
            """INSERT INTO analytics_dirtyday (day, marked_at)
               SELECT DISTINCT (occurred_at AT TIME ZONE %s)::date, now() FROM interactions_transaction
               WHERE id = ANY(%s) ON CONFLICT (day) DO NOTHING""",
            [timezone.get_default_timezone_name(), ids],
        )
        cursor.execute("DELETE FROM interactions_transactionline WHERE transaction_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM interactions_transaction WHERE id = ANY(%s)", [ids])
    timed("incremental after deleting them again (dirty days)")
    end = os.getloadavg()
    print(f"\nload average at the end {end[0]:.2f} {end[1]:.2f} {end[2]:.2f}")


if __name__ == "__main__":
    main()
