"""A generated membership with a planted churn signal, shared by the churn tests and the timing command.

Churners are members who have been silent long relative to their own usual gap between purchases and whom
nobody has contacted lately. Usual gaps vary tenfold between members, so days since the last purchase alone
ranks them only moderately well: a model that reads recency against the usual gap must do better.
"""

import numpy as np
import pandas as pd

from analytics.churn import FEATURES


def population(*, members: int, seed: int, signal: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    one_purchase = rng.random(members) < 0.15
    gap = np.exp(rng.normal(np.log(40), 0.9, members))
    overdue = np.exp(rng.normal(0.0, 0.9, members))
    recency = np.where(one_purchase, rng.uniform(1, 400, members), gap * overdue)
    tenure = recency + np.exp(rng.normal(np.log(400), 0.7, members))
    orders_lifetime = np.where(one_purchase, 1.0, np.maximum(2.0, np.round(tenure / gap)))
    active_days = np.clip(np.minimum(365.0, tenure) - recency, 0, None)
    orders_365 = np.where(recency > 365, 0.0, 1.0 + rng.poisson(active_days / gap))
    orders_365 = np.minimum(orders_365, orders_lifetime)
    ticket = np.exp(rng.normal(np.log(50), 0.5, members))
    contacts_90 = rng.poisson(0.8, members).astype(float)
    frame = pd.DataFrame(
        {
            "recency_days": np.round(recency),
            "orders_365": orders_365,
            "spend_365": np.round(orders_365 * ticket, 2),
            "orders_lifetime": orders_lifetime,
            "spend_lifetime": np.round(orders_lifetime * ticket, 2),
            "usual_gap_days": np.where(one_purchase, np.nan, np.round(gap, 1)),
            "tenure_days": np.round(tenure),
            "days_since_contact": np.where(rng.random(members) < 0.3, np.nan, np.round(rng.exponential(60, members))),
            "contacts_90": contacts_90,
            "refund_share": rng.beta(0.5, 8, members),
            "email_consent": (rng.random(members) < 0.7).astype(float),
            "sms_consent": (rng.random(members) < 0.5).astype(float),
        },
        index=pd.RangeIndex(1, members + 1, name="customer_id"),
    )[list(FEATURES)]
    if not signal:
        return frame, (rng.random(members) < 0.35).astype(int)
    silence = np.log(recency / np.where(one_purchase, 60.0, gap))
    log_odds = 2.2 * silence - 0.8 * contacts_90 - 0.3
    return frame, (rng.random(members) < 1 / (1 + np.exp(-log_odds))).astype(int)
