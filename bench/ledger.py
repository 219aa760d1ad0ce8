"""Points ledger, balances and tiers derived from the filled purchases, in SQL, as the app's rules
would have left them: every purchase earns a lot at the tier's multiplier; a refund takes its
points back from that lot; the daily job expires a customer's lapsed lots in one entry per day.
Redemptions are left out, so a balance is exactly what its unexpired lots still hold.
"""

POINTS = """
INSERT INTO customers_pointsentry
    (customer_id, kind, points, balance_after, reason_code, reason_params, reference, expires_on, remaining, at)
WITH lots AS MATERIALIZED (
    SELECT id, customer_id, points_earned AS earned, points_reversed AS reversed, refunded_amount, occurred_at,
           (occurred_at AT TIME ZONE %(tz)s)::date + %(expiry)s AS expires_on
    FROM interactions_transaction WHERE points_earned > 0
), events AS (
    SELECT customer_id, 'earned' AS kind, earned AS points, 'purchase' AS reason_code,
           jsonb_build_object('id', id) AS reason_params,
           'transaction:' || id AS reference, expires_on,
           CASE WHEN expires_on <= %(today)s THEN 0 ELSE earned - reversed END AS remaining,
           occurred_at AS at, 0 AS step
    FROM lots
    UNION ALL
    SELECT customer_id, 'reversed', -reversed, 'refund',
           jsonb_build_object('id', id, 'amount', refunded_amount), 'transaction:' || id, NULL, 0,
           least(occurred_at + interval '3 days', now()), 1
    FROM lots WHERE reversed > 0
    UNION ALL
    SELECT customer_id, 'expired', -sum(earned - reversed),
           'expired', jsonb_build_object('date', (expires_on - %(expiry)s)::text), '', NULL, 0,
           expires_on::timestamp AT TIME ZONE %(tz)s, 2
    FROM lots WHERE expires_on <= %(today)s GROUP BY customer_id, expires_on HAVING sum(earned - reversed) > 0
)
SELECT customer_id, kind, points,
       sum(points) OVER (PARTITION BY customer_id ORDER BY at, step ROWS UNBOUNDED PRECEDING),
       reason_code, reason_params, reference, expires_on, remaining, at
FROM events ORDER BY at, step
"""

# Balance = what the open lots hold; tier = the highest one the spend in the tier window reaches.
CUSTOMERS = """
WITH spend AS (
    SELECT customer_id, sum(amount - refunded_amount) AS spend, min(occurred_at) AS since
    FROM interactions_transaction WHERE occurred_at > now() - %(window)s * interval '1 day' GROUP BY customer_id
), points AS (
    SELECT customer_id, sum(remaining) AS balance FROM customers_pointsentry WHERE remaining > 0 GROUP BY customer_id
), target AS (
    SELECT c.id, coalesce(p.balance, 0) AS balance, s.since,
           (SELECT t.id FROM customers_tier t WHERE t.min_spend <= coalesce(s.spend, 0)
            ORDER BY t.rank DESC LIMIT 1) AS tier
    FROM customers_customer c LEFT JOIN spend s ON s.customer_id = c.id LEFT JOIN points p ON p.customer_id = c.id
)
UPDATE customers_customer c
SET points_balance = x.balance, tier_id = x.tier,
    tier_since = coalesce(x.since, c.registered_on::timestamp AT TIME ZONE %(tz)s)
FROM target x WHERE x.id = c.id
"""


def parameters() -> dict:
    from django.conf import settings
    from django.utils import timezone

    return {
        "tz": settings.TIME_ZONE,
        "today": timezone.localdate(),
        "expiry": settings.CRM_POINTS_EXPIRY_DAYS,
        "window": settings.CRM_TIER_WINDOW_DAYS,
    }
