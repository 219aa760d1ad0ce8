"""DailyKpi: one block of consecutive days recomputed by one scan of its purchases (and the 89 days before)."""

import datetime

from analytics.aggregates.common import day_start, local_day, params, rows, run

ACTIVE_DAYS = 90  # a member is active on the 90 days starting with each purchase day

# One statement: the block's rows are computed from a scan of [start - 89 days, end] (active members need
# the 89 days before), the firsts among the block's purchases are checked against everything earlier by one
# index probe per member, and the rows for days with nothing at all are left out.
BLOCK = """
WITH scan AS MATERIALIZED (
    SELECT t.customer_id, t.occurred_at, {day} AS day, t.status <> %(refunded)s AS kept,
           t.amount - t.refunded_amount AS net, t.refunded_amount, t.coupon_code <> '' AS coupon
    FROM {{tx}} t
    WHERE t.occurred_at >= %(scan_from)s AND t.occurred_at < %(until)s
),
sales AS (
    SELECT day, count(*) FILTER (WHERE kept) AS orders, coalesce(sum(net) FILTER (WHERE kept), 0) AS revenue,
           sum(refunded_amount) AS refunds, count(*) FILTER (WHERE kept AND coupon) AS coupons
    FROM scan WHERE day >= %(start)s GROUP BY day
),
firsts AS (
    SELECT f.day, count(*) AS firsts
    FROM (
        SELECT customer_id, ({first}) AS day FROM scan
        WHERE kept AND day >= %(start)s GROUP BY customer_id
    ) f
    WHERE NOT EXISTS (
        SELECT 1 FROM {{tx}} p
        WHERE p.customer_id = f.customer_id AND p.status <> %(refunded)s AND p.occurred_at < %(from)s
    )
    GROUP BY f.day
),
member_days AS (
    SELECT day, lead(day) OVER (PARTITION BY customer_id ORDER BY day) AS next_day
    FROM (SELECT DISTINCT customer_id, day FROM scan WHERE kept) d
),
deltas AS (
    SELECT day, sum(delta) AS delta FROM (
        SELECT day, 1 AS delta FROM member_days
        UNION ALL
        SELECT least(day + {active}, next_day), -1 FROM member_days
    ) e GROUP BY day
),
active AS (
    SELECT g.day::date AS day, sum(coalesce(d.delta, 0)) OVER (ORDER BY g.day) AS active
    FROM generate_series(%(scan_start)s::date, %(end)s::date, interval '1 day') g(day)
    LEFT JOIN deltas d ON d.day = g.day::date
),
joined AS (
    SELECT registered_on AS day, count(*) AS members FROM {{customer}}
    WHERE registered_on >= %(start)s AND registered_on <= %(end)s GROUP BY registered_on
),
points AS (
    SELECT {points_day} AS day,
           coalesce(sum(points) FILTER (WHERE kind = 'earned' OR (kind = 'adjusted' AND points > 0)), 0) AS issued,
           coalesce(-sum(points) FILTER (WHERE kind = 'redeemed'), 0) AS redeemed
    FROM {{points}} WHERE at >= %(from)s AND at < %(until)s GROUP BY 1
)
INSERT INTO {{daily}} (day, new_members, orders, returning_orders, revenue, refunds, active_members,
                       points_issued, points_redeemed, coupons_redeemed, refreshed_at)
SELECT * FROM (
    SELECT a.day, coalesce(j.members, 0) AS new_members, coalesce(s.orders, 0) AS orders,
           coalesce(s.orders, 0) - coalesce(f.firsts, 0) AS returning_orders, coalesce(s.revenue, 0) AS revenue,
           coalesce(s.refunds, 0) AS refunds, a.active, coalesce(p.issued, 0) AS issued,
           coalesce(p.redeemed, 0) AS redeemed, coalesce(s.coupons, 0) AS coupons, now()
    FROM active a
    LEFT JOIN sales s ON s.day = a.day
    LEFT JOIN firsts f ON f.day = a.day
    LEFT JOIN joined j ON j.day = a.day
    LEFT JOIN points p ON p.day = a.day
    WHERE a.day >= %(start)s
) r
WHERE new_members <> 0 OR orders <> 0 OR refunds <> 0 OR active <> 0 OR issued <> 0 OR redeemed <> 0
""".format(
    day=local_day("t.occurred_at"),
    first=local_day("min(occurred_at)"),
    points_day=local_day("at"),
    active=ACTIVE_DAYS,
)


def daily_block(*, start: datetime.date, end: datetime.date) -> int:
    """Replace the DailyKpi rows of [start, end] (inclusive); returns the rows written. Run inside a transaction."""
    scan_start = start - datetime.timedelta(days=ACTIVE_DAYS - 1)
    values = params(
        start=start,
        end=end,
        scan_start=scan_start,
        scan_from=day_start(scan_start),
        **{"from": day_start(start)},
        until=day_start(end + datetime.timedelta(days=1)),
    )
    run("DELETE FROM {daily} WHERE day >= %(start)s AND day <= %(end)s", values)
    return run(BLOCK, values)


def blocks_for(
    *, activity_days: set[datetime.date], count_days: set[datetime.date], today: datetime.date, gap: int = ACTIVE_DAYS
) -> list[tuple[datetime.date, datetime.date]]:
    """The blocks to recompute: a day whose purchases changed moves active members for the 89 days after it
    too; a day whose registrations or points changed is only itself. Blocks closer than `gap` days are joined,
    since each block scans the 89 days before its start anyway."""
    spans = [(d, min(d + datetime.timedelta(days=ACTIVE_DAYS - 1), max(today, d))) for d in activity_days]
    spans += [(d, d) for d in count_days]
    blocks: list[list[datetime.date]] = []
    for start, end in sorted(spans):
        if blocks and (start - blocks[-1][1]).days <= gap:
            blocks[-1][1] = max(blocks[-1][1], end)
        else:
            blocks.append([start, end])
    return [(start, end) for start, end in blocks]


def split(start: datetime.date, end: datetime.date, days: int) -> list[tuple[datetime.date, datetime.date]]:
    """[start, end] cut into blocks of at most `days` days (a full refresh, so each commits and reports)."""
    blocks = []
    while start <= end:
        last = min(end, start + datetime.timedelta(days=days - 1))
        blocks.append((start, last))
        start = last + datetime.timedelta(days=1)
    return blocks


HISTORY = """
SELECT least((SELECT min({day}) FROM {{tx}}), (SELECT min(registered_on) FROM {{customer}}),
             (SELECT min({at}) FROM {{points}})),
       greatest((SELECT max({day}) FROM {{tx}}), (SELECT max(registered_on) FROM {{customer}}),
                (SELECT max({at}) FROM {{points}}))
""".format(day=local_day("occurred_at"), at=local_day("at"))


def history_range(*, today: datetime.date) -> tuple[datetime.date, datetime.date] | None:
    """The first day anything happened (purchases, registrations, points) and the later of the last and today;
    None if nothing ever did."""
    ((first, last),) = rows(HISTORY, params())
    return None if first is None else (first, max(last, today))
