"""CohortCell: the whole table from every purchase, or the cells a set of changed months can touch.

A change in month M moves the cells of M's diagonal (cohort + offset = M) and, when it moved a member's first
purchase (a late purchase before it, a full refund of it, a merge), every cell of that member's old and new
cohorts. Both of those months are among the changed ones (tracking marks the day of a displaced first
purchase), so recomputing the cells whose cohort or cohort + offset is a changed month is enough.
"""

import datetime

from analytics.aggregates.common import local_month, month_ranges, params, range_filter, run

OFFSET = (
    "((extract(year FROM x.month) - extract(year FROM x.cohort)) * 12"
    " + extract(month FROM x.month) - extract(month FROM x.cohort))::int"
)

# Purchases summed per member and month first (hash aggregates, no sort of every purchase).
FULL = """
WITH mm AS MATERIALIZED (
    SELECT t.customer_id, {month} AS month, sum(t.amount - t.refunded_amount) AS revenue FROM {{tx}} t
    WHERE t.status <> %(refunded)s GROUP BY 1, 2
),
f AS (SELECT customer_id, min(month) AS cohort FROM mm GROUP BY customer_id),
x AS (SELECT f.cohort, mm.month, mm.revenue FROM mm JOIN f USING (customer_id))
INSERT INTO {{cohort}} (cohort, "offset", buyers, revenue)
SELECT x.cohort, {offset}, count(*), sum(x.revenue) FROM x GROUP BY x.cohort, x.month
""".format(month=local_month("t.occurred_at"), offset=OFFSET)

# The members who bought in a changed month, each one's cohort by an index probe for their first purchase; then
# their purchases in the changed months, and all purchases of those whose cohort is a changed month.
PART = """
WITH scan AS MATERIALIZED (
    SELECT t.customer_id, t.occurred_at, t.amount - t.refunded_amount AS net FROM {{{{tx}}}} t
    WHERE t.status <> %(refunded)s AND {{where}}
),
f AS MATERIALIZED (
    SELECT b.customer_id, (
        SELECT {first} FROM {{{{tx}}}} q WHERE q.customer_id = b.customer_id AND q.status <> %(refunded)s
    ) AS cohort
    FROM (SELECT DISTINCT customer_id FROM scan) b
),
x AS (
    SELECT f.cohort, {scan_month} AS month, s.customer_id, s.net FROM scan s JOIN f USING (customer_id)
    UNION ALL
    SELECT f.cohort, {tx_month} AS month, t.customer_id, t.amount - t.refunded_amount
    FROM f JOIN {{{{tx}}}} t ON t.customer_id = f.customer_id
    WHERE f.cohort = ANY(%(months)s) AND t.status <> %(refunded)s AND NOT ({{where}})
)
INSERT INTO {{{{cohort}}}} (cohort, "offset", buyers, revenue)
SELECT x.cohort, {offset}, count(DISTINCT x.customer_id), sum(x.net) FROM x
WHERE x.cohort = ANY(%(months)s) OR x.month = ANY(%(months)s)
GROUP BY x.cohort, x.month
""".format(
    first=local_month("min(q.occurred_at)"),
    scan_month=local_month("s.occurred_at"),
    tx_month=local_month("t.occurred_at"),
    offset=OFFSET,
)


def cohorts_recompute(*, months: list[datetime.date] | None) -> int:
    """Replace every cell (None) or the cells the changed months can touch; the caller's transaction."""
    values = params()
    if months is None:
        run("DELETE FROM {cohort}", values)
        return run(FULL, values)
    values["months"] = sorted(set(months))
    where = range_filter("t.occurred_at", month_ranges(months), values, moment=True)
    run(
        """DELETE FROM {cohort} WHERE cohort = ANY(%(months)s)
           OR (cohort + make_interval(months => "offset"))::date = ANY(%(months)s)""",
        values,
    )
    return run(PART.format(where=where), values)
