"""Calibration of the 95 % intervals the report prints: coverage over 200 seeds, width
against a standard error known from the planted process (issue 20 point 3).

Each method runs on 200 data sets with a planted truth. A correct 95 % interval covers it
180-198 times with probability 0.998 (Binomial(200, 0.95)); an 80 % interval reaches 180
with probability 1e-4, and one 2.8 times too wide covers it every time (≥ 199 with
probability > 0.99 for any interval that wide), so coverage alone catches both. The width
check catches what coverage is slow to see: the mean width over the seeds against 2 × the
critical value × a standard error worked out from the planted process, not from the code
under test. The trend and AUC intervals have their own tests (test_trend.py,
test_drivers.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from calibration import check_coverage
from scipy import stats
from test_forecast import START, WEEKLY, hourly_frame
from test_impact import during, impact, random_events, weekly_series
from test_verification import compare, hourly

from csi_helpers.analysis import capacity_threshold
from csi_helpers.analysis.forecast import forecast_frame

SEEDS = range(200)
Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def forecasts():
    """200 seeds of 112 days of hourly load (3 % noise on a daily peak growing 30 a day
    from 20,000, weekly factors), each forecast 28 days ahead; the 28 days that follow
    are drawn from the same process and kept aside as the truth."""
    rows = []
    for seed in SEEDS:
        full = hourly_frame(seed=seed, days=140)
        history = full[full["timestamp"] < START + pd.Timedelta(days=112)]
        future = forecast_frame(history, horizon_days=28).dropna(subset=["forecast"])
        actual = full.groupby(full["timestamp"].dt.floor("D"))["requests"].max()
        rows.append(future.assign(actual=actual.reindex(future["date"]).to_numpy()))
    return rows


@pytest.mark.parametrize("ahead", [1, 14])
def test_forecast_prediction_interval_covers_the_next_days_peak(forecasts, ahead):
    """One day per seed (days of one seed share its fit). Measured: 186 and 189 of 200
    with the noise proportional to the level; 182 and 187 when it was held at the fitted
    days' level (92 % coverage on 1,000 seeds), the defect this test found."""
    days = [f.iloc[ahead - 1] for f in forecasts]
    covered = sum(d["lower"] <= d["actual"] <= d["upper"] for d in days)
    check_coverage(covered, f"daily peak {ahead} days ahead")


def test_forecast_prediction_interval_has_the_width_of_the_planted_noise(forecasts):
    """The next day's error: 3 % of its planted level, widened by the error of the fitted
    line at that day (leverage 1/112 + (112 - 55.5)^2 / S_tt of the 112 fitted days) and of
    its weekday factor (a mean of 16 ratios, 1/16). Measured ratio: 1.00."""
    t = np.arange(112)
    leverage = 1 / 112 + (112 - t.mean()) ** 2 / ((t - t.mean()) ** 2).sum()
    ratios = []
    for f in forecasts:
        day = f.iloc[0]
        level = (20_000 + 30 * 112) * WEEKLY[day["date"].day_of_week]
        known_se = 0.03 * level * np.sqrt(1 + leverage + 1 / 16)
        half = (day["upper"] - day["lower"]) / 2
        ratios.append(half / (stats.t.ppf(0.975, 112 - 3 - 6) * known_se))
    print(f"\nforecast: mean 95 % half-width / known one {np.mean(ratios):.3f}")
    assert 0.93 <= np.mean(ratios) <= 1.07


def knee(seed: int, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    """Latency flat at 180 ms, +1500 ms per unit of utilisation past 0.75, noise N(0, 20)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.2, 1.1, n)
    latency = 180 + 1500 * np.maximum(0, u - 0.75) + rng.normal(0, 20, n)
    return pd.DataFrame({"utilisation": u, "latency_p95_ms": latency}), u


@pytest.fixture(scope="module")
def knees():
    """200 seeds: the finding and the asymptotic standard errors of the slope increase and
    the knee (Muggeo 2003: least squares on the linearised hinge with the true knee,
    columns 1, u, (u - 0.75)+ and -1500 (u > 0.75))."""
    rows = []
    for seed in SEEDS:
        frame, u = knee(seed)
        jacobian = np.column_stack(
            [np.ones_like(u), u, np.maximum(0, u - 0.75), -1500 * (u > 0.75)]
        )
        cov = 20.0**2 * np.linalg.inv(jacobian.T @ jacobian)
        se = {"slope": np.sqrt(cov[2, 2]) / 100, "knee": np.sqrt(cov[3, 3])}  # per point
        rows.append((capacity_threshold(frame, seed=seed), se))
    return rows


def test_capacity_knee_intervals_cover_the_planted_slope_and_knee(knees):
    """Measured: the slope increase (15 ms per point) 192 and the knee 191 of 200."""
    assert all(f.kind == "capacity_threshold" for f, _ in knees)
    check_coverage(sum(f.ci_low <= 15 <= f.ci_high for f, _ in knees), "capacity slope increase")
    inside = sum(
        f.evidence["threshold_ci_low"] <= 0.75 <= f.evidence["threshold_ci_high"] for f, _ in knees
    )
    check_coverage(inside, "capacity knee")


def test_capacity_knee_intervals_have_the_asymptotic_width(knees):
    """Mean width of the bootstrap intervals against 2 × 1.96 × the asymptotic standard
    error. Measured ratios: slope 1.00, knee 0.99."""
    slope = np.mean([(f.ci_high - f.ci_low) / (2 * Z * se["slope"]) for f, se in knees])
    where = np.mean(
        [
            (e["threshold_ci_high"] - e["threshold_ci_low"]) / (2 * Z * se["knee"])
            for e, se in ((f.evidence, se) for f, se in knees)
        ]
    )
    print(f"\ncapacity: mean width / asymptotic, slope {slope:.3f}, knee {where:.3f}")
    assert 0.9 <= slope <= 1.1
    assert 0.9 <= where <= 1.1


@pytest.fixture(scope="module")
def impacts():
    """200 seeds of 12 weeks of hourly requests (daily cycle, Friday peak, trend, AR(1)
    noise) with 8 campaigns of 12 hours at +25 %."""
    found = []
    for seed in SEEDS:
        series = weekly_series(seed=seed)
        events = random_events(seed=seed, index=series.index, n=8, length=12)
        planted = series * np.where(during(series, events), 1.25, 1.0)
        found.append(impact(planted, events, n_perm=199, seed=seed))
    return found


def test_event_impact_interval_covers_the_planted_uplift(impacts):
    """Measured: 188 of 200 (3 s)."""
    assert all(f.kind == "event_impact" for f in impacts)
    check_coverage(sum(f.ci_low <= 0.25 <= f.ci_high for f in impacts), "campaign uplift")


def test_event_impact_interval_width_matches_the_spread_of_the_estimates(impacts):
    """The interval is Student's t (7 df) on the log scale with a cluster-robust error from
    8 events, which runs low by design with so few (c4(8) = 0.965, and the ratio's
    linearisation); the standard error known here is the spread of the 200 estimates
    (5 % relative error). Measured ratio: 0.90."""
    logs = np.log1p([f.effect for f in impacts])
    widths = [np.log1p(f.ci_high) - np.log1p(f.ci_low) for f in impacts]
    ratio = np.mean(widths) / (2 * stats.t.ppf(0.975, 7) * np.std(logs, ddof=1))
    print(f"\nevent impact: mean width / (2 t SD of the estimates) {ratio:.3f}")
    assert 0.8 <= ratio <= 1.1


@pytest.fixture(scope="module")
def verifications():
    """200 seeds of 8 weeks of Poisson incidents per hour (2 an hour, 6 from 18 to 22 h)
    before and 8 weeks at half the rate after."""
    return [
        compare(
            hourly(seed=2 * seed, start="2026-04-01", weeks=8, level=2.0),
            hourly(seed=2 * seed + 1, start="2026-06-01", weeks=8, level=1.0),
        )
        for seed in SEEDS
    ]


def test_verification_interval_covers_the_planted_halving(verifications):
    """Measured: 189 of 200 (2 s)."""
    check_coverage(sum(f.ci_low <= -0.5 <= f.ci_high for f in verifications), "halving")


def test_verification_interval_has_the_poisson_width(verifications):
    """A log rate ratio of two Poisson totals has standard error sqrt(1/T_before +
    1/T_after), with T the expected counts (2 × 32/24 × 1,344 hours before, half after).
    Measured ratio: 1.00."""
    expected_before = 2.0 * (20 + 4 * 3) / 24 * 8 * 168
    se = np.sqrt(1 / expected_before + 2 / expected_before)
    widths = [np.log1p(f.ci_high) - np.log1p(f.ci_low) for f in verifications]
    ratio = np.mean(widths) / (2 * Z * se)
    print(f"\nverification: mean log width / Poisson {ratio:.3f}")
    assert 0.93 <= ratio <= 1.07
