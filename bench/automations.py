"""The birthday automation over a million members: how long finding the day's birthdays and writing their rows takes.

    .venv/bin/python -m bench.automations [--customers 1000000] [--database-url URL] [--runs 3]

Uses the bench database (--database-url, else $BENCH_DATABASE_URL, else crm_bench), filled by bench.fill when it
does not hold --customers members; 2% of them are given lunar birthdays. Times, on a day `--days` ahead of today:
- `birthday_due` (the set-based query: solar by month and day, lunar by the lunar month and day of each day);
- a whole `automation_run` writing the rows through the sending engine's messages_prepare (the control draw and
  the held-out rows' would-be skip reasons included; its batch dispatch turned off, so nothing is sent), then a
  second run that must write none. The rows are deleted afterwards.
"""

import argparse
import resource
import statistics
import subprocess
import sys
import time

from bench import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database-url", help=f"default: $BENCH_DATABASE_URL or {db.DEFAULT_URL}")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.ensure_database(url)
    db.migrate(url)
    db.setup_django(url)
    from django.db import connection
    from django.utils import timezone

    from customers.models import Customer
    from marketing.models import Automation, AutomationKind, Message
    from marketing.services import automations

    if Customer.objects.count() != args.customers:
        cmd = [sys.executable, "-m", "bench.fill", "--customers", str(args.customers), "--database-url", url]
        subprocess.run(cmd, check=True, env=db.django_env(url), cwd=db.ROOT)  # noqa: S603 -- our own arguments
    with connection.cursor() as cur:
        cur.execute("UPDATE customers_customer SET birthday_is_lunar = (id % 50 = 0) WHERE birthday IS NOT NULL")
        cur.execute("ANALYZE customers_customer")
    automation = Automation.objects.get(kind=AutomationKind.BIRTHDAY)
    Automation.objects.filter(pk=automation.pk).update(enabled=True, days=args.days, enabled_at=timezone.now())
    automation.refresh_from_db()
    Message.objects.filter(campaign_id=automation.campaign_id).delete()
    from marketing.services.sending import freeze

    freeze.campaign_dispatch = lambda *, campaign: 0  # rows only: the batches would send them

    now = timezone.now()
    timings, found = [], 0
    for _run in range(args.runs):
        started = time.perf_counter()
        due = automations.birthday_due(automation, now)
        timings.append(time.perf_counter() - started)
        found = sum(len(ids) for ids in due.values())
    started = time.perf_counter()
    written = automations.automation_run(automation=automation, now=now)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = automations.automation_run(automation=automation, now=now)
    second = time.perf_counter() - started
    Message.objects.filter(campaign_id=automation.campaign_id).delete()
    Automation.objects.filter(pk=automation.pk).update(enabled=False, last_run_at=None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"members: {Customer.objects.count():,}; window: today to {args.days} days ahead; load {db_load()}")
    print(f"- birthday_due: median {statistics.median(timings) * 1000:.0f} ms over {args.runs} runs, {found:,} members")
    print(f"- automation_run: {first * 1000:.0f} ms writing {written:,} rows;", end=" ")
    print(f"run again: {second * 1000:.0f} ms, {again} rows")
    print(f"- peak memory of this process: {peak:.0f} MB")


def db_load() -> str:
    import os

    return "/".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
