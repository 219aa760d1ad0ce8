"""CategoryStats and CategoryAffinity over the 365 days ending on the refresh day, recomputed whole each time."""

import datetime

from analytics.aggregates.common import category_lines, day_start, params, run

WINDOW_DAYS = 365

# Per member and category: the orders with a line in it and those lines' share of what the orders took
# (common.category_lines); a scratch table read by both statements.
PER_MEMBER = """
CREATE TEMP TABLE agg_category_member ON COMMIT DROP AS
SELECT category_id, customer_id, count(*) AS orders, sum(revenue) AS revenue FROM (
    SELECT id, customer_id, category_id, sum(revenue) AS revenue FROM ({lines}) l
    WHERE category_id IS NOT NULL GROUP BY 1, 2, 3
) o GROUP BY category_id, customer_id
""".format(lines=category_lines("t.occurred_at >= %(from)s AND t.occurred_at < %(until)s", month=False))

STATS = """
INSERT INTO {catstats} (category_id, buyers, repeat_buyers, orders, revenue)
SELECT category_id, count(*), count(*) FILTER (WHERE orders >= 2), sum(orders), round(sum(revenue), 2)
FROM agg_category_member GROUP BY category_id
"""

AFFINITY = """
INSERT INTO {affinity} (category_id, other_id, buyers)
SELECT a.category_id, b.category_id, count(*)
FROM agg_category_member a
JOIN agg_category_member b ON b.customer_id = a.customer_id AND b.category_id <> a.category_id
GROUP BY a.category_id, b.category_id
"""


def categories_recompute(*, today: datetime.date) -> int:
    """Replace both tables; the caller's transaction (the scratch table goes with it)."""
    values = params(
        **{"from": day_start(today - datetime.timedelta(days=WINDOW_DAYS - 1))},
        until=day_start(today + datetime.timedelta(days=1)),
    )
    run("DROP TABLE IF EXISTS agg_category_member", values)
    run(PER_MEMBER, values)
    run("DELETE FROM {catstats}", values)
    run("DELETE FROM {affinity}", values)
    return run(STATS, values) + run(AFFINITY, values)
