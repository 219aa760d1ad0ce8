"""BG/NBD and Gamma-Gamma: the published CDNOW estimates, the paper's worked example and holdout, the models'
known properties, refusals of data that cannot be fitted, and random input that must never give NaN or inf."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.clv import (
    BgNbd,
    GammaGamma,
    bgnbd_expected,
    bgnbd_expected_new,
    bgnbd_fit,
    bgnbd_p_alive,
    bgnbd_simulate,
    gamma_gamma_fit,
    gamma_gamma_spend,
    holdout_check,
    predicted_value,
)

CDNOW = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdnow"
CALIBRATION_END, HOLDOUT_END = pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30")


def three_figures(value: float) -> str:
    return f"{value:.3g}"


@pytest.fixture(scope="module")
def summary():
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def spend():
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="module")
def cdnow_fit(summary):
    return bgnbd_fit(frequency=summary["frequency"], recency=summary["recency"], T=summary["T"])


@pytest.fixture(scope="module")
def calibration_and_holdout():
    """Per customer, from the raw transactions: weeks, repeat purchases counted once per day."""
    columns = ["master_id", "id", "date", "cds", "value"]
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None, names=columns, dtype={"date": str})
    days = raw.assign(date=pd.to_datetime(raw["date"], format="%Y%m%d"))[["id", "date"]].drop_duplicates()
    first = days.groupby("id")["date"].min()
    calibration = days[days["date"] <= CALIBRATION_END].groupby("id")["date"].agg(["count", "max"])
    holdout = days[(days["date"] > CALIBRATION_END) & (days["date"] <= HOLDOUT_END)].groupby("id").size()
    return pd.DataFrame(
        {
            "frequency": calibration["count"] - 1,
            "recency": (calibration["max"] - first).dt.days / 7,
            "T": (CALIBRATION_END - first).dt.days / 7,
            "holdout": holdout.reindex(first.index, fill_value=0),
        }
    )


def test_bgnbd_on_cdnow_gives_the_published_estimates(cdnow_fit):
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert {name: three_figures(getattr(cdnow_fit, name)) for name in published} == {
        name: three_figures(value) for name, value in published.items()
    }
    assert cdnow_fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_gamma_gamma_on_cdnow_gives_the_published_estimates(spend):
    fit = gamma_gamma_fit(frequency=spend["x"], monetary=spend["zbar"])
    assert (three_figures(fit.p), three_figures(fit.q), three_figures(fit.gamma)) == ("6.25", "3.74", "15.4")


def test_the_papers_worked_example_expects_1_226_purchases_in_the_next_39_weeks(cdnow_fit):
    # Fader, Hardie & Lee (2005), section 5: a customer with x = 2, t_x = 30.43, T = 38.86 weeks.
    expected = bgnbd_expected(cdnow_fit, t=39, frequency=[2], recency=[30.43], T=[38.86])
    assert expected[0] == pytest.approx(1.226, abs=0.0005)


def test_a_weighted_fit_on_compressed_rows_equals_the_fit_on_every_member(summary, spend, cdnow_fit):
    rows = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="members")
    assert len(rows) < len(summary)
    weighted = bgnbd_fit(frequency=rows["frequency"], recency=rows["recency"], T=rows["T"], weights=rows["members"])
    for name, value in cdnow_fit.as_dict().items():
        assert getattr(weighted, name) == pytest.approx(value, rel=1e-6)

    rows = spend.groupby(["x", "zbar"]).size().reset_index(name="members")
    weighted = gamma_gamma_fit(frequency=rows["x"], monetary=rows["zbar"], weights=rows["members"])
    unweighted = gamma_gamma_fit(frequency=spend["x"], monetary=spend["zbar"])
    for name, value in unweighted.as_dict().items():
        assert getattr(weighted, name) == pytest.approx(value, rel=1e-6)


def test_the_fit_finds_the_parameters_members_were_drawn_from():
    planted = BgNbd(r=0.8, alpha=40.0, a=0.6, b=3.0, log_likelihood=0.0)
    members = bgnbd_simulate(planted, T=np.random.default_rng(1).uniform(30, 1000, 100_000), seed=2)
    fit = bgnbd_fit(frequency=members["frequency"], recency=members["recency"], T=members["T"])
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit, name) == pytest.approx(getattr(planted, name), rel=0.15)


def test_members_who_never_drop_out_still_fit_and_look_alive():
    planted = BgNbd(r=1.0, alpha=30.0, a=0.01, b=1e6, log_likelihood=0.0)
    members = bgnbd_simulate(planted, T=np.random.default_rng(4).uniform(30, 1000, 20_000), seed=5)
    history = {name: members[name] for name in ("frequency", "recency", "T")}
    fit = bgnbd_fit(**history)
    assert fit.a / (fit.a + fit.b) < 1e-3, "hardly anyone drops out"
    assert bgnbd_p_alive(fit, **history).min() > 0.95


def test_expected_purchases_of_new_members_match_a_simulation():
    planted = BgNbd(r=0.5, alpha=10.0, a=0.6, b=0.7, log_likelihood=0.0)  # a + b < 1: the hard case for 2F1
    members = bgnbd_simulate(planted, T=np.zeros(200_000), holdout_length=50.0, seed=3)
    simulated = members["holdout_frequency"]
    standard_error = simulated.std() / np.sqrt(len(simulated))
    assert bgnbd_expected_new(planted, t=50.0) == pytest.approx(simulated.mean(), abs=4 * standard_error)
    assert bgnbd_expected_new(planted, t=0.0) == 0.0


def test_expected_purchases_where_scipys_hypergeometric_function_fails_match_a_simulation():
    # A hundred times more stayers than CDNOW and a long horizon: scipy's 2F1 returns NaN here.
    fit = BgNbd(r=0.144, alpha=0.0103, a=3.05, b=241.0, log_likelihood=0.0)
    x, recency, T, ahead = 2, 0.0491, 0.468, 296.0
    expected = bgnbd_expected(fit, t=ahead, frequency=[x], recency=[recency], T=[T])[0]
    # Given the history, a member alive has rate ~ Gamma(r + x, alpha + T), drop-out ~ Beta(a, b + x), and
    # expects (1 - exp(-rate p t)) / p purchases in the next t.
    rng = np.random.default_rng(6)
    rate = rng.gamma(fit.r + x, 1 / (fit.alpha + T), 2_000_000)
    drop = rng.beta(fit.a, fit.b + x, 2_000_000)
    draws = -np.expm1(-rate * drop * ahead) / drop * bgnbd_p_alive(fit, frequency=[x], recency=[recency], T=[T])[0]
    assert expected == pytest.approx(draws.mean(), abs=4 * draws.std() / np.sqrt(len(draws)))


def test_holdout_check_on_cdnow_tracks_the_39_weeks_after_calibration(summary, calibration_and_holdout):
    members = calibration_and_holdout
    # The calibration built from the raw transactions is the published summary.
    assert members["frequency"].to_numpy() == pytest.approx(summary["frequency"].to_numpy())
    assert members["recency"].to_numpy() == pytest.approx(summary["recency"].to_numpy(), abs=0.005)
    fit = bgnbd_fit(frequency=members["frequency"], recency=members["recency"], T=members["T"])
    check = holdout_check(
        fit,
        frequency=members["frequency"],
        recency=members["recency"],
        T=members["T"],
        holdout_frequency=members["holdout"],
        holdout_length=39.0,
    )
    assert check["actual"] == members["holdout"].sum()
    # 1,653 expected against 1,882 actual: the model under-forecasts the repeat buyers a little, as in the paper.
    assert abs(check["error"]) < 0.15
    assert [row["frequency"] for row in check["by_frequency"]] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row["members"] for row in check["by_frequency"]) == len(members)
    expected = [row["expected"] for row in check["by_frequency"]]
    assert expected == sorted(expected), "more past purchases, more expected ones"
    for row in check["by_frequency"]:
        assert row["expected"] == pytest.approx(row["actual"], rel=0.3)
    assert json.loads(json.dumps(check)) == check


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_longer_silence(cdnow_fit):
    never = bgnbd_p_alive(cdnow_fit, frequency=[0, 0, 0], recency=[0, 0, 0], T=[1, 39, 500])
    assert never.tolist() == [1.0, 1.0, 1.0]
    silence = np.array([0.0, 5.0, 20.0, 38.0])
    alive = bgnbd_p_alive(cdnow_fit, frequency=np.full(4, 3), recency=38.0 - silence, T=np.full(4, 38.0))
    assert np.all(np.diff(alive) < 0)
    assert 0 < alive[-1] < alive[0] < 1


def test_expected_purchases_grow_with_the_time_ahead(cdnow_fit, summary):
    members = {"frequency": summary["frequency"], "recency": summary["recency"], "T": summary["T"]}
    ahead = [bgnbd_expected(cdnow_fit, t=t, **members) for t in (0.0, 1.0, 10.0, 52.0, 520.0)]
    assert np.all(ahead[0] == 0)
    for shorter, longer in zip(ahead, ahead[1:], strict=False):
        assert np.all(longer > shorter)


def test_spend_leans_on_the_members_own_mean_the_more_they_bought():
    fit = GammaGamma(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0)
    population = 6.25 * 15.44 / (3.74 - 1)
    spend = gamma_gamma_spend(fit, frequency=[0, 1, 10, 10_000], monetary=[0, 100, 100, 100])
    assert spend[0] == pytest.approx(population)
    assert population < spend[1] < spend[2] < spend[3] < 100
    assert spend[3] == pytest.approx(100, rel=0.01)


def test_predicted_value_discounts_later_purchases(cdnow_fit, spend):
    fit = gamma_gamma_fit(frequency=spend["x"], monetary=spend["zbar"])
    members = {"frequency": spend["x"], "recency": spend["t_x"], "T": spend["T"], "monetary": spend["zbar"]}

    def value(**kwargs):
        return predicted_value(cdnow_fit, fit, **members, one_year=52.0, **kwargs)

    undiscounted = value(horizon=52.0, period=4.0, discount_rate=0.0)
    purchases = bgnbd_expected(cdnow_fit, t=52.0, frequency=spend["x"], recency=spend["t_x"], T=spend["T"])
    spend_each = gamma_gamma_spend(fit, frequency=spend["x"], monetary=spend["zbar"])
    assert undiscounted == pytest.approx(purchases * spend_each)
    assert value(horizon=52.0, period=52.0, discount_rate=0.0) == pytest.approx(undiscounted)
    discounted = value(horizon=52.0, period=4.0, discount_rate=0.1)
    assert np.all(discounted < undiscounted)
    assert np.all(discounted > undiscounted / 1.1)  # no purchase is discounted by more than a whole year
    assert np.all(value(horizon=104.0, period=4.0, discount_rate=0.1) > discounted)
    assert np.all(value(horizon=0.0, period=4.0, discount_rate=0.1) == 0)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"frequency": [], "recency": [], "T": []}, "no members"),
        ({"frequency": [0, 0], "recency": [0, 0], "T": [10, 20]}, "Nobody has made a repeat purchase"),
        ({"frequency": [1, -1], "recency": [2, 0], "T": [10, 20]}, "frequency has negative values"),
        ({"frequency": [1, 1], "recency": [2, -3], "T": [10, 20]}, "recency has negative values"),
        ({"frequency": [1, 1], "recency": [2, 3], "T": [10, np.nan]}, "T has missing"),
        ({"frequency": [1, 1], "recency": [12, 3], "T": [10, 20]}, "cannot exceed T"),
        ({"frequency": [1.5, 1], "recency": [2, 3], "T": [10, 20]}, "whole numbers"),
        ({"frequency": [0, 1], "recency": [2, 3], "T": [10, 20]}, "must have recency 0"),
        ({"frequency": [1, 1], "recency": [2], "T": [10, 20]}, "one entry per member"),
        ({"frequency": [1, 1], "recency": [2, 3], "T": [10, 20], "weights": [1, -1]}, "weights has negative"),
        ({"frequency": [1, 1], "recency": [2, 3], "T": [10, 20], "weights": [0, 0]}, "no members"),
    ],
)
def test_purchase_model_refuses_data_it_cannot_fit(members, message):
    with pytest.raises(ValueError, match=message):
        bgnbd_fit(**members)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"frequency": [], "monetary": []}, "Nobody has a repeat purchase"),
        ({"frequency": [0, 0], "monetary": [0, 0]}, "Nobody has a repeat purchase"),
        ({"frequency": [2, 1], "monetary": [10, -5]}, "monetary has negative values"),
        ({"frequency": [2, 1], "monetary": [10]}, "one entry per member"),
    ],
)
def test_spend_model_refuses_data_it_cannot_fit(members, message):
    with pytest.raises(ValueError, match=message):
        gamma_gamma_fit(**members)


def log_uniform(low: float, high: float):
    return st.floats(np.log(low), np.log(high)).map(np.exp)


member = st.tuples(
    st.integers(0, 2000),  # repeat purchases
    st.floats(0, 5000),  # T
    st.floats(0, 1),  # recency as a share of T
    st.floats(0, 1e6),  # mean spend
)


@given(
    bg=st.builds(
        BgNbd,
        r=log_uniform(0.01, 100),
        alpha=log_uniform(0.01, 1000),
        a=log_uniform(0.01, 100),
        b=log_uniform(0.01, 100),
        log_likelihood=st.just(0.0),
    ),  # fmt: skip
    gg=st.builds(
        GammaGamma,
        p=log_uniform(0.01, 100),
        q=log_uniform(1.01, 100),
        gamma=log_uniform(0.01, 1e4),
        log_likelihood=st.just(0.0),
    ),  # fmt: skip
    members=st.lists(member, min_size=1, max_size=20),
    ahead=st.floats(0, 5000),
)
def test_random_members_never_get_nan_or_infinite_scores(bg, gg, members, ahead):
    x, T, share, monetary = (np.array(column, dtype=float) for column in zip(*members, strict=True))
    recency = np.where(x > 0, share * T, 0.0)
    history = {"frequency": x, "recency": recency, "T": T}
    alive = bgnbd_p_alive(bg, **history)
    assert np.all((alive >= 0) & (alive <= 1))
    expected = bgnbd_expected(bg, t=ahead, **history)
    assert np.all(np.isfinite(expected) & (expected >= 0))
    value = predicted_value(
        bg, gg, **history, monetary=monetary, horizon=ahead, period=30.0, discount_rate=0.1, one_year=365.0
    )
    assert np.all(np.isfinite(value) & (value >= 0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"horizon": -1.0}, "horizon must not be negative"),
        ({"period": 0.0}, "period and one_year must be positive"),
        ({"discount_rate": -1.0}, "discount_rate > -1"),
        ({"monetary": [10.0]}, "one entry per member"),
        ({"recency": [3.0, 40.0]}, "cannot exceed T"),
    ],
)
def test_predicted_value_refuses_impossible_settings(cdnow_fit, change, message):
    spend_model = GammaGamma(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0)
    settings = {"frequency": [1, 2], "recency": [3.0, 4.0], "T": [10.0, 10.0], "monetary": [10.0, 20.0]}
    settings |= {"horizon": 52.0, "period": 4.0, "discount_rate": 0.1} | change
    with pytest.raises(ValueError, match=message):
        predicted_value(cdnow_fit, spend_model, **settings)
