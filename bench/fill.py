"""Fill the bench database with N customers, fast: COPY first, secondary indexes built afterwards.

    .venv/bin/python -m bench.fill --customers 1000000 [--database-url URL]

Everything in customers_customer (and what references it) is replaced. The CRM number is
left out of the COPY: its database default issues it, as it does for every real customer.
"""

import argparse
import io
import time

from bench import db
from bench.indexes import restore, set_aside
from crm.roles import Role

TIERS = [("普通", 0, 0, "1.00"), ("银卡", 1, 2000, "1.20"), ("金卡", 2, 8000, "1.50"), ("钻石", 3, 30000, "2.00")]
TAGS = ["VIP", "新客", "老客户", "高价值", "母婴", "美妆", "企业客户", "沉睡客户", "Newsletter"]
STAFF = {Role.SALES: 16, Role.SERVICE: 4}  # the owners of customers
CHUNK = 100_000

# About 30% of customers get one to three distinct tags.
TAG_CUSTOMERS = """
SELECT setseed(0.2026);
WITH tagged AS MATERIALIZED (SELECT id FROM customers_customer WHERE random() < 0.3)
INSERT INTO customers_customer_tags (customer_id, tag_id)
SELECT c.id, t.id FROM tagged c
CROSS JOIN LATERAL (SELECT id FROM customers_tag ORDER BY random() LIMIT 1 + c.id % 3) t
"""


def reference_data() -> tuple[list[int], list[int]]:
    """Tiers, tags and staff owners (matched by name, so a re-run reuses them); their ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from customers.models import Tag, Tier

    staff = [(f"{role.lower()}{n:02d}", role) for role, count in STAFF.items() for n in range(1, count + 1)]
    tiers = [
        Tier.objects.update_or_create(name=n, defaults={"rank": r, "min_spend": s, "points_multiplier": m})[0].pk
        for n, r, s, m in TIERS
    ]
    for name in TAGS:
        Tag.objects.get_or_create(name=name)
    owners = []
    for username, role in staff:
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get(name=role))
        owners.append(user.pk)
    return owners, tiers


def fill(*, customers: int, seed: int = 2026) -> None:
    from django.db import connection, transaction

    from bench.people import COLUMNS, customer_lines

    owners, tiers = reference_data()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # Foreign keys are deferred by default; CREATE INDEX refuses to run with checks pending.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("TRUNCATE customers_customer RESTART IDENTITY CASCADE")
        cur.execute("ALTER SEQUENCE customer_crm_number_seq RESTART")
        # Rebuilt afterwards from their own definitions (three are trigram GIN indexes).
        indexes = set_aside(cur, "customers_customer")
        copy = f"COPY customers_customer ({', '.join(COLUMNS)}) FROM STDIN"
        for start in range(0, customers, CHUNK):
            count = min(CHUNK, customers - start)
            lines = customer_lines(start=start, count=count, owners=owners, tiers=tiers, seed=seed)
            cur.copy_expert(copy, io.StringIO(lines))
            _progress(f"{start + count:>10,} / {customers:,} customers copied", started)
        cur.execute(TAG_CUSTOMERS)
        _progress(f"{cur.rowcount:>10,} customer tags", started)
        restore(cur, indexes, lambda message: _progress(message, started))
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) customers_customer")
        cur.execute("VACUUM (ANALYZE) customers_customer_tags")
    _progress("vacuumed and analyzed", started)


def _progress(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help=f"default: $BENCH_DATABASE_URL or {db.DEFAULT_URL}")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.ensure_database(url)
    db.migrate(url)
    db.setup_django(url)
    fill(customers=args.customers, seed=args.seed)


if __name__ == "__main__":
    main()
