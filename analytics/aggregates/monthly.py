"""MonthlySales and MonthlyRegion: the months given (or every month) replaced, each by one scan of their purchases."""

import datetime

from analytics.aggregates.common import age_band_sql, local_month, month_ranges, params, range_filter, run

PURCHASES = """
    SELECT t.id, t.customer_id, t.amount, t.amount - t.refunded_amount AS net, {month} AS month
    FROM {{{{tx}}}} t WHERE t.status <> %(refunded)s AND {{where}}
""".format(month=local_month("t.occurred_at"))

SALES = """
WITH p AS MATERIALIZED (
    SELECT p.*, c.province, c.gender, {band} AS age_band
    FROM ({purchases}) p JOIN {{customer}} c ON c.id = p.customer_id
)
INSERT INTO {{sales}} (month, province, category_id, age_band, gender, orders, revenue, buyers)
SELECT month, province, NULL, age_band, gender, count(*), sum(net), count(DISTINCT customer_id)
FROM p GROUP BY month, province, age_band, gender
UNION ALL
SELECT p.month, p.province, pr.category_id, p.age_band, p.gender, count(DISTINCT p.id),
       round(sum(l.line_total * p.net / p.amount), 2), count(DISTINCT p.customer_id)
FROM p JOIN {{line}} l ON l.transaction_id = p.id JOIN {{product}} pr ON pr.id = l.product_id
WHERE pr.category_id IS NOT NULL
GROUP BY p.month, p.province, pr.category_id, p.age_band, p.gender
"""

REGION = """
WITH s AS (
    SELECT p.month, c.province, c.city, count(*) AS orders, sum(p.net) AS revenue,
           count(DISTINCT p.customer_id) AS buyers
    FROM ({purchases}) p JOIN {{customer}} c ON c.id = p.customer_id
    GROUP BY p.month, c.province, c.city
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
    is the caller's."""
    values = params()
    if months is None:
        where, joined_where, delete_where = "TRUE", "TRUE", "TRUE"
    else:
        ranges = month_ranges(months)
        where = range_filter("t.occurred_at", ranges, values, moment=True)
        joined_where = range_filter("registered_on", ranges, values, moment=False)
        values["months"] = sorted(set(months))
        delete_where = "month = ANY(%(months)s)"
    purchases = PURCHASES.format(where=where)
    run(f"DELETE FROM {{sales}} WHERE {delete_where}", values)
    run(f"DELETE FROM {{region}} WHERE {delete_where}", values)
    written = run(SALES.format(purchases=purchases, band=age_band_sql("c.birthday", "p.month")), values)
    return written + run(REGION.format(purchases=purchases, joined_where=joined_where), values)
