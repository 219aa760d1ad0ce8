"""What changed since the last refresh: new rows past the watermarks, and the days refunds and merges marked.

New purchases, points entries and customers are found by id (ids only grow; late-arriving purchases dated last
month included). A refund or a merge changes rows in place, so their receivers mark the days they touch as
DirtyDay rows in the same transaction as the change. A known gap: a row whose id was taken before a refresh read
the watermarks but that commits after it (a long import) lies below the next watermark; its days are caught when
the refresh's "last two days" cover them, or by the next full refresh.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from analytics.aggregates.common import local_day, params, rows, run
from analytics.models import AggregateState, DirtyDay

MARK = """
INSERT INTO {dirty} (day, marked_at) {select}
ON CONFLICT (day) DO UPDATE SET marked_at = EXCLUDED.marked_at
"""


def _mark(select: str, values: dict) -> None:
    # A later mark of a marked day moves marked_at on, so a refresh that read the earlier mark deletes only that
    # one (state_save) and the day is recomputed again next time. Sorted, so concurrent markers lock in one order.
    run(MARK.format(dirty="{dirty}", select=select), values)


def purchase_changed_mark(sender, transaction, **kwargs) -> None:
    """interactions.signals.purchase_changed: the purchase's day, and when a refund in full took a member's first
    purchase, the day of the purchase that is now their first (it stops being a returning order)."""
    values = params(id=transaction.pk, customer=transaction.customer_id, at=transaction.occurred_at)
    select = f"SELECT DISTINCT {local_day('%(at)s::timestamptz')}, clock_timestamp()"
    _mark(select, values)
    if transaction.status != "refunded":
        return
    _mark(
        f"""SELECT {local_day("p.occurred_at")}, clock_timestamp() FROM {{tx}} p
            WHERE p.customer_id = %(customer)s AND p.status <> %(refunded)s
              AND NOT EXISTS (
                  SELECT 1 FROM {{tx}} e WHERE e.customer_id = %(customer)s AND e.status <> %(refunded)s
                    AND (e.occurred_at, e.id) < (%(at)s::timestamptz, %(id)s))
            ORDER BY p.occurred_at, p.id LIMIT 1""",
        values,
    )


def merge_mark(sender, survivor, other, **kwargs) -> None:
    """customers.signals.customer_merging (before the other's rows move): every purchase day of both members
    (orders, firsts and cohorts change) and the day the other registered (it stops being a new member)."""
    values = params(ids=[survivor.pk, other.pk], registered=other.registered_on)
    _mark(
        f"""SELECT day, clock_timestamp() FROM (
                SELECT {local_day("occurred_at")} AS day FROM {{tx}} WHERE customer_id = ANY(%(ids)s)
                UNION SELECT %(registered)s::date
            ) d ORDER BY day""",
        values,
    )


# A new purchase earlier than a member's first one makes that one a returning order and moves the member's
# cohort: its day is changed too.
DISPLACED = """
WITH n AS (
    SELECT t.customer_id, min(t.occurred_at) AS first_new FROM {{tx}} t
    WHERE {new} AND t.status <> %(refunded)s GROUP BY t.customer_id
)
SELECT DISTINCT (o.first_old AT TIME ZONE %(tz)s)::date FROM n CROSS JOIN LATERAL (
    SELECT min(q.occurred_at) AS first_old FROM {{tx}} q
    WHERE q.customer_id = n.customer_id AND q.status <> %(refunded)s AND q.id <= %(tx_from)s
) o WHERE o.first_old > n.first_new
"""


@dataclass
class Changes:
    """Read at the start of a refresh: what to recompute and where the watermarks move once it is done."""

    transaction_id: int
    points_entry_id: int
    customer_id: int
    marks: list[tuple[datetime.date, datetime.datetime]] = field(default_factory=list)
    activity_days: set[datetime.date] = field(default_factory=set)  # purchases changed: orders, active, months
    count_days: set[datetime.date] = field(default_factory=set)  # registrations or points changed

    @property
    def days(self) -> set[datetime.date]:
        return self.activity_days | self.count_days


def state() -> AggregateState:
    return AggregateState.objects.get_or_create(pk=1)[0]


def watermarks() -> Changes:
    """The highest ids now and the marks now: read first, so rows written while the refresh runs are left for
    the next one (which recomputes a little twice, harmlessly)."""
    ((tx, points, customers),) = rows(
        "SELECT (SELECT coalesce(max(id), 0) FROM {tx}), (SELECT coalesce(max(id), 0) FROM {points}), "
        "(SELECT coalesce(max(id), 0) FROM {customer})",
        {},
    )
    marks = list(DirtyDay.objects.values_list("day", "marked_at"))
    return Changes(transaction_id=tx, points_entry_id=points, customer_id=customers, marks=marks)


def changes_since(current: AggregateState, changes: Changes, *, today: datetime.date) -> Changes:
    """Fill in the days to recompute between the state's watermarks and the ones read at the start."""
    values = params(
        tx_from=current.transaction_id,
        tx_to=changes.transaction_id,
        points_from=current.points_entry_id,
        points_to=changes.points_entry_id,
        customers_from=current.customer_id,
        customers_to=changes.customer_id,
    )
    new = "t.id > %(tx_from)s AND t.id <= %(tx_to)s"
    changes.activity_days |= {
        day for (day,) in rows(f"SELECT DISTINCT {local_day('t.occurred_at')} FROM {{tx}} t WHERE {new}", values)
    }
    # A new purchase earlier than a member's first one makes that one a returning order and moves the member's
    # cohort: its day is changed too.
    changes.activity_days |= {day for (day,) in rows(DISPLACED.format(new=new), values)}
    changes.activity_days |= {day for day, _marked in changes.marks}
    changes.count_days |= {
        day
        for (day,) in rows(
            f"""SELECT DISTINCT {local_day("at")} FROM {{points}} WHERE id > %(points_from)s AND id <= %(points_to)s
                UNION SELECT DISTINCT registered_on FROM {{customer}}
                WHERE id > %(customers_from)s AND id <= %(customers_to)s""",
            values,
        )
    }
    # Today is still moving, and yesterday's late evening may have arrived after the last refresh.
    changes.activity_days |= {today, today - datetime.timedelta(days=1)}
    changes.activity_days = {d for d in changes.activity_days if d <= today}
    changes.count_days = {d for d in changes.count_days if d <= today} - changes.activity_days
    return changes


def state_save(changes: Changes, *, seconds: float) -> None:
    """Move the watermarks and drop the marks this refresh read (a mark renewed since then stays)."""
    AggregateState.objects.update_or_create(
        pk=1,
        defaults={
            "transaction_id": changes.transaction_id,
            "points_entry_id": changes.points_entry_id,
            "customer_id": changes.customer_id,
            "refreshed_at": timezone.now(),
            "seconds": seconds,
            "step": "",
            "done": 0,
            "total": 0,
        },
    )
    if changes.marks:
        days, moments = zip(*changes.marks, strict=True)
        run(
            "DELETE FROM {dirty} WHERE (day, marked_at) IN "
            "(SELECT * FROM unnest(%(days)s::date[], %(moments)s::timestamptz[]))",
            {"days": list(days), "moments": list(moments)},
        )
