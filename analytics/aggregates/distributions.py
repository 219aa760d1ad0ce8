"""Distribution: members now, by each dimension, recomputed whole each refresh (current state, a few rows)."""

import datetime

from analytics.aggregates.common import age_band_sql, params, run
from analytics.models import ChurnBand, Dimension, MemberScore, RunStatus, ScoreHistory, ScoringRun

MEMBERS = """
CREATE TEMP TABLE agg_member ON COMMIT DROP AS
SELECT coalesce(c.tier_id::text, 'none') AS tier, c.source, c.gender, {band} AS band,
       coalesce(s.segment, '{unscored}') AS segment,
       CASE WHEN s.churn_probability IS NULL THEN '{unscored}' WHEN s.churn_probability < 0.3 THEN '{low}'
            WHEN s.churn_probability < 0.6 THEN '{medium}' ELSE '{high}' END AS churn,
       coalesce(ps.spend_365d, 0) AS spend
FROM {{customer}} c
LEFT JOIN {{stats}} ps ON ps.customer_id = c.id
LEFT JOIN {score} s ON s.customer_id = c.id
""".format(
    band=age_band_sql("c.birthday", "%(today)s::date"),
    unscored=ChurnBand.UNSCORED.value,
    low=ChurnBand.LOW.value,
    medium=ChurnBand.MEDIUM.value,
    high=ChurnBand.HIGH.value,
    score=MemberScore._meta.db_table,
)

BY = {
    Dimension.TIER: "tier",
    Dimension.RFM: "segment",
    Dimension.CHURN: "churn",
    Dimension.SOURCE: "source",
    Dimension.AGE: "band",
    Dimension.GENDER: "gender",
    Dimension.AGE_GENDER: "band || '|' || gender",
}

HISTORY = ScoreHistory._meta.db_table
MOVES = f"""
INSERT INTO {{dist}} (dimension, key, members, spend_365d)
SELECT %(dimension)s, o.segment || '>' || n.segment, count(*), coalesce(sum(ps.spend_365d), 0)
FROM {HISTORY} n JOIN {HISTORY} o ON o.customer_id = n.customer_id AND o.run_id = %(older)s
LEFT JOIN {{stats}} ps ON ps.customer_id = n.customer_id
WHERE n.run_id = %(newer)s
GROUP BY 2
"""


def distributions_recompute(*, today: datetime.date) -> int:
    """Replace the whole table; the caller's transaction."""
    values = params(today=today)
    run("DROP TABLE IF EXISTS agg_member", values)
    run(MEMBERS, values)
    run("DELETE FROM {dist}", values)
    union = " UNION ALL ".join(
        f"SELECT '{dimension.value}', {key}, count(*), sum(spend) FROM agg_member GROUP BY {key}"
        for dimension, key in BY.items()
    )
    written = run(f"INSERT INTO {{dist}} (dimension, key, members, spend_365d) {union}", values)
    runs = list(
        ScoringRun.objects.filter(status=RunStatus.DONE)
        .order_by("-finished_at", "-pk")
        .values_list("pk", flat=True)[:2]
    )
    if len(runs) == 2:
        written += run(MOVES, {**values, "dimension": Dimension.RFM_MOVE.value, "newer": runs[0], "older": runs[1]})
    return written
