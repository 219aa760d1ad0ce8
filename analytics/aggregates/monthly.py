"""MonthlySales and MonthlyRegion: the months given (or every month) replaced, from one scan of their purchases.

The purchases are first summed per member and month (a scratch table): every figure of both tables is a sum over
members, and a row's distinct buyers are then simply its members, so no COUNT DISTINCT sorts millions of rows.
"""

import datetime

from analytics.aggregates.common import (
    age_band_sql,
    category_lines,
    local_month,
    month_ranges,
    params,
    range_filter,
    run,
)

MEMBER_MONTHS = """
CREATE TEMP TABLE agg_member_month ON COMMIT DROP AS
SELECT t.customer_id, {month} AS month, count(*) AS orders, sum(t.amount - t.refunded_amount) AS revenue
FROM {{{{tx}}}} t WHERE t.status <> %(refunded)s AND {{where}}
GROUP BY 1, 2
""".format(month=local_month("t.occurred_at"))

# Per member, month and category: the orders with a line in it and those lines' share of what the orders took
# (common.category_lines).
MEMBER_CATEGORIES = """
CREATE TEMP TABLE agg_member_category ON COMMIT DROP AS
SELECT customer_id, month, category_id, count(*) AS orders, sum(revenue) AS revenue FROM (
    SELECT id, customer_id, month, category_id, sum(revenue) AS revenue FROM ({lines}) l
    WHERE category_id IS NOT NULL GROUP BY 1, 2, 3, 4
) o GROUP BY 1, 2, 3
"""

SALES = """
INSERT INTO {{sales}} (month, province, category_id, age_band, gender, orders, revenue, buyers)
SELECT m.month, c.province, NULL, {band}, c.gender, sum(m.orders), sum(m.revenue), count(*)
FROM agg_member_month m JOIN {{customer}} c ON c.id = m.customer_id
GROUP BY m.month, c.province, 4, c.gender
UNION ALL
SELECT m.month, c.province, m.category_id, {band}, c.gender, sum(m.orders), round(sum(m.revenue), 2), count(*)
FROM agg_member_category m JOIN {{customer}} c ON c.id = m.customer_id
GROUP BY m.month, c.province, m.category_id, 4, c.gender
""".format(band=age_band_sql("c.birthday", "m.month"))

REGION = """
WITH s AS (
    SELECT m.month, c.province, c.city, sum(m.orders) AS orders, sum(m.revenue) AS revenue, count(*) AS buyers
    FROM agg_member_month m JOIN {{customer}} c ON c.id = m.customer_id
    GROUP BY m.month, c.province, c.city
),
j AS (
    SELECT date_trunc('month', registered_on)::date AS month, province, city, count(*) AS members
    FROM {{customer}} WHERE {joined_where} GROUP BY 1, 2, 3
)
INSERT INTO {{region}} (month, province, city, new_members, orders, revenue, buyers)
SELECT month, province, city, coalesce(j.members, 0), coalesce(s.orders, 0), coalesce(s.revenue, 0),
       coalesce(s.buyers, 0)
FROM s FULL JOIN j USING (month, province, city)
"""


def months_recompute(*, months: list[datetime.date] | None) -> int:
    """Replace both tables' rows of these months (None: every month); returns the rows written. One transaction
    is the caller's (the scratch tables go with it)."""
    values = params()
    if months is None:
        where, joined_where, delete_where = "TRUE", "TRUE", "TRUE"
    else:
        ranges = month_ranges(months)
        where = range_filter("t.occurred_at", ranges, values, moment=True)
        joined_where = range_filter("registered_on", ranges, values, moment=False)
        values["months"] = sorted(set(months))
        delete_where = "month = ANY(%(months)s)"
    run("DROP TABLE IF EXISTS agg_member_month, agg_member_category", values)
    run(MEMBER_MONTHS.format(where=where), values)
    run(MEMBER_CATEGORIES.format(lines=category_lines(where, month=True)), values)
    run("ANALYZE agg_member_month", values)
    run(f"DELETE FROM {{sales}} WHERE {delete_where}", values)
    run(f"DELETE FROM {{region}} WHERE {delete_where}", values)
    return run(SALES, values) + run(REGION.format(joined_where=joined_where), values)
