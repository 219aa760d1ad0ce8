"""The lift statistics: against worked examples, and against simulated campaigns (seeded, vectorised)."""

import numpy as np
import pytest

from marketing import stats
from marketing.stats import Group

SIMULATIONS = 2000


def test_welch_interval_by_hand():
    # Treatment revenue 0, 0, 10, 20, 30: n 5, mean 12, variance (144+144+4+64+324)/4 = 170.
    # Control 0, 0, 0, 10: n 4, mean 2.5, variance (3 x 6.25 + 56.25)/3 = 25.
    # se^2 = 170/5 + 25/4 = 34 + 6.25 = 40.25, se = 6.3443.
    # df = 40.25^2 / (34^2/4 + 6.25^2/3) = 1620.0625 / 302.0208 = 5.3641; t(0.975, 5.3641) = 2.51898.
    # Interval 9.5 +- 2.51898 x 6.3443 = 9.5 +- 15.9811 = (-6.4811, 25.4811).
    lift = stats.revenue_lift(Group.from_values([0, 0, 10, 20, 30]), Group.from_values([0, 0, 0, 10]))
    assert lift.treatment == 12 and lift.control == 2.5 and lift.difference == 9.5
    assert lift.low == pytest.approx(-6.4811, abs=1e-4) and lift.high == pytest.approx(25.4811, abs=1e-4)
    assert not lift.detected
    # Relative: 12 / 2.5 - 1 = 380%; log-scale se^2 = 170/(5 x 144) + 25/(4 x 6.25) = 0.23611 + 1 = 1.23611,
    # se 1.11181; exp(log 4.8 -+ 1.95996 x 1.11181) - 1 = (-0.4569, 41.424).
    assert lift.relative == pytest.approx(3.8)
    assert lift.relative_low == pytest.approx(-0.4569, abs=1e-4)
    assert lift.relative_high == pytest.approx(41.424, abs=1e-3)


def test_group_from_sums_matches_the_values():
    values = [0, 0, 12.5, 0, 99.9, 3]
    by_values = Group.from_values(values)
    by_sums = Group.from_sums(members=6, converters=3, total=sum(values), total_squares=sum(v * v for v in values))
    assert by_sums.revenue_mean == pytest.approx(by_values.revenue_mean)
    assert by_sums.revenue_variance == pytest.approx(by_values.revenue_variance)
    assert by_sums.converters == by_values.converters == 3


def test_newcombe_matches_his_published_examples():
    # Newcombe (1998), Statistics in Medicine 17:873, table II, method 10.
    assert stats.newcombe(56, 70, 48, 80)[1:] == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert stats.newcombe(9, 10, 3, 10)[1:] == pytest.approx((0.1705, 0.8090), abs=1e-4)


def test_conversion_lift_by_hand():
    # 30 of 300 against 5 of 100: 10% against 5%. Relative 100%; Katz: se^2 = 1/30 - 1/300 + 1/5 - 1/100
    # = 0.22, se 0.46904; exp(0.69315 -+ 0.91931) - 1 = (-0.2025, 4.0151).
    lift = stats.conversion_lift(Group(300, 30, 0, 0), Group(100, 5, 0, 0))
    assert lift.difference == pytest.approx(0.05) and lift.relative == pytest.approx(1.0)
    assert lift.relative_low == pytest.approx(-0.2025, abs=1e-4)
    assert lift.relative_high == pytest.approx(4.0151, abs=1e-4)
    # Pooled: 35/400 = 0.0875, se = sqrt(0.0875 x 0.9125 x (1/300 + 1/100)) = 0.032623, z = 1.5327, p = 0.1254.
    assert lift.p_value == pytest.approx(0.1254, abs=1e-4)
    assert lift.low < 0 < lift.high


def test_sample_ratio_mismatch_by_hand():
    # 1,000 members, 10% planned: expected 900 / 100.
    # 920 / 80: chi2 = 20^2/900 + 20^2/100 = 4.444, p = 0.035: fine at 0.001.
    fine = stats.srm_check([920, 80], [0.9, 0.1])
    assert fine.p_value == pytest.approx(0.0350, abs=1e-4) and not fine.mismatch
    # 940 / 60: chi2 = 40^2/900 + 40^2/100 = 17.78, p = 0.000025: flagged.
    assert stats.srm_check([940, 60], [0.9, 0.1]).mismatch
    assert stats.srm_check([0, 0], [0.9, 0.1]) is None and stats.srm_check([10, 0], [1.0, 0.0]) is None


def test_holm_by_hand():
    # Sorted 0.01, 0.03, 0.04: x3 = 0.03, x2 = 0.06, x1 = 0.04 -> kept at least 0.06.
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_nothing_to_compare_yet():
    assert stats.revenue_lift(Group(1, 0, 0, 0), Group(100, 0, 0, 0)) is None
    assert stats.conversion_lift(Group(0, 0, 0, 0), Group(100, 3, 0, 0)) is None
    # Nobody bought in either group: an exact zero difference, no effect.
    lift = stats.revenue_lift(Group(100, 0, 0, 0), Group(10, 0, 0, 0))
    assert (lift.low, lift.high, lift.detected, lift.relative) == (0, 0, False, None)
    assert stats.ab_choose([Group(1, 0, 0, 0), Group(10, 1, 1, 1)], metric="revenue") is None


def test_verdicts_in_plain_words():
    srm = stats.Srm(0.5, False)
    more = stats.Lift(12, 10, 2, 0.5, 3.5, 0.01)
    none = stats.Lift(10, 10, 0, -1, 1, 0.9)
    fewer = stats.Lift(0.02, 0.03, -0.01, -0.015, -0.005, 0.001)
    words = stats.verdict(revenue=more, conversion=none, srm=srm, has_control=True, currency="CNY")
    assert words.text == "Earned ¥2.00 more per member than the control group (95% CI ¥0.50 to ¥3.50)."
    words = stats.verdict(revenue=none, conversion=fewer, srm=srm, has_control=True, currency="CNY")
    assert words.code == "no_effect" and words.text.startswith("No effect detected yet")
    assert "Fewer purchases than the control group: 2.0% bought, against 3.0%." in words.text
    words = stats.verdict(revenue=more, conversion=none, srm=stats.Srm(1e-6, True), has_control=True)
    assert words.code == "srm" and words.text.startswith("Sample ratio mismatch")
    assert stats.verdict(revenue=None, conversion=None, srm=None, has_control=False).code == "no_control"


# Simulated campaigns: a control group of 10%, 10,000 members; most buy nothing, buyers spend a
# lognormal amount (median ¥55, a long tail), as shop revenue looks.
N_TREATMENT, N_CONTROL = 9000, 1000


def _revenue(rng, sims: int, n: int, conversion: float) -> np.ndarray:
    bought = rng.random((sims, n)) < conversion
    return np.where(bought, rng.lognormal(4.0, 0.8, (sims, n)), 0.0)


def _groups(values: np.ndarray) -> list[Group]:
    means, variances = values.mean(axis=1), values.var(axis=1, ddof=1)
    converters = (values > 0).sum(axis=1)
    n = values.shape[1]
    return [Group(n, int(x), float(m), float(v)) for x, m, v in zip(converters, means, variances, strict=True)]


def _simulate_revenue(seed: int, sims: int, n_t: int, n_c: int, p_t: float, p_c: float) -> list[stats.Lift]:
    rng, lifts = np.random.default_rng(seed), []
    for start in range(0, sims, 200):  # in chunks, to keep the arrays small
        chunk = min(200, sims - start)
        treatment = _groups(_revenue(rng, chunk, n_t, p_t))
        control = _groups(_revenue(rng, chunk, n_c, p_c))
        lifts += [stats.revenue_lift(t, c) for t, c in zip(treatment, control, strict=True)]
    return lifts


def test_with_no_effect_the_revenue_interval_covers_zero_95_percent_of_the_time():
    lifts = _simulate_revenue(2026, SIMULATIONS, N_TREATMENT, N_CONTROL, 0.1, 0.1)
    covered = np.mean([lift.low <= 0 <= lift.high for lift in lifts])
    assert 0.935 <= covered <= 0.965, covered
    relative_covered = np.mean([lift.relative_low <= 0 <= lift.relative_high for lift in lifts])
    assert 0.935 <= relative_covered <= 0.965, relative_covered


def test_a_planted_revenue_effect_is_detected():
    # 12% buy instead of 10%: about ¥1.50 more per member, at 20,000 members a group.
    lifts = _simulate_revenue(7, 200, 20_000, 20_000, 0.12, 0.10)
    assert np.mean([lift.low > 0 for lift in lifts]) >= 0.9
    assert np.mean([lift.high < 0 for lift in lifts]) == 0


def _simulate_conversion(seed: int, sims: int, n_t: int, n_c: int, p_t: float, p_c: float) -> list[stats.Lift]:
    rng = np.random.default_rng(seed)
    x_t, x_c = rng.binomial(n_t, p_t, sims), rng.binomial(n_c, p_c, sims)
    return [
        stats.conversion_lift(Group(n_t, int(a), 0, 0), Group(n_c, int(b), 0, 0)) for a, b in zip(x_t, x_c, strict=True)
    ]


def test_with_no_effect_the_conversion_interval_covers_zero_95_percent_of_the_time():
    lifts = _simulate_conversion(11, SIMULATIONS, N_TREATMENT, N_CONTROL, 0.03, 0.03)
    covered = np.mean([lift.low <= 0 <= lift.high for lift in lifts])
    assert 0.935 <= covered <= 0.965, covered


def test_the_conversion_interval_holds_with_few_members_and_rare_purchases():
    # Where Wald's interval fails (2% of 200 against 100): Newcombe's keeps at least its nominal coverage.
    lifts = _simulate_conversion(12, SIMULATIONS, 200, 100, 0.02, 0.02)
    covered = np.mean([lift.low <= 0 <= lift.high for lift in lifts])
    rng = np.random.default_rng(12)
    x_t, x_c = rng.binomial(200, 0.02, SIMULATIONS) / 200, rng.binomial(100, 0.02, SIMULATIONS) / 100
    wald_half = 1.96 * np.sqrt(x_t * (1 - x_t) / 200 + x_c * (1 - x_c) / 100)
    wald = np.mean(np.abs(x_t - x_c) <= wald_half)
    assert covered >= 0.935 and wald < 0.93, (covered, wald)


def test_a_planted_conversion_effect_is_detected():
    lifts = _simulate_conversion(13, SIMULATIONS, 20_000, 20_000, 0.12, 0.10)
    assert np.mean([lift.low > 0 for lift in lifts]) >= 0.95


def test_with_equal_variants_a_winner_is_seldom_declared():
    rng = np.random.default_rng(21)
    false_winners = 0
    for _ in range(SIMULATIONS // 2):
        counts = rng.binomial(2000, 0.05, 3)
        variants = [Group(2000, int(x), 0, 0) for x in counts]
        false_winners += stats.ab_choose(variants, metric="conversion").winner is not None
    assert false_winners / (SIMULATIONS // 2) <= 0.05


def test_the_better_variant_wins_on_revenue_most_of_the_time():
    rng = np.random.default_rng(22)
    wins = 0
    for _ in range(100):
        values = np.stack([_revenue(rng, 1, 8000, p)[0] for p in (0.10, 0.13, 0.10)])
        choice = stats.ab_choose(_groups(values), metric="revenue")
        wins += choice.winner == 1
    assert wins >= 80


def test_srm_flags_rarely_on_a_fair_draw_and_always_on_a_broken_one():
    rng = np.random.default_rng(31)
    control = rng.binomial(100_000, 0.1, SIMULATIONS)
    flagged = [stats.srm_check([100_000 - c, c], [0.9, 0.1]).mismatch for c in control]
    assert np.mean(flagged) < 0.005
    # A send that lost 5% of its treatment rows: 85,500 / 10,000 where 85,950 / 9,550 was due.
    assert stats.srm_check([85_500, 10_000], [0.9, 0.1]).mismatch
