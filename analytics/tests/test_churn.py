"""The churn classifier on generated memberships: a planted signal is found and explained, noise is flagged."""

import json
import math
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.churn import (
    FEATURES,
    HIST_GRADIENT_BOOSTING,
    LOGISTIC_REGRESSION,
    ChurnModel,
    Reason,
    churn_dumps,
    churn_evaluate,
    churn_fit,
    churn_loads,
    churn_predict,
    churn_reasons,
    reason_text,
)
from analytics.churn.model import feature_matrix, fit_kind
from analytics.tests.churn_population import population


@pytest.fixture(scope="module")
def planted():
    features, churned = population(members=4000, seed=1)
    return churn_fit(features=features, churned=churned, seed=0)


@pytest.fixture(scope="module")
def both_kinds(planted):
    """The chosen model and one of the other kind, so reasons are checked whichever kind a run picks."""
    features, churned = population(members=4000, seed=1)
    other = HIST_GRADIENT_BOOSTING if planted.kind == LOGISTIC_REGRESSION else LOGISTIC_REGRESSION
    return {planted.kind: planted, other: fit_kind(other, matrix=feature_matrix(features), labels=churned, seed=0)}


def member(model: ChurnModel, **values: float) -> pd.DataFrame:
    """One member who is typical in everything except the given values."""
    return pd.DataFrame([{**model.reference, **values}], index=[7])


def test_planted_signal_is_found_and_beats_the_recency_baseline(planted):
    # The planted signal is linear in the log of silence over usual gap, which the logistic design spells out.
    assert planted.kind == LOGISTIC_REGRESSION
    later, churned = population(members=4000, seed=2)

    evaluation = churn_evaluate(
        planted, features=later, churned=churned, baselines={"recency": later["recency_days"].to_numpy()}
    )

    assert evaluation.auc > 0.8
    assert evaluation.auc > evaluation.baselines["recency"] + 0.05
    assert evaluation.best_baseline == "recency"
    assert evaluation.beats_baseline
    assert evaluation.members == 4000
    assert evaluation.churn_rate == pytest.approx(churned.mean())


def test_calibration_bins_cover_everyone_and_match_what_happened(planted):
    later, churned = population(members=4000, seed=2)

    evaluation = churn_evaluate(planted, features=later, churned=churned, baselines={})

    assert sum(row["members"] for row in evaluation.calibration) == 4000
    for row in evaluation.calibration:
        assert row["low"] <= row["predicted"] <= row["high"]
        if row["members"] >= 200:
            assert row["observed"] == pytest.approx(row["predicted"], abs=0.08)
    assert json.loads(json.dumps(evaluation.as_dict()))["auc"] == evaluation.auc


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_a_model_of_random_labels_is_flagged_as_no_better_than_the_baseline(seed):
    features, churned = population(members=4000, seed=seed, signal=False)
    later, churned_later = population(members=4000, seed=seed + 100, signal=False)
    model = churn_fit(features=features, churned=churned, seed=seed)

    evaluation = churn_evaluate(
        model,
        features=later,
        churned=churned_later,
        baselines={"recency": later["recency_days"].to_numpy(), "bgnbd": np.random.default_rng(seed).random(4000)},
    )

    assert not evaluation.beats_baseline
    assert evaluation.auc == pytest.approx(0.5, abs=0.05)


def test_a_signal_only_trees_can_see_chooses_gradient_boosting():
    features, _ = population(members=4000, seed=6)
    # The newest and the oldest members leave, the middle stays: no straight line through tenure separates them.
    low, high = features["tenure_days"].quantile([1 / 3, 2 / 3])
    outer = (features["tenure_days"] < low) | (features["tenure_days"] > high)
    churned = (np.random.default_rng(6).random(4000) < np.where(outer, 0.8, 0.1)).astype(int)

    model = churn_fit(features=features, churned=churned)

    assert model.kind == HIST_GRADIENT_BOOSTING
    assert model.validation_auc[HIST_GRADIENT_BOOSTING] > model.validation_auc[LOGISTIC_REGRESSION] + 0.1


def test_a_baseline_that_cannot_score_a_member_counts_them_as_lowest_risk(planted):
    later, churned = population(members=1000, seed=2)
    knows_only_stayers = np.where(churned == 1, np.nan, 0.0)

    evaluation = churn_evaluate(planted, features=later, churned=churned, baselines={"partial": knows_only_stayers})

    assert evaluation.baselines["partial"] == 0.0


@pytest.mark.parametrize("kind", [LOGISTIC_REGRESSION, HIST_GRADIENT_BOOSTING])
def test_reasons_name_the_long_silence_of_a_planted_churner(both_kinds, kind):
    model = both_kinds[kind]
    silent = member(model, recency_days=300.0, usual_gap_days=20.0, contacts_90=0.0)

    [reasons] = churn_reasons(model, features=silent)

    assert churn_predict(model, features=silent)[0] > 0.9
    assert reasons[0].feature == "recency_days"
    assert reasons[0].effect > 0
    assert reason_text(reasons[0], row=silent.iloc[0]) == "No purchase for 300 days (usual gap 20)"


@pytest.mark.parametrize("kind", [LOGISTIC_REGRESSION, HIST_GRADIENT_BOOSTING])
def test_a_recent_buyer_reads_as_lower_risk(both_kinds, kind):
    model = both_kinds[kind]
    loyal = member(model, recency_days=4.0, usual_gap_days=30.0, contacts_90=3.0)

    [reasons] = churn_reasons(model, features=loyal)

    recency = next(reason for reason in reasons if reason.feature == "recency_days")
    assert recency.effect < 0
    assert reason_text(recency, row=loyal.iloc[0]) == "Bought recently: 4 days ago (usual gap 30)"


def test_reasons_are_largest_first_and_at_most_top(planted):
    features, _ = population(members=500, seed=9)

    reasons = churn_reasons(planted, features=features, top=2)

    assert len(reasons) == 500
    for member_reasons in reasons:
        assert len(member_reasons) <= 2
        effects = [abs(reason.effect) for reason in member_reasons]
        assert effects == sorted(effects, reverse=True)


def test_a_typical_member_has_no_reasons(planted):
    assert churn_reasons(planted, features=member(planted)) == [[]]


@pytest.mark.parametrize(
    ("reason", "row", "text"),
    [
        (Reason("orders_365", 1.0, 4.0, 0.2), {}, "Fewer orders in the last year: 1 (typical 4)"),
        (Reason("email_consent", 0.0, 1.0, 0.05), {}, "Opted out of e-mail"),
        (Reason("spend_365", 120.0, 2630.5, 0.05), {}, "Spent less in the last year: ¥120.00 (typical ¥2,630.50)"),
        (Reason("days_since_contact", 3.0, 40.0, -0.1), {}, "Recently contacted (3 days ago)"),
        (Reason("days_since_contact", 1.0, 40.0, -0.1), {}, "Recently contacted (1 day ago)"),
        (Reason("usual_gap_days", math.nan, 35.0, 0.1), {}, "Only one purchase so far"),
        (
            Reason("recency_days", 140.0, 50.0, 0.3),
            {"usual_gap_days": math.nan},
            "No purchase for 140 days (typical 50)",
        ),
        (
            Reason("refund_share", 0.4, 0.02, 0.1),
            {},
            "Refunded 40% of last year's spend (typical 2%)",
        ),
        (
            Reason("orders_365", 9.0, 4.0, 0.02),
            {},
            "More orders in the last year: 9 (typical 4), which raises the risk for this member",
        ),
    ],
)
def test_reason_text_in_words(reason, row, text):
    assert reason_text(reason, row=row) == text


@settings(max_examples=200, deadline=None)
@given(
    feature=st.sampled_from(FEATURES),
    value=st.floats(allow_infinity=False) | st.just(math.nan),
    reference=st.floats(allow_infinity=False, allow_nan=True),
    effect=st.floats(-1, 1),
    gap=st.floats(0, 1e6) | st.just(math.nan),
)
def test_reason_text_is_always_words(feature, value, reference, effect, gap):
    text = reason_text(Reason(feature, value, reference, effect), row={"usual_gap_days": gap})

    assert text
    assert "%(" not in text
    assert "nan" not in text.lower()


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=len(FEATURES), max_size=len(FEATURES)),
        min_size=1,
        max_size=20,
    )
)
def test_any_frame_gets_a_probability_from_either_kind(both_kinds, rows):
    frame = pd.DataFrame(rows, columns=list(FEATURES))

    for model in both_kinds.values():
        probability = churn_predict(model, features=frame)
        assert probability.shape == (len(rows),)
        assert np.all((probability >= 0) & (probability <= 1))
        assert len(churn_reasons(model, features=frame)) == len(rows)


def test_a_stored_model_predicts_the_same(planted):
    features, _ = population(members=1000, seed=11)

    restored = churn_loads(churn_dumps(planted))

    assert restored.kind == planted.kind
    assert restored.reference == planted.reference
    np.testing.assert_array_equal(churn_predict(restored, features=features), churn_predict(planted, features=features))


def test_stored_bytes_that_are_not_a_model_are_refused():
    with pytest.raises(ValueError, match="not a churn model"):
        churn_loads(pickle.dumps({"kind": "logistic_regression"}))


def test_columns_are_read_by_name_not_position(planted):
    features, _ = population(members=200, seed=12)

    shuffled = features[list(reversed(FEATURES))].assign(note=1.0)

    np.testing.assert_array_equal(churn_predict(planted, features=shuffled), churn_predict(planted, features=features))


def test_no_members_no_scores(planted):
    empty = pd.DataFrame(columns=list(FEATURES), dtype=float)

    assert churn_predict(planted, features=empty).shape == (0,)
    assert churn_reasons(planted, features=empty) == []


def test_the_smallest_membership_allowed_trains():
    features, _ = population(members=100, seed=18)
    churned = np.r_[np.ones(20), np.zeros(80)]

    model = churn_fit(features=features, churned=churned)

    assert churn_predict(model, features=features).shape == (100,)


def test_one_class_only_is_refused():
    features, _ = population(members=500, seed=13)

    with pytest.raises(ValueError, match="one class"):
        churn_fit(features=features, churned=np.zeros(500))


def test_too_few_members_are_refused():
    features, churned = population(members=60, seed=14)

    with pytest.raises(ValueError, match="Too few members"):
        churn_fit(features=features, churned=churned)


def test_a_missing_column_is_named():
    features, churned = population(members=500, seed=15)

    with pytest.raises(ValueError, match="contacts_90"):
        churn_fit(features=features.drop(columns="contacts_90"), churned=churned)


@pytest.mark.parametrize("churned", [np.ones(499), np.full(500, 0.5), np.full(500, np.nan)])
def test_labels_that_do_not_fit_the_members_are_refused(churned):
    features, _ = population(members=500, seed=16)

    with pytest.raises(ValueError, match="labels"):
        churn_fit(features=features, churned=churned)


def test_evaluation_needs_both_outcomes(planted):
    later, _ = population(members=300, seed=17)

    with pytest.raises(ValueError, match="both churned and retained"):
        churn_evaluate(planted, features=later, churned=np.ones(300), baselines={})


def test_a_baseline_of_the_wrong_length_is_refused(planted):
    later, churned = population(members=300, seed=17)

    with pytest.raises(ValueError, match="recency"):
        churn_evaluate(planted, features=later, churned=churned, baselines={"recency": np.ones(299)})


def test_a_feature_nobody_has_is_ignored_not_fatal():
    """No interaction logged by anyone: days_since_contact is missing for every member (scikit-learn's gradient
    boosting could not bin it); both kinds still train and score."""
    features, churned = population(members=2000, seed=5)
    features["days_since_contact"] = np.nan
    for kind in (LOGISTIC_REGRESSION, HIST_GRADIENT_BOOSTING):
        model = fit_kind(kind, matrix=feature_matrix(features), labels=churned, seed=0)
        assert np.isfinite(churn_predict(model, features=features)).all()
    assert churn_fit(features=features, churned=churned).kind in (LOGISTIC_REGRESSION, HIST_GRADIENT_BOOSTING)
