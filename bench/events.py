"""Ingest N shop-behaviour events through POST /api/v1/events/ (Django's test client, the whole stack in
this process, a real token with the events:write scope) in batches of 1,000, into a database of members.
Prints Markdown: events per second, the time per batch, peak memory, and the table's size on disk.

    .venv/bin/python -m bench.events [--events 1000000] [--customers 100000] [--database-url URL]

The database defaults to crm_events_bench (not the bench's crm_bench): it is migrated, filled with the
bench's customers and catalogue when it has fewer members than asked, and its behaviour table emptied
before the run. A fifth of the events name the member by phone, the rest by CRM number; their times are
spread over the last 60 days (three monthly partitions). After the ingest, the same batch sent again
(all duplicates) and a segment count on the new facts are timed too.
"""

import argparse
import datetime
import json
import os
import random
import resource
import statistics
import time
import uuid

from bench import db

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/crm_events_bench"
KINDS = ["product_view"] * 6 + ["category_view"] * 2 + ["favourite", "cart_add"]
SPREAD_SECONDS = 60 * 24 * 3600


def prepare(customers: int) -> None:
    from django.db import connection

    from bench.fill import fill
    from bench.fill_purchases import products
    from customers.models import Customer

    if Customer.objects.count() < customers:
        fill(customers=customers)
    products()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE interactions_behaviourevent")


def batches(*, events: int, size: int, seed: int):
    """Request bodies, made before the clock starts for each request."""
    from django.utils import timezone

    from customers.models import Category, Customer
    from interactions.models import Product

    rng = random.Random(seed)
    members = list(Customer.objects.exclude(mobile="").values_list("crm_number", "mobile"))
    skus = list(Product.objects.values_list("sku", flat=True))
    categories = list(Category.objects.values_list("name", flat=True))
    now = timezone.now()
    for start in range(0, events, size):
        batch = []
        for _ in range(min(size, events - start)):
            number, mobile = rng.choice(members)
            kind = rng.choice(KINDS)
            event = {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "kind": kind,
                "occurred_at": (now - datetime.timedelta(seconds=rng.random() * SPREAD_SECONDS)).isoformat(),
            }
            event |= {"phone": mobile[3:]} if rng.random() < 0.2 else {"member": str(number)}
            event |= {"category": rng.choice(categories)} if kind == "category_view" else {"sku": rng.choice(skus)}
            batch.append(event)
        yield json.dumps({"events": batch})


def table_size() -> tuple[int, int, int]:
    """(rows, heap bytes, index bytes) over every partition."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce(sum(c.reltuples), 0)::bigint, coalesce(sum(pg_table_size(i.inhrelid)), 0),"
            " coalesce(sum(pg_indexes_size(i.inhrelid)), 0)"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'interactions_behaviourevent'::regclass"
        )
        return cur.fetchone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-ingest", action="store_true", help="only the segment count, on the events there")
    parser.add_argument("--skip-segments", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("EVENTS_BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    db.ensure_database(args.database_url)
    db.migrate(args.database_url)
    db.setup_django(args.database_url)

    if not args.skip_ingest:
        ingest(args)
    if not args.skip_segments:
        segment_counts()


def ingest(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    from crm.web.api.models import Scope
    from crm.web.api.services import api_client_create
    from customers.models import Customer

    prepare(args.customers)
    _client, token = api_client_create(name=f"bench events {time.time():.0f}", scopes=[Scope.EVENTS_WRITE])
    http = Client(HTTP_HOST="localhost", headers={"authorization": f"Bearer {token}"})
    load = os.getloadavg()
    print(f"members {Customer.objects.count():,}; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")

    times, accepted, last_body, started = [], 0, "", time.perf_counter()
    for n, body in enumerate(batches(events=args.events, size=args.batch, seed=args.seed), 1):
        t0 = time.perf_counter()
        response = http.post("/api/v1/events/", body, content_type="application/json")
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content[:500]
        accepted += response.json()["accepted"]
        last_body = body
        if n % 100 == 0:
            print(f"[{time.perf_counter() - started:6.1f} s] {n * args.batch:>10,} events posted", flush=True)
    wall = time.perf_counter() - started
    in_requests = sum(times)
    t0 = time.perf_counter()
    again = http.post("/api/v1/events/", last_body, content_type="application/json").json()
    resend = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE interactions_behaviourevent")
    rows, heap, indexes = table_size()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times.sort()
    print("\n| what | figure |")
    print("| --- | ---: |")
    print(f"| events posted / accepted | {args.events:,} / {accepted:,} |")
    print(f"| events per second (time in requests) | {args.events / in_requests:,.0f} |")
    print(f"| events per second (wall, incl. making the batches) | {args.events / wall:,.0f} |")
    print(
        f"| batch of {args.batch:,}: median / p95 | {statistics.median(times) * 1000:.0f} ms / "
        f"{times[int(len(times) * 0.95) - 1] * 1000:.0f} ms |"
    )
    print(f"| the last batch sent again ({again['duplicate']:,} duplicates) | {resend * 1000:.0f} ms |")
    print(f"| peak memory of this process (client and server) | {peak_mb:,.0f} MB |")
    print(f"| table on disk: rows / heap / indexes | {rows:,} / {heap / 2**20:,.0f} MB / {indexes / 2**20:,.0f} MB |")
    print(f"| bytes per event (heap + indexes) | {(heap + indexes) / max(rows, 1):.0f} |")


def segment_counts() -> None:
    """A marketer's rule on the new facts, counted over everyone (median of 5)."""
    from customers.models import Category, Customer
    from marketing.rules import rule_compile

    category = Category.objects.order_by("pk").first().pk
    rules = {
        "op": "and",
        "rules": [
            {"field": "viewed_category", "operator": "in", "value": [category], "days": 7, "times": 3},
            {"field": "bought_category", "operator": "not_in", "value": [category], "days": 7},
        ],
    }
    for name, tree in [("viewed category X 3+ times in 7 days, and did not buy from it", rules)]:
        times, count = [], 0
        for _ in range(5):
            t0 = time.perf_counter()
            count = Customer.objects.filter(rule_compile(tree)).count()
            times.append(time.perf_counter() - t0)
        print(f"| segment count: {name} | {statistics.median(times) * 1000:.0f} ms ({count:,} members) |")


if __name__ == "__main__":
    main()
