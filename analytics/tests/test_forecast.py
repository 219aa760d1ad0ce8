import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import time_machine
from django.utils import timezone

from analytics.forecast import (
    REASON_TOO_SHORT,
    Baseline,
    Metric,
    forecast_monthly,
    forecasts_refresh,
)
from analytics.models import DailyKpi, Forecast

MONTHS = pd.date_range("2023-01-01", periods=36, freq="MS")
HORIZON = 3


def seasonal(seed: int, *, sigma: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """Three years and three months of a known business: a climb of 3 a month, a yearly swing of +-30, and
    Gaussian noise of sd `sigma`. Returns (noise-free truth, observed)."""
    t = np.arange(36 + HORIZON)
    truth = 200 + 3 * t + 30 * np.sin(2 * np.pi * t / 12)
    return truth, truth + np.random.default_rng(seed).normal(0, sigma, len(t))


def months_series(values) -> pd.Series:
    return pd.Series(values, index=MONTHS[: len(values)])


@pytest.fixture(scope="module")
def seasonal_payload():
    truth, observed = seasonal(0)
    return truth, observed, forecast_monthly(months_series(observed[:36]))


def test_seasonal_series_is_fitted_with_trend_and_season(seasonal_payload):
    _, observed, payload = seasonal_payload
    assert payload["model"] == "ETS(A,Ad,A) seasonal 12"
    assert payload["reason"] == ""
    assert payload["history"][0] == ["2023-01-01", round(observed[0], 2)]
    assert len(payload["history"]) == 36
    assert [row[0] for row in payload["forecast"]] == ["2026-01-01", "2026-02-01", "2026-03-01"]


def test_95_percent_interval_covers_the_true_next_months(seasonal_payload):
    truth, _, payload = seasonal_payload
    for (_, _, _, _, lo95, hi95), true_value in zip(payload["forecast"], truth[36:], strict=True):
        assert lo95 <= true_value <= hi95


def test_bounds_are_nested_around_the_mean_and_widen_with_the_horizon(seasonal_payload):
    _, _, payload = seasonal_payload
    widths = []
    for _, mean, lo80, hi80, lo95, hi95 in payload["forecast"]:
        assert lo95 <= lo80 <= mean <= hi80 <= hi95
        widths.append(hi95 - lo95)
    assert widths[0] < widths[1] < widths[2]


def test_the_intervals_are_the_gaussian_80_and_95_percent_ones(seasonal_payload):
    """Additive errors: the 95% half-width is 1.960 / 1.2816 times the 80% one. Catches a swapped or wrong alpha."""
    _, _, payload = seasonal_payload
    for _, mean, lo80, hi80, lo95, hi95 in payload["forecast"]:
        assert (hi95 - lo95) / (hi80 - lo80) == pytest.approx(1.959964 / 1.281552, abs=0.01)
        assert mean - lo95 == pytest.approx(hi95 - mean, abs=0.02)


def test_intervals_cover_the_noisy_actuals_about_as_often_as_they_say():
    """50 seeded series, 150 forecast months. The model ignores the uncertainty of its own parameters, so a
    little under the nominal rate is expected; far under means intervals too narrow, 100% at 80% too wide."""
    covered_80 = covered_95 = total = 0
    for seed in range(50):
        _, observed = seasonal(seed)
        payload = forecast_monthly(months_series(observed[:36]), backtest=False)
        for (_, _, lo80, hi80, lo95, hi95), actual in zip(payload["forecast"], observed[36:], strict=True):
            covered_80 += lo80 <= actual <= hi80
            covered_95 += lo95 <= actual <= hi95
            total += 1
    assert 0.85 <= covered_95 / total <= 1.0
    assert 0.65 <= covered_80 / total <= 0.92
    assert covered_95 - covered_80 >= 0.05 * total


def test_model_beats_the_seasonal_naive_baseline_on_a_trending_seasonal_series(seasonal_payload):
    _, _, payload = seasonal_payload
    backtest = payload["backtest"]
    assert backtest["months"] == 12
    assert backtest["baseline"] == Baseline.SEASONAL_NAIVE
    # Last year's month misses by the year's growth (36); the model should be within a few percent.
    assert backtest["mape"] < backtest["baseline_mape"]
    assert backtest["mae"] < backtest["baseline_mae"]
    assert backtest["mape"] < 0.05
    assert payload["beats_baseline"] is True


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_on_a_random_walk_the_flag_follows_the_backtest_numbers(seed):
    walk = 100 + np.cumsum(np.random.default_rng(seed).normal(0, 5, 36))
    payload = forecast_monthly(months_series(walk))
    backtest = payload["backtest"]
    assert backtest["months"] == 12
    assert payload["beats_baseline"] is (backtest["mape"] < backtest["baseline_mape"])


def test_a_year_that_repeats_exactly_is_not_beaten():
    """The seasonal-naive baseline is exact here, so the model cannot do better and must not claim to."""
    year = [50, 40, 60, 80, 90, 120, 130, 110, 90, 70, 60, 100]
    payload = forecast_monthly(months_series(year * 3))
    assert payload["backtest"]["baseline_mape"] == 0
    assert payload["beats_baseline"] is False


def test_a_short_series_without_a_full_season_uses_the_naive_baseline():
    payload = forecast_monthly(months_series(np.linspace(100, 160, 15) + np.tile([0, 5, -5], 5)))
    assert payload["model"] == "ETS(A,Ad,N)"
    assert payload["backtest"]["baseline"] == Baseline.NAIVE
    assert payload["backtest"]["months"] == 5
    assert len(payload["forecast"]) == HORIZON


def test_fewer_than_six_months_give_no_forecast_and_say_why():
    payload = forecast_monthly(months_series([10.0, 12.0, 11.0, 13.0, 12.0]))
    assert payload["forecast"] == []
    assert payload["model"] == ""
    assert payload["reason"] == REASON_TOO_SHORT
    assert payload["beats_baseline"] is False
    assert len(payload["history"]) == 5


def test_no_revenue_at_all_gives_a_flat_zero_forecast_and_no_claim():
    payload = forecast_monthly(months_series(np.zeros(24)))
    assert [row[1:] for row in payload["forecast"]] == [[0.0] * 5] * HORIZON
    assert payload["backtest"]["mape"] is None  # every actual is zero: no percentage error to take
    assert payload["beats_baseline"] is False


def test_forecasts_are_never_negative():
    falling = np.linspace(60, 2, 24)
    for _, *figures in forecast_monthly(months_series(falling))["forecast"]:
        assert min(figures) >= 0


def test_months_with_a_gap_are_refused():
    series = pd.Series([1.0] * 8, index=pd.to_datetime([f"2024-{m:02d}-01" for m in (1, 2, 3, 4, 6, 7, 8, 9)]))
    with pytest.raises(ValueError):
        forecast_monthly(series)


def test_a_month_without_a_value_is_refused():
    with pytest.raises(ValueError):
        forecast_monthly(months_series([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0]))


# forecasts_refresh reads DailyKpi ---------------------------------------------------------------------------


def kpi_days(first: datetime.date, last: datetime.date) -> list[DailyKpi]:
    """Revenue 10.00 a day; active members 1000 + 10 per month since 2024 + the day of the month, so a month's
    last day is the largest."""
    days = pd.date_range(first, last, freq="D").date
    return [
        DailyKpi(
            day=day,
            revenue=Decimal("10.00"),
            active_members=1000 + 10 * ((day.year - 2024) * 12 + day.month) + day.day,
        )
        for day in days
    ]


@pytest.mark.django_db
def test_refresh_writes_both_forecasts_from_the_complete_months():
    # Figures from mid-January 2024 to the 10th of November 2026, "today".
    DailyKpi.objects.bulk_create(kpi_days(datetime.date(2024, 1, 15), datetime.date(2026, 11, 10)))
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 11, 10, 9, 0)), tick=False):
        forecasts_refresh()
        forecasts_refresh()  # a second refresh replaces, never duplicates

    assert set(Forecast.objects.values_list("metric", flat=True)) == {Metric.REVENUE, Metric.ACTIVE_MEMBERS}
    revenue = Forecast.objects.get(metric=Metric.REVENUE).payload
    # Half of January 2024 (it began on the 15th) and the November under way are both left out.
    assert revenue["history"][0] == ["2024-02-01", 290.0]  # 29 days of 10.00
    assert revenue["history"][-1] == ["2026-10-01", 310.0]
    assert len(revenue["history"]) == 33
    assert revenue["forecast"][0][0] == "2026-11-01"
    assert revenue["model"] == "ETS(A,Ad,A) seasonal 12"

    members = Forecast.objects.get(metric=Metric.ACTIVE_MEMBERS).payload
    assert members["history"][0] == ["2024-02-01", 1000 + 10 * 2 + 29]  # as of 29 February
    assert members["history"][-1] == ["2026-10-01", 1000 + 10 * 34 + 31]
    assert len(members["forecast"]) == HORIZON


@pytest.mark.django_db
def test_refresh_with_no_figures_yet_stores_the_reason():
    with time_machine.travel(timezone.make_aware(datetime.datetime(2026, 11, 10, 9, 0)), tick=False):
        forecasts_refresh()
    for forecast in Forecast.objects.all():
        assert forecast.payload["forecast"] == []
        assert forecast.payload["reason"] == REASON_TOO_SHORT
    assert Forecast.objects.count() == 2
