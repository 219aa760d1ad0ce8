"""How good a churn model is on a held-out period, beside the simple scores it must beat.

A run keeps the model only if it ranks members better than the best baseline (days since the last purchase, and
the BG/NBD probability of having dropped out). "Better" has to survive two checks, both documented here because
the run's page flags the model on them:

- the AUC gain over the best baseline is more than `BASELINE_MARGIN` (0.005): a smaller gain would not change
  whom anyone calls; and
- the gain is larger than chance: DeLong's test for two correlated AUCs (DeLong, DeLong & Clarke-Pearson 1988, in
  the fast midrank form of Sun & Xu 2014), one-sided at 5%. With a few thousand members two AUCs of 0.5 differ by
  0.01 by chance alone, so a margin without the test would let a model trained on noise "win" a third of the time.

scikit-learn has no test for two AUCs on the same members, hence the thirty lines of midranks below.

With no baselines at all there is nothing to beat: `best_baseline` is "" and `beats_baseline` True.

Missing values in a baseline (a member with no BG/NBD score, say) count as the lowest risk: the baseline could not
point at that member, so it gets no credit for them.
"""

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from sklearn.metrics import brier_score_loss, roc_auc_score

from analytics.churn.model import ChurnModel, churn_predict, label_array

BASELINE_MARGIN = 0.005
SIGNIFICANCE = 0.05
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class ChurnEvaluation:
    auc: float
    brier: float
    members: int
    churn_rate: float
    calibration: list[dict]
    baselines: dict[str, float]
    best_baseline: str
    beats_baseline: bool
    # One-sided DeLong p-value that the model's AUC is no higher than the best baseline's (1.0 with no baseline).
    p_value: float = 1.0

    def as_dict(self) -> dict:
        return asdict(self)


def churn_evaluate(
    model: ChurnModel, *, features: pd.DataFrame, churned: np.ndarray, baselines: Mapping[str, np.ndarray]
) -> ChurnEvaluation:
    """Score the held-out members and compare with each baseline (name -> score, higher = more likely to churn)."""
    predicted = churn_predict(model, features=features)
    labels = label_array(churned, members=len(predicted))
    churners = int(labels.sum())
    if churners == 0 or churners == len(labels):
        raise ValueError("AUC needs both churned and retained members in the evaluation period.")
    baseline_scores = {name: _baseline_score(s, members=len(labels), name=name) for name, s in baselines.items()}
    baseline_auc = {name: float(roc_auc_score(labels, score)) for name, score in baseline_scores.items()}
    auc = float(roc_auc_score(labels, predicted))
    best = max(baseline_auc, key=baseline_auc.get, default="")
    p_value = _delong_p_value(labels, predicted, baseline_scores[best]) if best else 1.0
    beats = not best or (auc > baseline_auc[best] + BASELINE_MARGIN and p_value < SIGNIFICANCE)
    return ChurnEvaluation(
        auc=auc,
        brier=float(brier_score_loss(labels, predicted)),
        members=len(labels),
        churn_rate=churners / len(labels),
        calibration=_calibration(labels, predicted),
        baselines=baseline_auc,
        best_baseline=best,
        beats_baseline=bool(beats),
        p_value=float(p_value),
    )


def _baseline_score(score: np.ndarray, *, members: int, name: str) -> np.ndarray:
    values = np.asarray(score, dtype=float)
    if values.shape != (members,):
        raise ValueError(f"The baseline {name!r} has {values.size} scores for {members} members.")
    known = np.isfinite(values)
    if not known.any():
        return np.zeros(members)
    return np.where(known, values, values[known].min() - 1.0)


def _calibration(labels: np.ndarray, predicted: np.ndarray) -> list[dict]:
    """Equal-width bins of predicted probability; empty bins are left out."""
    bins = np.minimum((predicted * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    members = np.bincount(bins, minlength=CALIBRATION_BINS)
    predicted_sum = np.bincount(bins, weights=predicted, minlength=CALIBRATION_BINS)
    churned_sum = np.bincount(bins, weights=labels, minlength=CALIBRATION_BINS)
    return [
        {
            "low": index / CALIBRATION_BINS,
            "high": (index + 1) / CALIBRATION_BINS,
            "predicted": float(predicted_sum[index] / members[index]),
            "observed": float(churned_sum[index] / members[index]),
            "members": int(members[index]),
        }
        for index in range(CALIBRATION_BINS)
        if members[index]
    ]


def _delong_p_value(labels: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    """One-sided p-value of DeLong's test that `first` has no higher AUC than `second` on the same members."""
    positive = labels == 1
    m, n = int(positive.sum()), int((~positive).sum())
    components = []
    for score in (first, second):
        pos, neg = score[positive], score[~positive]
        overall = rankdata(np.concatenate([pos, neg]))
        # Structural components: each churner's share of stayers ranked below it, and the reverse.
        v10 = (overall[:m] - rankdata(pos)) / n
        v01 = 1.0 - (overall[m:] - rankdata(neg)) / m
        components.append((v10, v01))
    difference = components[0][0].mean() - components[1][0].mean()
    variance = (
        np.var(components[0][0] - components[1][0], ddof=1) / m
        + np.var(components[0][1] - components[1][1], ddof=1) / n
    )
    if not variance > 0:
        return 0.0 if difference > 0 else 1.0
    return float(norm.sf(difference / math.sqrt(variance)))
