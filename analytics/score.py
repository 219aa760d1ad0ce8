"""A run's fitted models applied to some members: their scores as rows, ready to be written in bulk."""

import datetime
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics import churn, clv, recommend, rfm
from analytics.fit import Fitted, recency_probability
from analytics.frames import (
    CENTS,
    bgnbd_inputs,
    churn_features,
    contact_frame,
    member_frame,
    product_pairs,
    rfm_frame,
)
from analytics.models import ChurnSource, RfmSegment

RECOMMENDATIONS = 5


@dataclass
class Scored:
    scores: list[dict]  # ScoreFields' values per member, with customer_id
    reasons: dict[int, list[dict]]  # churn reasons per member
    recommendations: dict[int, list[recommend.Recommendation]]
    churn_source: str = ""  # whose probability churn_probability holds (ChurnSource)


def _none(value: float | None) -> float | None:
    return None if value is None or value != value else float(value)  # NaN is not equal to itself


def _whole(values: pd.Series) -> list:
    """Whole numbers, None where missing: as a COPY takes them, without a Python call per value."""
    array = values.to_numpy(dtype=float)
    known = ~np.isnan(array)
    out = np.full(array.shape, None, dtype=object)
    out[known] = array[known].astype(np.int64)
    return out.tolist()


def _decimals(values: pd.Series) -> list:
    array = values.to_numpy(dtype=float)
    return np.where(np.isnan(array), None, array).tolist()


def _amounts(cents: pd.Series) -> list:
    """Money from cents as exact text ("1234.50"), None where missing: whole cents, so no float rounding shows."""
    array = cents.to_numpy(dtype=float)
    out = []
    for value in array.tolist():
        if value != value:  # NaN
            out.append(None)
        else:
            whole = round(value)
            sign, whole = ("-", -whole) if whole < 0 else ("", whole)
            out.append(f"{sign}{whole // 100}.{whole % 100:02d}")
    return out


def score_members(
    fitted: Fitted, *, as_of: datetime.datetime, lo: int | None = None, hi: int | None = None, ids=None
) -> Scored:
    params, parts = fitted.params, fitted.params["parts"]
    if parts == ["rfm"]:  # RFM alone: the lighter query
        frame = rfm_frame(cutoff=as_of, window_days=params["window_days"], lo=lo, hi=hi, ids=ids)
    else:
        frame = member_frame(cutoff=as_of, window_days=params["window_days"], lo=lo, hi=hi, ids=ids)
    bought = frame["orders_lifetime"] > 0  # a purchase not fully refunded
    rows = pd.DataFrame(index=frame.index)
    rows["recency_days"] = frame["last_day"].where(bought)
    rows["frequency"] = frame["frequency"]
    rows["monetary_cents"] = frame["monetary_cents"]
    rows["r"] = rows["f"] = rows["m"] = np.nan
    rows["segment"] = RfmSegment.NO_PURCHASE.value
    if bought.any():
        edges = fitted.edges
        r = rfm.rfm_score(frame.loc[bought, "last_day"], edges["recency"], higher_is_better=False)
        f = rfm.rfm_score(frame.loc[bought, "frequency"], edges["frequency"])
        m = rfm.rfm_score(frame.loc[bought, "monetary_cents"], edges["monetary"])
        rows.loc[bought, "r"], rows.loc[bought, "f"], rows.loc[bought, "m"] = r, f, m
        rows.loc[bought, "segment"] = rfm.rfm_segments(r, rfm.fm_score(f, m), fitted.grid)
    for column in ("p_alive", "expected_purchases", "predicted_value", "churn_probability"):
        rows[column] = np.nan

    inputs = bgnbd_inputs(frame) if "clv" in parts else []
    if "clv" in parts and fitted.bgnbd is not None and len(inputs):
        x, t_x, big_t = (inputs[c].to_numpy() for c in ("frequency", "recency", "T"))
        rows.loc[inputs.index, "p_alive"] = clv.bgnbd_p_alive(fitted.bgnbd, frequency=x, recency=t_x, T=big_t)
        rows.loc[inputs.index, "expected_purchases"] = clv.bgnbd_expected(
            fitted.bgnbd, t=params["horizon_days"], frequency=x, recency=t_x, T=big_t
        )
        if fitted.gamma_gamma is not None:
            rows.loc[inputs.index, "predicted_value"] = clv.predicted_value(
                fitted.bgnbd,
                fitted.gamma_gamma,
                frequency=x,
                recency=t_x,
                T=big_t,
                monetary=inputs["monetary"].fillna(0).clip(lower=0).to_numpy(),
                horizon=params["horizon_days"],
                period=params["period_days"],
                discount_rate=params["discount_rate"],
            )

    reasons: dict[int, list[dict]] = {}
    source = ""
    if "churn" in parts and fitted.churn_source:
        features = churn_features(frame, contact_frame(cutoff=as_of, lo=lo, hi=hi, ids=ids))
        if len(features):
            source, reasons = _churn(fitted, features, rows)

    recommendations: dict[int, list[recommend.Recommendation]] = {}
    if "recommendations" in parts and fitted.recs is not None:
        recommendations = _recommend(fitted, frame.index, as_of=as_of, lo=lo, hi=hi, ids=ids)

    columns = {
        "customer_id": rows.index.to_numpy(dtype=np.int64).tolist(),
        "recency_days": _whole(rows["recency_days"]),
        "frequency": rows["frequency"].to_numpy(dtype=np.int64).tolist(),
        "monetary": _amounts(rows["monetary_cents"]),
        "r": _whole(rows["r"]),
        "f": _whole(rows["f"]),
        "m": _whole(rows["m"]),
        "segment": rows["segment"].tolist(),
        "p_alive": _decimals(rows["p_alive"]),
        "expected_purchases": _decimals(rows["expected_purchases"]),
        "predicted_value": _amounts(rows["predicted_value"] * CENTS),
        "churn_probability": _decimals(rows["churn_probability"]),
    }
    scores = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    return Scored(scores=scores, reasons=reasons, recommendations=recommendations, churn_source=source)


def _churn(fitted: Fitted, features: pd.DataFrame, rows: pd.DataFrame) -> tuple[str, dict[int, list[dict]]]:
    """Fill in churn_probability from the model, or from the better baseline when the model did not beat it; the
    source used, and each member's reasons."""
    source = fitted.churn_source
    if source == ChurnSource.BGNBD and rows.loc[features.index, "p_alive"].isna().all():
        source = ChurnSource.RECENCY  # BG/NBD was not fitted this run
    if source == ChurnSource.MODEL and fitted.churn_model is not None:
        rows.loc[features.index, "churn_probability"] = churn.churn_predict(fitted.churn_model, features=features)
        found = churn.churn_reasons(fitted.churn_model, features=features)
        return source, {
            int(customer_id): [
                {
                    "feature": r.feature,
                    "value": _none(r.value),
                    "reference": _none(r.reference),
                    "effect": float(r.effect),
                    "context": {"usual_gap_days": _none(gap)},  # what reason_text reads beside the value
                }
                for r in member_reasons
            ]
            for customer_id, member_reasons, gap in zip(features.index, found, features["usual_gap_days"], strict=True)
        }
    if source == ChurnSource.BGNBD:
        rows.loc[features.index, "churn_probability"] = 1 - rows.loc[features.index, "p_alive"]
    elif fitted.recency_curve is not None:
        rows.loc[features.index, "churn_probability"] = recency_probability(
            fitted.recency_curve, features["recency_days"].to_numpy()
        )
    # A baseline's reason is the silence it is read from.
    typical = float(features["recency_days"].median())
    return source, {
        int(customer_id): [
            {
                "feature": "recency_days",
                "value": float(days),
                "reference": typical,
                "effect": float(days - typical),
                "context": {"usual_gap_days": _none(gap)},
            }
        ]
        for customer_id, days, gap in zip(
            features.index, features["recency_days"], features["usual_gap_days"], strict=True
        )
    }


def _recommend(fitted: Fitted, members: pd.Index, *, as_of, lo, hi, ids) -> dict[int, list]:
    if fitted.pairs is not None and lo is not None:  # the fit's pairs, this chunk's slice
        column = fitted.pairs["customer_id"].to_numpy()
        start, end = np.searchsorted(column, lo, side="left"), np.searchsorted(column, hi, side="left")
        pairs = fitted.pairs.iloc[start:end]
    else:  # a member scored alone (after a merge): their purchases now
        pairs = product_pairs(cutoff=as_of, lo=lo, hi=hi, ids=ids)
    recent_since = (as_of - datetime.timedelta(days=fitted.params["recent_days"])).timestamp()
    bought: dict[int, list[int]] = {int(m): [] for m in members}
    exclude: dict[int, set[int]] = {int(m): set() for m in members}
    pairs = pairs.sort_values("last_bought", ascending=False)
    for customer_id, product_id, last_bought in pairs.itertuples(index=False):
        bought.setdefault(int(customer_id), []).append(int(product_id))
        if last_bought >= recent_since:
            exclude.setdefault(int(customer_id), set()).add(int(product_id))
    return recommend.recommend_many(fitted.recs, bought=bought, exclude=exclude, k=RECOMMENDATIONS)
