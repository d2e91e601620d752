"""Planted-effect tests for trend_test: known slopes in, known answers out."""

import numpy as np
import pandas as pd
import pytest
from calibration import check_coverage
from scipy import stats

from csi_helpers.analysis import trend_test
from csi_helpers.errors import DataError

DAYS = 180


def daily_series(*, seed: int, slope: float, days: int = DAYS, noise: float = 150.0) -> pd.Series:
    """Daily values: level 1000, weekly cycle of amplitude 300, planted slope, Gaussian noise."""
    rng = np.random.default_rng(seed)
    d = np.arange(days)
    values = 1000 + slope * d + 300 * np.sin(2 * np.pi * d / 7) + rng.normal(0, noise, days)
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=days, freq="D"))


def test_planted_increasing_slope_is_recovered_with_weekly_season():
    f = trend_test(daily_series(seed=1, slope=12), period=7, metric="tickets", unit="tickets")
    assert f.kind == "trend"
    assert f.evidence["direction"] == "increasing"
    assert f.ci_low <= 12 <= f.ci_high
    assert abs(f.effect - 12) < 1
    assert f.p_value < 0.001
    assert f.unit == "tickets/day"
    assert f.id == "trend:tickets"
    assert f.severity == "high"  # 12/day over 179 days doubles a level of 1000
    assert f.evidence["relative_change"] == pytest.approx(12 * 179 / 1000, rel=0.15)
    assert "seasonal_mann_kendall(period=7" in f.method


def test_planted_negative_slope_is_recovered_with_its_sign():
    f = trend_test(daily_series(seed=2, slope=-3), period=7, metric="tickets", unit="tickets")
    assert f.kind == "trend"
    assert f.evidence["direction"] == "decreasing"
    assert f.effect < 0
    assert f.ci_low <= -3 <= f.ci_high


def test_plain_mann_kendall_without_period_recovers_slope():
    f = trend_test(daily_series(seed=3, slope=5, noise=50), metric="tickets", unit="tickets")
    assert f.kind == "trend"
    assert f.method.startswith("mann_kendall(")
    assert f.ci_low <= 5 <= f.ci_high


def sen_slope_standard_error(days: int, *, period: int, noise: float) -> float:
    """Large-sample standard error of the (seasonal) Sen slope under Gaussian noise.

    Least squares within seasons has standard error noise / sqrt(Sxx), Sxx the sum over
    seasons of squared deviations of the days from their season's mean; the Sen slope's
    efficiency relative to it is 3/π (Sen 1968), so its error is sqrt(π/3) times larger.
    """
    d = np.arange(days)
    season = d % period
    sxx = sum(((d[season == k] - d[season == k].mean()) ** 2).sum() for k in range(period))
    return noise / np.sqrt(sxx) * np.sqrt(np.pi / 3)


SEEDS = range(200)


def test_seasonal_interval_covers_the_planted_slope_95_times_in_100():
    """Calibration over 200 seeds of 180 daily values with a weekly cycle, slope 2/day.
    A 95 % interval covers 180-198 times with probability 0.998 (Binomial(200, 0.95));
    one 2.8 times too wide covers ~100 % (≥ 199 with probability > 0.99), an 80 % one
    ≥ 180 with probability 1e-4. Measured: 194 of 200 (0.7 s)."""
    covered = sum(
        (f.ci_low <= 2 <= f.ci_high)
        for f in (
            trend_test(daily_series(seed=s, slope=2), period=7, metric="m", unit="u") for s in SEEDS
        )
    )
    check_coverage(covered, "seasonal Sen slope 2/day")


def test_seasonal_interval_width_matches_the_sen_slope_standard_error():
    """Mean width of the 95 % interval over 200 seeds against 2 × 1.96 × the large-sample
    standard error (:func:`sen_slope_standard_error`: 0.220/day here, width 0.863).
    Measured: mean width 0.887 (ratio 1.03); 2.8 times too wide or an 80 % interval
    (ratio 0.65) falls outside 0.9-1.15."""
    se = sen_slope_standard_error(DAYS, period=7, noise=150.0)
    widths = [
        f.ci_high - f.ci_low
        for f in (
            trend_test(daily_series(seed=s, slope=2), period=7, metric="m", unit="u") for s in SEEDS
        )
    ]
    ratio = np.mean(widths) / (2 * stats.norm.ppf(0.975) * se)
    print(f"\nseasonal Sen slope: mean 95 % width {np.mean(widths):.3f}, ratio {ratio:.3f}")
    assert 0.9 <= ratio <= 1.15


def test_seasonal_noise_without_trend_rarely_raises_a_finding():
    """500 seeds at alpha 0.05, at most 38 findings: a method at 5 % exceeds that with
    probability 0.005, one at 10 % stays within it with probability 0.039 (so it fails
    with 0.96). Measured: 21 of 500 (3.7 s)."""
    assert stats.binom.sf(38, 500, 0.05) < 0.005 and stats.binom.cdf(38, 500, 0.10) < 0.04
    raised = sum(
        trend_test(daily_series(seed=s, slope=0), period=7, metric="m", unit="u").kind == "trend"
        for s in range(500)
    )
    print(f"\nseasonal noise: {raised} of 500 raised a trend")
    assert raised <= 38


def test_no_trend_is_a_no_finding_with_the_numbers():
    results = (
        trend_test(daily_series(seed=s, slope=0), period=7, metric="m", unit="u") for s in range(5)
    )
    quiet = next(f for f in results if f.kind == "no_finding")
    assert quiet.evidence["reason"] == "not_significant"
    assert quiet.evidence["direction"] == "no trend"
    assert quiet.p_value >= 0.05 and quiet.ci_low <= 0 <= quiet.ci_high
    assert "no significant trend" in quiet.statement


def test_too_short_series_gives_no_finding_with_reason():
    f = trend_test(daily_series(seed=0, slope=12, days=5), period=7, metric="m", unit="u")
    assert f.kind == "no_finding"
    assert f.severity == "info"
    assert f.statement == "series too short: 5 points, need ≥ 14"
    assert f.evidence["reason"] == "too_short"
    assert f.id == "trend:m"


def test_short_series_without_period_needs_ten_points():
    f = trend_test(daily_series(seed=0, slope=12, days=9), metric="m", unit="u")
    assert f.evidence["reason"] == "too_short"
    assert "need ≥ 10" in f.statement


def test_constant_series_gives_no_finding_with_reason():
    series = pd.Series(4.0, index=pd.date_range("2024-01-01", periods=60, freq="D"))
    f = trend_test(series, period=7, metric="m", unit="tickets")
    assert f.kind == "no_finding"
    assert f.evidence["reason"] == "constant"
    assert f.statement == "series is constant at 4 tickets"


def test_mostly_missing_series_gives_no_finding():
    series = daily_series(seed=0, slope=12)
    series.iloc[::3] = np.nan
    series.iloc[1::3] = np.nan
    f = trend_test(series, period=7, metric="m", unit="u")
    assert f.evidence["reason"] == "mostly_missing"
    assert "60 of 180 expected points" in f.statement


def test_gaps_are_dropped_and_counted_and_trend_still_found():
    series = daily_series(seed=4, slope=12)
    series.iloc[[10, 11, 50, 90]] = np.nan
    series = series.drop(series.index[[120, 121, 122]])  # missing dates, not just values
    original = series.copy()
    f = trend_test(series, period=7, metric="m", unit="u")
    assert f.kind == "trend" and abs(f.effect - 12) < 1
    assert f.evidence["n_missing_values"] == 4
    assert f.evidence["n_missing_timestamps"] == 3
    assert f.evidence["n_points"] == DAYS - 7
    pd.testing.assert_series_equal(series, original)  # caller's data untouched


def test_unsorted_input_gives_the_same_answer():
    series = daily_series(seed=5, slope=12)
    shuffled = series.sample(frac=1.0, random_state=0)
    a = trend_test(series, period=7, metric="m", unit="u")
    b = trend_test(shuffled, period=7, metric="m", unit="u")
    assert a == b


def test_duplicate_timestamps_give_no_finding():
    series = daily_series(seed=0, slope=12, days=30)
    series = pd.concat([series, series.iloc[:2]])
    f = trend_test(series, metric="m", unit="u")
    assert f.evidence["reason"] == "duplicate_timestamps"


@pytest.mark.parametrize(
    ("series", "options", "error", "message"),
    [
        (pd.Series([1.0, 2.0]), {}, TypeError, "DatetimeIndex"),
        ([1.0, 2.0], {}, TypeError, "pandas Series"),
        (daily_series(seed=0, slope=1, days=20).astype(str), {}, TypeError, "expected numbers"),
        (daily_series(seed=0, slope=1, days=20), {"period": 1}, ValueError, "period"),
        (daily_series(seed=0, slope=1, days=20), {"period": 7.0}, TypeError, "period"),
        (daily_series(seed=0, slope=1, days=20), {"alpha": 1.5}, ValueError, "alpha"),
        (daily_series(seed=0, slope=1, days=20), {"alpha": "5%"}, TypeError, "alpha"),
        (daily_series(seed=0, slope=1, days=20), {"metric": " "}, ValueError, "metric"),
        (daily_series(seed=0, slope=1, days=20), {"unit": None}, TypeError, "unit"),
        (daily_series(seed=0, slope=1, days=20), {"scope": ["email"]}, TypeError, "scope"),
    ],
)
def test_unusable_arguments_are_programming_errors_not_data_errors(series, options, error, message):
    arguments = {"metric": "m", "unit": "u", **options}
    with pytest.raises(error, match=message) as raised:
        trend_test(series, **arguments)
    assert not isinstance(raised.value, DataError)  # a bug fails the step, never "could not run"


@pytest.mark.parametrize(
    ("series", "reason"),
    [
        (daily_series(seed=0, slope=1, days=5), "too_short"),
        (pd.Series(4.0, index=pd.date_range("2024-01-01", periods=30)), "constant"),
        (daily_series(seed=0, slope=1, days=60).where(np.arange(60) % 3 == 0), "mostly_missing"),
        (pd.Series(dtype=float, index=pd.DatetimeIndex([])), "empty"),
    ],
)
def test_data_limits_give_a_no_finding_not_an_error(series, reason):
    f = trend_test(series, metric="m", unit="u")
    assert f.kind == "no_finding" and f.evidence["reason"] == reason


def test_scope_goes_into_id_and_record():
    series = daily_series(seed=1, slope=12)
    f = trend_test(series, period=7, metric="tickets", unit="tickets", scope={"service": "email"})
    assert f.id == "trend:tickets@service=email"
    assert f.scope == {"service": "email"}


def test_plain_case_agrees_with_scipy_theil_sen_and_kendall_tau():
    series = daily_series(seed=6, slope=0.8, days=120, noise=40).round()  # rounding makes ties
    f = trend_test(series, metric="m", unit="u")
    days = np.arange(120.0)
    sen = stats.theilslopes(series.to_numpy(), days, alpha=0.95)
    assert (f.effect, f.ci_low, f.ci_high) == pytest.approx(
        (sen.slope, sen.low_slope, sen.high_slope), rel=1e-12
    )
    tau = stats.kendalltau(days, series.to_numpy())
    assert f.evidence["z"] == pytest.approx(stats.norm.isf(tau.pvalue / 2), rel=0.02)
