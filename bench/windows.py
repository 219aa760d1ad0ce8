"""Benchmark the 30/90/365-day purchase columns on the bench database: "orders in the last 90 days > 2" counted
through the columns and through the purchases (the fallback while the columns do not hold today), with their
plans, and the daily roll. Prints Markdown; the plans with --explain.

    .venv/bin/python -m bench.windows [--runs 20] [--database-url URL] [--explain]

Nothing is left changed: the roll is timed by recording an earlier day and rolling to today, which recounts
exactly the members a real roll from that day recounts (their columns already hold today, so they stay as
they are); the fallback is compiled inside a transaction that says the columns are stale, then rolled back.
"""

import argparse
import datetime
import os
import resource
import time

from bench import db
from bench.segments import timed

ORDERS_90 = {"op": "and", "rules": [{"field": "orders_in_period", "operator": "gt", "value": 2, "days": 90}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.setup_django(url)

    from django.db import connection, transaction
    from django.utils import timezone

    from customers.models import Customer
    from interactions.models import PurchaseStats, PurchaseWindows, Transaction
    from interactions.services import purchase_windows_roll
    from marketing.rules import rule_compile

    load = os.getloadavg()
    print(
        f"members {Customer.objects.count():,}, purchases {Transaction.objects.count():,}, "
        f"purchase-facts rows {PurchaseStats.objects.count():,}"
    )
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    print("| what | time | result |")
    print("| --- | ---: | ---: |")
    today = timezone.localdate()
    for days_behind in (None, 1, 7):
        if days_behind is not None:
            PurchaseWindows.objects.update_or_create(pk=1, defaults={"day": today - datetime.timedelta(days_behind)})
        started = time.perf_counter()
        moved = purchase_windows_roll()
        what = "roll to today" if days_behind is None else f"roll of {days_behind} day(s)"
        print(f"| {what} | {time.perf_counter() - started:.2f} s | {moved:,} members recounted |")

    columns = rule_compile(ORDERS_90)
    with transaction.atomic():
        PurchaseWindows.objects.update(day=today - datetime.timedelta(days=1))
        purchases = rule_compile(ORDERS_90)
        transaction.set_rollback(True)
    print("\n| orders in the last 90 days > 2 | median | p95 | members |")
    print("| --- | ---: | ---: | ---: |")
    plans = []
    for name, q in [("through the columns", columns), ("through the purchases (fallback)", purchases)]:
        queryset = Customer.objects.filter(q)
        median, p95, count = timed(queryset.count, args.runs)
        print(f"| {name} | {median:.0f} ms | {p95:.0f} ms | {count:,} |")
        if args.explain:
            sql, params = queryset.order_by().values("pk").query.sql_with_params()
            with connection.cursor() as cursor:  # the count's plan (Postgres flattens the subquery)
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) AS matched", params)
                plans.append((name, "\n".join(row[0] for row in cursor.fetchall())))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MB")
    for name, plan in plans:
        print(f"\n{name}:\n\n```\n{plan}\n```")


if __name__ == "__main__":
    main()
