"""What a scoring run learns once, before its chunks score the members: the RFM edges, the lifetime-value models,
the churn model and the co-purchase model, with the checks each is recorded with.

- RFM edges are taken once for the whole base (one query, percentile_disc, over the measures analytics/frames.py
  defines; from the fit's sample when the base is large), so every chunk scores against the same quintiles.
- The models are fitted on a sample of members when there are more than CRM_SCORING_FIT_SAMPLE (every n-th id),
  which changes their parameters little and their cost a lot.
- Time splits: the churn model is trained on features at as_of − 2 × churn_days with the label "no purchase in
  the churn_days after", and judged on the next period (features at as_of − churn_days, label up to as_of), beside
  two baselines: days since last purchase, and 1 − BG/NBD's probability of being active fitted on that same
  calibration period. The BG/NBD holdout check uses that calibration period too.
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connections, transaction

from analytics import churn, clv, recommend
from analytics.frames import (
    bgnbd_inputs,
    churn_features,
    contact_frame,
    member_frame,
    product_pairs,
    rfm_measures,
)
from analytics.models import ChurnSource, RfmGridCell
from crm.db_router import read_alias
from customers.models import Customer

logger = logging.getLogger(__name__)

PARTS = ("rfm", "clv", "churn", "recommendations")
DEFAULT_PARAMS = {
    "window_days": 365,  # RFM's frequency and monetary window
    "horizon_days": 365,  # predicted value and expected purchases over the next 12 months
    "period_days": 30,  # predicted value is discounted month by month
    "discount_rate": 0.10,  # a year, the usual figure for retail CLV (Fader et al. use 10-15%)
    "churn_days": 90,  # churned = no purchase in the next 90 days
    "recent_days": 90,  # products bought in the last 90 days are not recommended
    "parts": list(PARTS),
}


@dataclass
class Fitted:
    """What the chunks apply. Pickled with the run (ScoringRun.fitted)."""

    params: dict
    edges: dict[str, list[float]] = field(default_factory=dict)
    grid: dict[tuple[int, int], str] = field(default_factory=dict)
    bgnbd: clv.BgNbd | None = None
    gamma_gamma: clv.GammaGamma | None = None
    churn_model: churn.ChurnModel | None = None
    churn_source: str = ""
    recency_curve: tuple[float, float] | None = None  # logistic curve of churn on log1p(days), the recency baseline
    recs: recommend.CoPurchase | None = None
    # Every member's (product, last bought) pairs, sorted by member: read once here and sliced by each chunk, which
    # would otherwise join purchase lines to purchases again (1 s a chunk of 20,000 at 3,000,000 lines).
    pairs: pd.DataFrame | None = None


def fit_modulus(members: int) -> int:
    """Every n-th member for a fit sample of at most CRM_SCORING_FIT_SAMPLE."""
    return max(1, -(-members // settings.CRM_SCORING_FIT_SAMPLE))


def rfm_edges(*, as_of: datetime.datetime, window_days: int, modulus: int = 1) -> tuple[dict[str, list[float]], int]:
    """The quintile edges (analytics.rfm) of those who have bought, and how many that is (in the sample): one pass
    over the purchases, comparing times (the window starts at a local midnight) and turning only each member's last
    purchase into a local day, as analytics/frames.py counts them. With a modulus over 1, the edges are those of
    every n-th member's (the fit's sample): at a million members, 200,000 place the edges within a fraction of a
    per cent of the population's, for a fifth of the work."""
    sample = "t.customer_id %% %(modulus)s = 0" if modulus > 1 else "TRUE"
    measures, params = rfm_measures(cutoff=as_of, window_days=window_days, where=sample, params={"modulus": modulus})
    sql = f"""
        SELECT percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY last_day),
            percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY frequency),
            percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY monetary_cents),
            count(*)
        FROM ({measures}) m WHERE orders_lifetime > 0
    """  # noqa: S608 -- built from analytics.frames' SQL, values bound
    alias = read_alias()
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")  # a million members' groups, held in memory
        cursor.execute(sql, params)
        recency, frequency, monetary, buyers = cursor.fetchone()
    if not buyers:
        return {"recency": [], "frequency": [], "monetary": []}, 0
    return {
        "recency": [float(v) for v in recency],
        "frequency": [float(v) for v in frequency],
        "monetary": [float(v) for v in monetary],  # cents
    }, buyers


def _compressed_fit(inputs: pd.DataFrame) -> clv.BgNbd:
    """BG/NBD on identical (x, t_x, T) rows counted once with their weight: far fewer rows than members."""
    grouped = inputs.groupby(["frequency", "recency", "T"]).size().reset_index(name="weight")
    return clv.bgnbd_fit(
        frequency=grouped["frequency"].to_numpy(),
        recency=grouped["recency"].to_numpy(),
        T=grouped["T"].to_numpy(),
        weights=grouped["weight"].to_numpy(dtype=float),
    )


def _fit_clv(fitted: Fitted, metrics: dict, *, as_of, modulus: int) -> None:
    inputs = bgnbd_inputs(member_frame(cutoff=as_of, modulus=modulus))
    try:
        fitted.bgnbd = _compressed_fit(inputs)
        repeat = inputs[(inputs["frequency"] > 0) & (inputs["monetary"] > 0)]
        fitted.gamma_gamma = clv.gamma_gamma_fit(
            frequency=repeat["frequency"].to_numpy(), monetary=repeat["monetary"].to_numpy()
        )
    except ValueError as error:  # too little history to fit: the run says why, members get no CLV
        metrics["clv"] = {"failed": str(error), "members": len(inputs)}
        fitted.bgnbd = fitted.gamma_gamma = None
        return
    metrics["clv"] = {
        "members": len(inputs),
        "repeat_members": int((inputs["frequency"] > 0).sum()),
        "bgnbd": fitted.bgnbd.as_dict(),
        "gamma_gamma": fitted.gamma_gamma.as_dict(),
    }


def _recency_curve(days: np.ndarray, churned: np.ndarray) -> tuple[float, float]:
    """The recency baseline as a probability: a one-feature logistic regression on log(1 + days)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.log1p(days).reshape(-1, 1), churned)
    return float(model.coef_[0][0]), float(model.intercept_[0])


def recency_probability(curve: tuple[float, float], days: np.ndarray) -> np.ndarray:
    slope, intercept = curve
    return 1 / (1 + np.exp(-(slope * np.log1p(days) + intercept)))


def _labelled(*, cutoff, churn_days: int, modulus: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    frame = member_frame(cutoff=cutoff, after_days=churn_days, modulus=modulus)
    features = churn_features(frame, contact_frame(cutoff=cutoff, modulus=modulus))
    bought = frame.loc[features.index]
    return frame, features, (bought["after_orders"] == 0).to_numpy(dtype=int)


def _fit_churn(fitted: Fitted, metrics: dict, *, as_of, modulus: int) -> None:
    days = fitted.params["churn_days"]
    step = datetime.timedelta(days=days)
    _, train, train_churned = _labelled(cutoff=as_of - 2 * step, churn_days=days, modulus=modulus)
    frame, judge, judged_churned = _labelled(cutoff=as_of - step, churn_days=days, modulus=modulus)
    baselines = {"recency": judge["recency_days"].to_numpy()}
    inputs = bgnbd_inputs(frame.loc[judge.index])
    try:  # BG/NBD fitted on the same calibration period: the second baseline, and the holdout check
        calibration = _compressed_fit(inputs)
        columns = {"frequency": inputs["frequency"].to_numpy(), "recency": inputs["recency"].to_numpy()}
        baselines["bgnbd"] = 1 - clv.bgnbd_p_alive(calibration, **columns, T=inputs["T"].to_numpy())
        holdout = clv.holdout_check(
            calibration,
            **columns,
            T=inputs["T"].to_numpy(),
            holdout_frequency=frame.loc[judge.index, "after_days"].to_numpy(dtype=float),
            holdout_length=float(days),
        )
    except ValueError as error:
        holdout = {"failed": str(error)}
    metrics.setdefault("clv", {})["holdout"] = holdout | {"days": days}
    try:
        model = churn.churn_fit(features=train, churned=train_churned)
        evaluation = churn.churn_evaluate(model, features=judge, churned=judged_churned, baselines=baselines)
    except ValueError as error:  # too few members or one class only: the run says why, nobody gets a churn score
        metrics["churn"] = {"failed": str(error)}
        return
    if evaluation.beats_baseline:
        fitted.churn_model, fitted.churn_source = model, ChurnSource.MODEL
    else:  # the model is no better than a baseline: the better baseline scores the members (the run's page says so)
        fitted.churn_source = ChurnSource(evaluation.best_baseline)
    fitted.recency_curve = _recency_curve(judge["recency_days"].to_numpy(), judged_churned)
    metrics["churn"] = evaluation.as_dict() | {
        "model": model.kind,
        "source": fitted.churn_source,
        "train_members": len(train),
        "train_cutoff": (as_of - 2 * step).isoformat(),
        "judge_cutoff": (as_of - step).isoformat(),
    }


def _fit_recommendations(fitted: Fitted, metrics: dict, *, as_of, modulus: int) -> None:
    pairs = product_pairs(cutoff=as_of)
    if pairs.empty:
        metrics["recommendations"] = {"members": 0}
        return
    members, products = pairs["customer_id"].to_numpy(), pairs["product_id"].to_numpy()
    fitted.recs = recommend.co_purchase_fit(members=members, products=products)
    fitted.pairs = pairs.sort_values("customer_id", kind="stable").reset_index(drop=True)
    sample = pairs[pairs["customer_id"] % modulus == 0] if modulus > 1 else pairs
    metrics["recommendations"] = recommend.hit_rate_at_k(
        members=sample["customer_id"].to_numpy(),
        products=sample["product_id"].to_numpy(),
        order=sample["last_bought"].to_numpy(),
        k=5,
    ) | {"products": len(fitted.recs.products), "pairs": len(pairs)}


def fit_run(*, as_of: datetime.datetime, params: dict, heartbeat: Callable[[], None]) -> tuple[Fitted, dict]:
    """Everything a run's chunks need, and what the run records about it."""
    fitted = Fitted(params=params)
    metrics: dict = {}
    members = Customer.objects.count()
    modulus = fit_modulus(members)
    metrics["fit_sample"] = {"every": modulus, "members": members}
    fitted.edges, buyers = rfm_edges(as_of=as_of, window_days=params["window_days"], modulus=modulus)
    fitted.grid = {(c.r, c.fm): c.segment for c in RfmGridCell.objects.all()}
    metrics["rfm"] = {
        "edges": fitted.edges,
        "buyers": buyers,  # in the sample when every n-th member was taken
        "window_days": params["window_days"],
    }
    heartbeat()
    parts = params["parts"]
    if "clv" in parts:
        _fit_clv(fitted, metrics, as_of=as_of, modulus=modulus)
        heartbeat()
    if "churn" in parts:
        _fit_churn(fitted, metrics, as_of=as_of, modulus=modulus)
        heartbeat()
    if "recommendations" in parts:
        _fit_recommendations(fitted, metrics, as_of=as_of, modulus=modulus)
    return fitted, metrics
