"""Benchmark the dashboards (budget: the page and each chart endpoint under 300 ms at p95) on the bench database
(1,000,000 members and 10,000,000 purchases over two years: fill it with bench/run.py, then fill the daily tables
with `manage.py refresh_aggregates --full` or bench/aggregates.py).

    .venv/bin/python -m bench.dashboard [--runs 30] [--database-url URL]

Times, through Django's test client as a manager, the home page, the dashboard page, its key figures for three
ranges (30 days by day, a year by week, two years by month), every registered chart's JSON endpoint (the KPI
charts at the same three ranges) and one CSV, and the reports pages. Prints Markdown: median and p95 in ms, and
the queries of one request (a dashboard request reads the daily tables, never the purchase table: the count of
queries touching interactions_transaction is printed too, and must be 0).
"""

import argparse
import datetime
import os
import resource
import statistics
import time

from bench import db

BUDGET_MS = 300


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm-up: the first request loads the templates and the URL conf
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.migrate(url)
    db.setup_django(url)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from analytics.models import DailyKpi
    from crm import charts
    from customers.models import Customer
    from interactions.models import Transaction
    from marketing.models import Segment
    from marketing.services.reports import segment_snapshot_take
    from tests.logins import force_login

    today = timezone.localdate()
    ranges = {
        "30 days by day": {"start": today - datetime.timedelta(days=29), "end": today, "grain": "day"},
        "a year by week": {"start": today - datetime.timedelta(days=364), "end": today, "grain": "week"},
        "two years by month": {"start": today - datetime.timedelta(days=730), "end": today, "grain": "month"},
    }
    user, _ = get_user_model().objects.get_or_create(username="bench-manager")
    user.groups.set([Group.objects.get(name="Manager")])
    client = Client(HTTP_HOST="localhost")  # settings' ALLOWED_HOSTS has no "testserver"
    force_login(client, user)  # with the second factor a manager needs (tests/logins.py)

    load = os.getloadavg()
    print(
        f"members {Customer.objects.count():,}, purchases {Transaction.objects.count():,}, "
        f"daily rows {DailyKpi.objects.count():,}; load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n"
    )
    print(f"| what | median ms | p95 ms | queries | on purchases | budget {BUDGET_MS} ms |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    misses = 0

    def row(label: str, path: str, params: dict | None = None) -> None:
        nonlocal misses
        params = {key: str(value) for key, value in (params or {}).items()}

        def get():
            response = client.get(path, params)
            assert response.status_code == 200, (path, response.status_code)
            return response

        # Counted by an execute wrapper: the request's start empties connection.queries (reset_queries).
        queries: list[str] = []

        def record(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            get()
        on_purchases = sum("interactions_transaction" in sql for sql in queries)
        median, p95 = timed(get, args.runs)
        met = p95 < BUDGET_MS and on_purchases == 0
        misses += not met
        print(
            f"| {label} | {median:.1f} | {p95:.1f} | {len(queries)} | {on_purchases} "
            f"| {'met' if met else '**missed**'} |"
        )

    row("home (manager: the business)", reverse("home"))
    row("dashboard page", reverse("analytics:dashboard"))
    for name, params in ranges.items():
        row(f"key figures, {name}", reverse("analytics:dashboard_tiles"), params)
    row("category report page", reverse("analytics:category_report"))
    # The segment report's charts read one segment's snapshots: the first segment's, made if there is none.
    segment = Segment.objects.order_by("pk").first() or Segment.objects.create(name="bench everyone")
    if not segment.snapshots.exists():
        segment_snapshot_take(segment=segment)
    row("marketing reports page", reverse("marketing:reports"))
    row("segment report page", reverse("marketing:segment_report", args=[segment.pk]))
    for key, chart in sorted(charts.charts().items()):
        if chart.form is not None and key.startswith("kpi_"):
            for name, params in ranges.items():
                row(f"chart {key}, {name}", reverse("chart_json", args=[key]), params)
        elif key.startswith("segment_"):
            row(f"chart {key}", reverse("chart_json", args=[key]), {"segment": segment.pk})
        else:
            row(f"chart {key}", reverse("chart_json", args=[key]))
    row("CSV kpi_sales, two years by month", reverse("chart_csv", args=["kpi_sales"]), ranges["two years by month"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{misses} missed; peak memory of this process {peak:.0f} MB")


if __name__ == "__main__":
    main()
