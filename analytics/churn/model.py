"""Training and scoring the churn classifier: "no purchase in the period after the cut-off".

Two candidates are fitted on three quarters of the training frame and compared on the held-back quarter by AUC:

- logistic regression on a few fixed transforms of the features (signed log of counts, money and days, the log of
  silence over the member's usual gap, missing-value indicators, scaling), and
- HistGradientBoostingClassifier on the raw features (it handles missing values itself and finds interactions).

Logistic regression is kept unless gradient boosting beats it by more than `CHOICE_MARGIN` AUC: the smaller model
is steadier from run to run, scores faster, and a gain below that margin is within the noise of a validation split.
The chosen kind is then refitted on the whole frame. Both kinds are explained the same way (see `reasons.py`).
"""

import pickle
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

FEATURES: tuple[str, ...] = (
    "recency_days",
    "orders_365",
    "spend_365",
    "orders_lifetime",
    "spend_lifetime",
    "usual_gap_days",
    "tenure_days",
    "days_since_contact",
    "contacts_90",
    "refund_share",
    "email_consent",
    "sms_consent",
)

HIST_GRADIENT_BOOSTING = "hist_gradient_boosting"
LOGISTIC_REGRESSION = "logistic_regression"

# Below these a validation split has too few churners or stayers to compare the candidates at all.
MIN_MEMBERS = 100
MIN_PER_CLASS = 20
# AUC that gradient boosting must gain over logistic regression on the validation quarter to be chosen.
CHOICE_MARGIN = 0.005
VALIDATION_SHARE = 0.25
# One native thread per process: the jobs get their parallelism from worker processes taking chunks, and OpenMP
# threads competing with them made gradient boosting twenty times slower (20,000 rows: 14.5 s against 0.76 s on the
# 2-core machine at load 7).
THREADS = 1

# Features kept as they are in the logistic design (shares and 0/1 flags); the rest are counts, money and days.
_UNLOGGED = frozenset({"refund_share", "email_consent", "sms_consent"})
_RECENCY = FEATURES.index("recency_days")
_USUAL_GAP = FEATURES.index("usual_gap_days")


@dataclass
class ChurnModel:
    estimator: object
    kind: str
    reference: dict[str, float]
    # AUC of each candidate on the validation quarter, so a run can show why `kind` was chosen.
    validation_auc: dict[str, float] = field(default_factory=dict)


def feature_matrix(features: pd.DataFrame) -> np.ndarray:
    """The frame's FEATURES as a float array in FEATURES order; infinities become missing values."""
    missing = [name for name in FEATURES if name not in features.columns]
    if missing:
        raise ValueError(f"The feature frame lacks the column(s) {', '.join(missing)}.")
    matrix = features.loc[:, list(FEATURES)].to_numpy(dtype=float, copy=True)
    matrix[np.isinf(matrix)] = np.nan
    return matrix


def _logistic_design(matrix: np.ndarray) -> np.ndarray:
    # Money can be negative after refunds, so a signed log rather than log1p.
    logged = np.array([name not in _UNLOGGED for name in FEATURES])
    # Shares and flags are 0..1 by definition; clipping keeps one bad row from overflowing the scaler.
    design = matrix.copy()
    design[:, ~logged] = np.clip(matrix[:, ~logged], 0.0, 1.0)
    design[:, logged] = np.sign(matrix[:, logged]) * np.log1p(np.abs(matrix[:, logged]))
    # Silence measured in the member's own rhythm: the signal a linear model cannot build from the two columns.
    with np.errstate(divide="ignore", invalid="ignore"):
        overdue = np.log1p(np.clip(matrix[:, _RECENCY], 0, None)) - np.log1p(np.clip(matrix[:, _USUAL_GAP], 0, None))
    return np.column_stack([design, overdue])


class FillEmptyColumns(BaseEstimator, TransformerMixin):
    """Gradient boosting bins each column from its known values, and scikit-learn fails on a column with none (no
    interaction logged by anyone, say: every days_since_contact missing). Such a column, found when fitting, is
    filled with 0 then and after: it carries nothing to learn from, so the model never splits on it."""

    def fit(self, X, y=None):  # noqa: N803 -- scikit-learn's names
        self.empty_ = np.all(np.isnan(np.asarray(X, dtype=float)), axis=0)
        return self

    def transform(self, X):  # noqa: N803
        filled = np.array(X, dtype=float, copy=True)
        filled[:, self.empty_] = 0.0
        return filled


def _new_estimator(kind: str, *, seed: int) -> object:
    if kind == LOGISTIC_REGRESSION:
        return make_pipeline(
            FunctionTransformer(_logistic_design),
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=1.0, max_iter=1000),
        )
    return make_pipeline(
        FillEmptyColumns(),
        HistGradientBoostingClassifier(
            learning_rate=0.1,
            max_iter=300,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.1,
            n_iter_no_change=15,
            random_state=seed,
        ),
    )


def label_array(churned: np.ndarray, *, members: int) -> np.ndarray:
    labels = np.asarray(churned)
    if labels.shape != (members,):
        raise ValueError(f"There are {members} members in the feature frame but {labels.size} churn labels.")
    labels = labels.astype(float)
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError("Churn labels must be 0 or 1 (or True/False), with no missing values.")
    return labels.astype(np.int8)


def churn_fit(*, features: pd.DataFrame, churned: np.ndarray, seed: int = 0) -> ChurnModel:
    """Fit the churn classifier; `churned` is 1 for a member with no purchase in the period after the cut-off."""
    matrix = feature_matrix(features)
    labels = label_array(churned, members=len(matrix))
    if len(labels) < MIN_MEMBERS:
        raise ValueError(f"Too few members to train a churn model: {len(labels)} (at least {MIN_MEMBERS}).")
    churners = int(labels.sum())
    if min(churners, len(labels) - churners) < MIN_PER_CLASS:
        raise ValueError(
            f"Too few members in one class to train a churn model: {churners} churned and "
            f"{len(labels) - churners} stayed (at least {MIN_PER_CLASS} of each)."
        )
    train, validation, train_labels, validation_labels = train_test_split(
        matrix, labels, test_size=VALIDATION_SHARE, stratify=labels, random_state=seed
    )
    scores = {}
    for kind in (LOGISTIC_REGRESSION, HIST_GRADIENT_BOOSTING):
        candidate = fit_kind(kind, matrix=train, labels=train_labels, seed=seed)
        scores[kind] = float(roc_auc_score(validation_labels, predict_matrix(candidate, validation)))
    kind = (
        HIST_GRADIENT_BOOSTING
        if scores[HIST_GRADIENT_BOOSTING] > scores[LOGISTIC_REGRESSION] + CHOICE_MARGIN
        else LOGISTIC_REGRESSION
    )
    model = fit_kind(kind, matrix=matrix, labels=labels, seed=seed)
    model.validation_auc = scores
    return model


def fit_kind(kind: str, *, matrix: np.ndarray, labels: np.ndarray, seed: int) -> ChurnModel:
    """One candidate fitted on the whole of `matrix`, without the choice (`churn_fit` makes it)."""
    with threadpool_limits(limits=THREADS):
        estimator = _new_estimator(kind, seed=seed).fit(matrix, labels)
    return ChurnModel(estimator=estimator, kind=kind, reference=_reference(matrix))


def _reference(matrix: np.ndarray) -> dict[str, float]:
    reference = {}
    for index, name in enumerate(FEATURES):
        column = matrix[:, index]
        known = column[~np.isnan(column)]
        reference[name] = float(np.median(known)) if known.size else float("nan")
    return reference


def predict_matrix(model: ChurnModel, matrix: np.ndarray) -> np.ndarray:
    if len(matrix) == 0:
        return np.zeros(0)
    with threadpool_limits(limits=THREADS):
        return model.estimator.predict_proba(matrix)[:, 1]


def churn_predict(model: ChurnModel, *, features: pd.DataFrame) -> np.ndarray:
    """P(no purchase in the next period) per member, in the frame's order."""
    return predict_matrix(model, feature_matrix(features))


def churn_dumps(model: ChurnModel) -> bytes:
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def churn_loads(data: bytes) -> ChurnModel:
    """Only for bytes this module wrote into our own run table: unpickling runs code, so never feed it uploads."""
    model = pickle.loads(data)  # noqa: S301 - our own stored model, never user input
    if not isinstance(model, ChurnModel):
        raise ValueError("The stored data is not a churn model.")
    return model
