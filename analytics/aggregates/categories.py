"""CategoryStats and CategoryAffinity over the 365 days ending on the refresh day, recomputed whole each time."""

import datetime

from analytics.aggregates.common import day_start, params, run

WINDOW_DAYS = 365

# Per member and category: the orders with a line in it and their share of the order's revenue (scratch table,
# read by both statements).
PER_MEMBER = """
CREATE TEMP TABLE agg_category_member ON COMMIT DROP AS
SELECT category_id, customer_id, count(*) AS orders, sum(revenue) AS revenue FROM (
    SELECT t.id, t.customer_id, pr.category_id, sum(l.line_total * (t.amount - t.refunded_amount) / t.amount) AS revenue
    FROM {tx} t JOIN {line} l ON l.transaction_id = t.id JOIN {product} pr ON pr.id = l.product_id
    WHERE t.status <> %(refunded)s AND t.occurred_at >= %(from)s AND t.occurred_at < %(until)s
      AND pr.category_id IS NOT NULL
    GROUP BY t.id, t.customer_id, pr.category_id
) o GROUP BY category_id, customer_id
"""

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
