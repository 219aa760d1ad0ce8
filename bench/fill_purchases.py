"""Fill the bench database with N purchases for its customers, then the points ledger, balances
and tiers that follow from them.

    .venv/bin/python -m bench.fill_purchases --transactions 10000000 [--database-url URL]

Purchases, their lines and the points ledger are replaced; customers keep everything but their
points balance, tier and tier date. COPY streams while the rows are being made (Postgres takes
them on the other core); indexes and foreign keys are set aside around every bulk write.
"""

import argparse
import io
import tempfile
import time
from datetime import timedelta

from bench import db, ledger, purchases
from bench.indexes import restore, set_aside

TABLES = ("interactions_transaction", "interactions_transactionline", "customers_pointsentry")
CUSTOMERS_SQL = """
SELECT c.id, c.registered_on, coalesce(t.rank, 0) FROM customers_customer c
LEFT JOIN customers_tier t ON t.id = c.tier_id ORDER BY c.id
"""
# The worst case for the customer page: a long-standing member with a phone, the first by id.
HEAVY_SQL = "SELECT min(id) FROM customers_customer WHERE registered_on < %s AND mobile <> ''"


class Stream(io.RawIOBase):
    """A file to read from, over an iterator of text: COPY pulls rows as they are made."""

    def __init__(self, chunks):
        self._chunks, self._buffer = chunks, b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk.encode()
        size = len(self._buffer) if size < 0 else size
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def products() -> list[tuple[int, str, int]]:
    """The catalogue in the database, matched by SKU so a re-run reuses it: (id, name, cents)."""
    from customers.models import Category
    from interactions.models import Product

    rows = []
    for sku, name, category, cents in purchases.catalogue():
        category = Category.objects.get_or_create(name=category)[0]
        product = Product.objects.update_or_create(
            sku=sku, defaults={"name": name, "category": category, "price": cents / 100}
        )[0]
        rows.append((product.pk, name, cents))
    return rows


def fill(*, transactions: int, seed: int = 2026) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.fill import reference_data

    started = time.perf_counter()
    staff, _tiers = reference_data()
    catalogue = products()
    first_day = timezone.localdate() - timedelta(days=purchases.DAYS)
    with connection.cursor() as cur:
        cur.execute(HEAVY_SQL, [first_day])
        heavy = cur.fetchone()[0]
        cur.execute(CUSTOMERS_SQL)
        customers = [(cid, max(0, min(purchases.DAYS, (reg - first_day).days)), rank) for cid, reg, rank in cur]
    days = purchases.purchase_days(customers, total=transactions, heavy=heavy, seed=seed)
    _progress(f"{transactions:,} purchases spread over {len(customers):,} customers; customer id {heavy} has "
              f"{purchases.HEAVY_COUNT}", started)  # fmt: skip
    rows = purchases.purchase_rows(days, customers, first_day=first_day, products=catalogue, staff=staff, seed=seed)
    with transaction.atomic(), connection.cursor() as cur, tempfile.TemporaryFile() as lines:
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cur.execute("SET LOCAL work_mem = '1GB'")
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
        aside = [s for table in TABLES for s in set_aside(cur, table, foreign_keys=True)]

        def transactions_text():
            copied = 0
            for d, (text, line_text) in enumerate(rows, start=1):
                lines.write(line_text.encode())
                copied += text.count("\n")
                if d % 73 == 0:
                    _progress(f"{copied:>12,} / {transactions:,} purchases copied", started)
                yield text

        columns = ", ".join(purchases.TRANSACTION_COLUMNS)
        cur.copy_expert(f"COPY interactions_transaction ({columns}) FROM STDIN", Stream(transactions_text()), 1 << 20)
        lines.seek(0)
        columns = ", ".join(purchases.LINE_COLUMNS)
        cur.copy_expert(f"COPY interactions_transactionline ({columns}) FROM STDIN", lines, 1 << 20)
        _progress(f"{cur.rowcount:>12,} purchase lines copied", started)
        cur.execute("SELECT setval(pg_get_serial_sequence('interactions_transaction', 'id'), %s)", [transactions])
        cur.execute(ledger.POINTS, ledger.parameters())
        _progress(f"{cur.rowcount:>12,} points entries", started)
        restore(cur, aside, lambda message: _progress(message, started))
        # An UPDATE of every customer: their own secondary indexes are set aside for it too.
        indexes = set_aside(cur, "customers_customer")
        cur.execute(ledger.CUSTOMERS, ledger.parameters())
        _progress(f"{cur.rowcount:>12,} customers' balances and tiers set", started)
        restore(cur, indexes, lambda message: _progress(message, started))
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"VACUUM (ANALYZE) {table}")
        # The UPDATE left a dead copy of every customer row behind: rewrite the table so the list
        # pages scan what they scanned before the purchases came.
        cur.execute("VACUUM (FULL, ANALYZE) customers_customer")
    _progress("vacuumed and analyzed", started)


def _progress(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help=f"default: $BENCH_DATABASE_URL or {db.DEFAULT_URL}")
    args = parser.parse_args()
    url = db.database_url(args.database_url)
    db.ensure_database(url)
    db.migrate(url)
    db.setup_django(url)
    fill(transactions=args.transactions, seed=args.seed)


if __name__ == "__main__":
    main()
