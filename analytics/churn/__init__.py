"""The churn classifier: who is unlikely to buy in the next period, how sure we are, and why.

Pure numpy/pandas/scikit-learn (no models, no database): the analytics jobs build the per-member feature frames
in SQL, train here once per run, and score chunks of members with the stored model.
"""

from analytics.churn.evaluation import BASELINE_MARGIN, ChurnEvaluation, churn_evaluate
from analytics.churn.model import (
    FEATURES,
    HIST_GRADIENT_BOOSTING,
    LOGISTIC_REGRESSION,
    ChurnModel,
    churn_dumps,
    churn_fit,
    churn_loads,
    churn_predict,
)
from analytics.churn.reasons import Reason, churn_reasons, reason_text

__all__ = [
    "BASELINE_MARGIN",
    "FEATURES",
    "HIST_GRADIENT_BOOSTING",
    "LOGISTIC_REGRESSION",
    "ChurnEvaluation",
    "ChurnModel",
    "Reason",
    "churn_dumps",
    "churn_evaluate",
    "churn_fit",
    "churn_loads",
    "churn_predict",
    "churn_reasons",
    "reason_text",
]
