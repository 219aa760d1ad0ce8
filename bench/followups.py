"""Benchmark for follow-ups (issue 4): the customer timeline for a customer with 5,000
interactions and 1,000 purchases, and the reminder notification job over 100,000 due reminders.

    .venv/bin/python -m bench.followups [--reminders 100000] [--runs 30]

It uses its own database (crm_bench_followups, or BENCH_FOLLOWUPS_DATABASE_URL): the two
measurements depend on one customer's history and on the reminder backlog, not on how many
other customers there are, so it holds 10,000 customers and fills in a minute.
"""

import argparse
import os
import random
import resource
import statistics
import time

from bench import db

URL = os.environ.get("BENCH_FOLLOWUPS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_followups")
CUSTOMERS = 10_000
HEAVY_INTERACTIONS, HEAVY_PURCHASES = 5_000, 1_000


def log(message: str) -> None:
    print(f"[{time.perf_counter() - START:7.1f} s] {message}", flush=True)


def fill(reminders: int) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from crm.roles import Role
    from customers.models import Customer
    from interactions.models import Direction, Interaction, InteractionChannel, Outcome, Reminder, Transaction
    from interactions.services import transactions_bulk_load

    if Customer.objects.exists():
        log("data present, not filling")
        return
    User = get_user_model()
    staff = []
    for i in range(20):
        user = User.objects.create_user(f"staff{i}", f"staff{i}@example.com", "x")
        user.groups.add(Group.objects.get(name=Role.SERVICE))
        staff.append(user)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (name, gender, mobile, email, occupation, company, province, city,"
            " address, source, registered_on, owner_id, points_balance, notes, email_opt_in, sms_opt_in,"
            " created_at, updated_at)"
            " SELECT '客户' || g, 'unknown', '+86139' || lpad(g::text, 8, '0'), '', '', '', '浙江省', '杭州市', '',"
            " 'store', current_date, %s, 0, '', false, true, now(), now() FROM generate_series(1, %s) g",
            [staff[0].pk, CUSTOMERS],
        )
    log(f"{CUSTOMERS:,} customers")
    rng = random.Random(7)
    now = timezone.now()
    heavy = Customer.objects.order_by("pk").first()
    channels, outcomes = list(InteractionChannel), list(Outcome)
    Interaction.objects.bulk_create(
        Interaction(
            customer=heavy,
            channel=rng.choice(channels),
            direction=rng.choice(list(Direction)),
            subject=f"第 {i} 次联系",
            outcome=rng.choice(outcomes),
            staff=rng.choice(staff),
            occurred_at=now - timedelta(minutes=37 * i),
            satisfaction=rng.choice([None, 1, 2, 3, 4, 5]),
        )
        for i in range(HEAVY_INTERACTIONS)
    )
    purchases = [
        Transaction(customer=heavy, amount=Decimal(rng.randint(20, 2000)), occurred_at=now - timedelta(hours=17 * i))
        for i in range(HEAVY_PURCHASES)
    ]
    transactions_bulk_load(transactions=purchases, lines=[[] for _ in purchases])
    log(f"one customer with {HEAVY_INTERACTIONS:,} interactions and {HEAVY_PURCHASES:,} purchases")
    ids = list(Customer.objects.values_list("pk", flat=True))
    for start in range(0, reminders, 10_000):
        Reminder.objects.bulk_create(
            Reminder(
                customer_id=rng.choice(ids),
                assignee=rng.choice(staff),
                due_at=now - timedelta(minutes=rng.randint(1, 600)),
                text="回访客户",
            )
            for _ in range(min(10_000, reminders - start))
        )
    log(f"{reminders:,} due reminders")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(client, url: str, runs: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        client.get(url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(queries)


def page_50(client, customer) -> str:
    """The cursor of the interactions timeline's page 50, reached by following "Older" 49 times."""
    import re

    cursor = ""
    for _ in range(49):
        body = client.get(customer.get_absolute_url(), {"timeline": "interactions", "timeline_page": cursor})
        cursor = re.findall(r"timeline_page=(o\.[^\"&#]+)", body.content.decode())[0]
    return cursor


def measure_timeline(runs: int) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from customers.models import Customer

    client = Client()
    client.force_login(get_user_model().objects.get(username="staff0"))
    heavy = Customer.objects.order_by("pk").first()
    light = Customer.objects.order_by("-pk").first()
    rows = ["| page | median ms | p95 ms | queries |", "| --- | --- | --- | --- |"]
    for label, url in [
        (
            f"customer page, {HEAVY_INTERACTIONS:,} interactions + {HEAVY_PURCHASES:,} purchases",
            heavy.get_absolute_url(),
        ),
        ("customer page, no history", light.get_absolute_url()),
        (
            "timeline filtered to interactions, page 50",
            heavy.get_absolute_url() + "?timeline=interactions&timeline_page=" + page_50(client, heavy),
        ),
    ]:
        median, p95, queries = timed(client, url, runs)
        rows.append(f"| {label} | {median:.1f} | {p95:.1f} | {queries} |")
        log(rows[-1])
    return rows


def measure_notify() -> list[str]:
    from django.db import connection

    from crm.models import Notification
    from interactions.models import Reminder
    from interactions.services.followups import reminders_notify_due

    # Every run measures the same backlog: what an earlier run notified is due again.
    Reminder.objects.filter(notified_at__isnull=False).update(notified_at=None)
    Notification.objects.all().delete()
    with connection.cursor() as cursor:
        for model in (Reminder, Notification):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    due = Reminder.objects.filter(notified_at__isnull=True).count()
    start = time.perf_counter()
    notified = reminders_notify_due()
    seconds = time.perf_counter() - start
    again = reminders_notify_due()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = (
        f"| {due:,} due reminders | {notified:,} notified in {seconds:.1f} s ({notified / seconds:,.0f}/s) |"
        f" second run notified {again} | peak {peak:.0f} MB |"
    )
    log(line)
    return ["| backlog | first run | second run | memory |", "| --- | --- | --- | --- |", line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    # E-mails go nowhere: the job's cost is the claim, the notification and the hand-off.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    db.ensure_database(URL)
    db.migrate(URL)
    db.setup_django(URL)
    fill(args.reminders)
    print("\n".join(measure_timeline(args.runs)))
    print("\n".join(measure_notify()))


START = time.perf_counter()

if __name__ == "__main__":
    main()
