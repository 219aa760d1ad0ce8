"""The monthly partitions of the behaviour table (interactions.models.behaviour): made ahead, dropped when old.

A month's partition holds the events whose time falls in that UTC month, and is named after it
(interactions_behaviourevent_p2026_11). Kept: CRM_BEHAVIOUR_RETENTION_MONTHS calendar months, the current
one included. The daily job makes the next months' partitions ahead and drops the expired ones whole (no
row-by-row delete, no vacuum); a batch bringing a month without one (a backfill) has it made on demand
first, in its own transaction: making a partition locks the whole table until that batch commits, which is
why the daily job makes them ahead.
"""

import datetime
import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

TABLE = "interactions_behaviourevent"
AHEAD_MONTHS = 2  # made ahead beyond the current month, so a batch seldom has to make one
_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
# Serialises making and dropping partitions between processes (two batches needing the same new month).
_LOCK_KEY = 0x6265_6876  # "behv"


def month_of(moment: datetime.datetime) -> datetime.date:
    utc = moment.astimezone(datetime.UTC)
    return datetime.date(utc.year, utc.month, 1)


def add_months(month: datetime.date, months: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_start(month: datetime.date) -> datetime.datetime:
    return datetime.datetime(month.year, month.month, 1, tzinfo=datetime.UTC)


def partition_name(month: datetime.date) -> str:
    return f"{TABLE}_p{month.year:04d}_{month.month:02d}"


def oldest_kept_month(now: datetime.datetime | None = None) -> datetime.date:
    return add_months(month_of(now or timezone.now()), 1 - settings.CRM_BEHAVIOUR_RETENTION_MONTHS)


def retention_start(now: datetime.datetime | None = None) -> datetime.datetime:
    """Events before this are past retention: refused when posted, and their partition dropped."""
    return month_start(oldest_kept_month(now))


def behaviour_partitions() -> list[datetime.date]:
    """The months that have a partition, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = [datetime.date(int(m[1]), int(m[2]), 1) for name in names if (m := _NAME.match(name))]
    return sorted(months)


def behaviour_partitions_ensure(*, months: set[datetime.date]) -> list[datetime.date]:
    """Make the partitions these months lack; the months made. One catalog query when none is missing."""
    if not months:
        return []
    names = {partition_name(m): m for m in months}
    with transaction.atomic(), connection.cursor() as cursor:
        missing_sql = "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL"
        cursor.execute(missing_sql, [list(names)])
        if not cursor.fetchall():
            return []
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(missing_sql, [list(names)])  # again under the lock: another process may have made them
        made = sorted(names[row[0]] for row in cursor.fetchall())
        for month in made:
            # Names and bounds come from dates, never from input text.
            start, end = month_start(month).isoformat(), month_start(add_months(month, 1)).isoformat()
            cursor.execute(
                f"CREATE TABLE {partition_name(month)} PARTITION OF {TABLE} FOR VALUES FROM ('{start}') TO ('{end}')"
            )
    return made


def behaviour_partitions_drop_expired(*, now: datetime.datetime | None = None) -> list[datetime.date]:
    """Drop the partitions of months past retention; the months dropped."""
    oldest = oldest_kept_month(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        # A table with deferred foreign-key checks pending cannot be dropped: run them now (a no-op unless
        # this transaction wrote events).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        expired = [month for month in behaviour_partitions() if month < oldest]
        for month in expired:
            cursor.execute(f"DROP TABLE {partition_name(month)}")
    return expired


def behaviour_partitions_maintain(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The daily job: this month's and the next AHEAD_MONTHS' partitions made, expired ones dropped."""
    current = month_of(now or timezone.now())
    made = behaviour_partitions_ensure(months={add_months(current, n) for n in range(AHEAD_MONTHS + 1)})
    dropped = behaviour_partitions_drop_expired(now=now)
    return {"made": len(made), "dropped": len(dropped)}
