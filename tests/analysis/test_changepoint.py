"""Planted-effect tests for change_points: known level shifts in, their dates and sizes out."""

import json

import numpy as np
import pandas as pd
import pytest
from calibration import null_bound, power_at_double
from scipy import signal

from csi_helpers.analysis import _segmentation
from csi_helpers.analysis.changepoint import change_points
from csi_helpers.demo import generate_demo, planted_truths
from csi_helpers.errors import DataError

DAYS = 182
START = "2026-04-01"


def daily(values, start: str = START) -> pd.Series:
    """A daily series starting at ``start``."""
    values = np.asarray(values, dtype="float64")
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D"))


def noise(seed: int, days: int = DAYS, sd: float = 1.0, rho: float = 0.0) -> np.ndarray:
    """Gaussian noise, AR(1) with coefficient ``rho`` (stationary from the first day)."""
    e = np.random.default_rng(seed).normal(0, sd, days)
    if rho:
        e[0] /= np.sqrt(1 - rho**2)
        e = signal.lfilter([1.0], [1.0, -rho], e)
    return e


def steps(days: int, at: list[int], sizes: list[float], level: float = 0.0) -> np.ndarray:
    """A piecewise-constant level: ``level`` plus ``sizes[i]`` from day ``at[i]`` on."""
    d = np.arange(days)
    return level + sum(size * (d >= where) for where, size in zip(at, sizes, strict=True))


def weekly(days: int, amplitude: float) -> np.ndarray:
    """A weekly pattern: high midweek, low at the weekend."""
    return amplitude * np.sin(2 * np.pi * np.arange(days) / 7)


def only_changes(findings):
    return [f for f in findings if f.kind == "change_point"]


def test_planted_shift_of_two_sd_at_day_91_is_found_with_its_size():
    series = daily(steps(DAYS, [91], [2.0]) + noise(seed=1))
    original = series.copy()
    [f] = change_points(series, metric="incidents", unit="tickets")
    planted = series.index[91]
    assert f.kind == "change_point"
    assert abs((pd.Timestamp(f.evidence["date"]) - planted).days) <= 2
    assert f.ci_low <= 2.0 <= f.ci_high
    assert f.ci_low <= f.effect <= f.ci_high
    assert f.p_value < 0.01
    assert f.unit == "tickets"
    assert f.id == f"change_point:incidents#{f.evidence['date']}"
    assert f.evidence["n_before"] + f.evidence["n_after"] == DAYS
    assert f.evidence["n_before"] == f.evidence["index"]
    assert f.effect == pytest.approx(f.evidence["level_after"] - f.evidence["level_before"])
    assert f.evidence["mean_after"] - f.evidence["mean_before"] == pytest.approx(f.effect)
    assert f.statement.startswith("incidents shifted from ")
    assert f"on {f.evidence['date']} (+" in f.statement and "95 % CI" in f.statement
    assert f.severity in ("medium", "high")
    assert "binary_segmentation" in f.method and "n_perm=1999" in f.method
    pd.testing.assert_series_equal(series, original)  # caller's data untouched
    json.dumps(f.to_dict())


def test_planted_shift_is_recovered_over_twenty_seeds():
    # Location error of a 2-sd shift exceeds 2 days in about 5 % of draws; allow 3 of 20.
    located = covered = 0
    for seed in range(20):
        found = only_changes(
            change_points(
                daily(steps(DAYS, [91], [2.0]) + noise(seed)), metric="m", unit="u", n_perm=199
            )
        )
        assert found, f"seed {seed}: planted shift not found"
        best = min(found, key=lambda f: abs(f.evidence["index"] - 91))
        located += abs(best.evidence["index"] - 91) <= 2
        covered += best.ci_low <= 2.0 <= best.ci_high
    assert located >= 17
    assert covered >= 17


def test_latency_drop_reads_like_the_report_and_is_high_severity():
    series = daily(steps(DAYS, [91], [-207.0], level=412.0) + noise(seed=3, sd=30))
    [f] = change_points(series, metric="daily p95 latency", unit="ms")
    assert f.evidence["date"] == "2026-07-01"
    assert f.statement.startswith("daily p95 latency shifted from 41")
    assert " ms to 2" in f.statement and "on 2026-07-01 (-2" in f.statement
    assert f.statement.endswith("; p < 0.001)")
    assert f.ci_low <= -207 <= f.ci_high and f.ci_high < 0
    assert f.severity == "high"  # halved, p < 0.01


@pytest.mark.parametrize(
    ("name", "sizes"), [("staircase", [2.0, 2.0]), ("up_then_back_down", [2.0, -2.0])]
)
def test_two_planted_shifts_are_both_found(name, sizes):
    series = daily(steps(DAYS, [60, 120], sizes) + noise(seed=1))
    found = change_points(series, metric="m", unit="u")
    assert [f.kind for f in found] == ["change_point", "change_point"], name
    for f, where, size in zip(found, [60, 120], sizes, strict=True):
        assert abs(f.evidence["index"] - where) <= 2
        assert f.ci_low <= size <= f.ci_high
    assert found[0].evidence["segment_after_end"] == found[1].evidence["last_date_before"]
    assert found[0].evidence["change_dates"] == [f.evidence["date"] for f in found]
    assert len({f.id for f in found}) == 2


def test_max_points_caps_the_number_reported():
    series = daily(steps(DAYS, [45, 91, 136], [3.0, 3.0, 3.0]) + noise(seed=2))
    everything = change_points(series, metric="m", unit="u")
    assert [f.evidence["index"] for f in everything] == pytest.approx([45, 91, 136], abs=2)
    capped = change_points(series, metric="m", unit="u", max_points=2)
    assert len(capped) == 2 and all(f.kind == "change_point" for f in capped)
    assert capped[0].evidence["stop_reason"] == "max_points"


#: Null seeds and bound of the null tests below (tests/calibration.py): a correct 5 %
#: method exceeds 38 of 500 with probability under 0.005; one at 10 % is caught with
#: probability 0.96 (100 seeds and a bound of 10 caught it 42 % of the time).
NULL_SEEDS, NULL_BOUND = 500, null_bound(500, 0.05)


def test_the_null_bound_is_the_binomial_one():
    assert NULL_BOUND == 38 and power_at_double(NULL_SEEDS, 0.05, NULL_BOUND) > 0.95


def test_series_without_change_rarely_raises_a_finding():
    """Independent noise: at most 38 of 500. Measured: 12 of 500 (AR(1) noise 32, a weekly
    pattern 15; the sieve makes the test a little conservative), 1.5 s each."""
    results = [
        change_points(daily(noise(seed)), metric="m", unit="u", n_perm=199, seed=seed)
        for seed in range(NULL_SEEDS)
    ]
    raised = sum(any(f.kind == "change_point" for f in fs) for fs in results)
    print(f"\nnoise: {raised} of {NULL_SEEDS} raised")
    assert raised <= NULL_BOUND
    reasons = [fs[0].evidence["reason"] for fs in results if fs[0].kind == "no_finding"]
    assert set(reasons) <= {"not_significant", "weak_change", "gradual_change"}
    assert reasons.count("not_significant") >= 0.85 * NULL_SEEDS


def test_shift_too_weak_to_describe_the_series_is_not_reported():
    # Seed 2 of this noise: the permutation test puts a split below alpha (a false alarm);
    # one constant level has the lower BIC, so the split is not reported.
    [f] = change_points(daily(noise(seed=8)), metric="m", unit="u", seed=2, n_perm=199)
    assert f.kind == "no_finding"
    assert f.evidence["reason"] == "weak_change"
    assert f.evidence["model"] == "constant"
    assert min(f.evidence["p_values"]) < 0.05
    assert f.statement.startswith("no clear change in the level of m: the level shift the")
    assert f.statement.endswith("so it is not reported")


def test_autocorrelated_noise_does_not_flood_the_report_with_changes():
    # AR(1) noise with rho 0.5 wanders like a series of shifts; an ordinary permutation test
    # calls about half of such series changed. With the AR(1) sieve the rate is near alpha
    # (6.5 % in 400 draws); bound as for independent noise.
    raised = sum(
        any(
            f.kind == "change_point"
            for f in change_points(
                daily(noise(seed, rho=0.5)), metric="m", unit="u", n_perm=199, seed=seed
            )
        )
        for seed in range(NULL_SEEDS)
    )
    print(f"\nAR(1) noise: {raised} of {NULL_SEEDS} raised")
    assert raised <= NULL_BOUND


def test_no_change_is_a_no_finding_with_the_best_candidate():
    [f] = change_points(daily(noise(seed=0)), metric="tickets", unit="tickets")
    assert f.kind == "no_finding" and f.severity == "info"
    assert f.id == "change_point:tickets"
    assert f.evidence["reason"] == "not_significant"
    assert f.p_value >= 0.05 and f.effect is not None
    assert f.ci_low is None and f.ci_high is None  # a CI at a chosen date would be too narrow
    assert f.evidence["date"] in f.statement and "no significant change" in f.statement
    assert f.evidence["n_before"] + f.evidence["n_after"] == DAYS


def test_weekly_pattern_without_shift_is_not_a_change():
    # A weekly swing of 3 noise sd, no shift; bound as for plain noise.
    raised = sum(
        any(
            f.kind == "change_point"
            for f in change_points(
                daily(weekly(DAYS, 3.0) + noise(seed)),
                metric="m",
                unit="u",
                period=7,
                n_perm=199,
                seed=seed,
            )
        )
        for seed in range(NULL_SEEDS)
    )
    print(f"\nweekly pattern: {raised} of {NULL_SEEDS} raised")
    assert raised <= NULL_BOUND


def test_shift_under_a_weekly_pattern_is_found_with_period():
    series = daily(weekly(DAYS, 3.0) + steps(DAYS, [91], [1.5]) + noise(seed=4))
    [f] = change_points(series, metric="m", unit="u", period=7)
    assert f.kind == "change_point"
    assert abs(f.evidence["index"] - 91) <= 2
    assert f.ci_low <= 1.5 <= f.ci_high
    assert "period=7" in f.method


def test_smooth_trend_is_called_gradual_not_a_staircase():
    # A rise of 4 noise sd over the half year: the level-shift scan alone finds a staircase
    # of significant "changes"; they add nothing to a straight line (BIC), so none is reported.
    series = daily(4.0 * np.arange(DAYS) / (DAYS - 1) + noise(seed=0))
    [f] = change_points(series, metric="queue", unit="tickets")
    assert f.kind == "no_finding"
    assert f.evidence["reason"] == "gradual_change"
    assert "changes gradually rather than in steps" in f.statement
    assert "trend_test" in f.statement
    assert len(f.evidence["change_dates"]) >= 1
    assert f.evidence["bic_line"] <= f.evidence["bic_steps_plus_line"]
    assert f.evidence["slope_per_day"] == pytest.approx(4.0 / 181, rel=0.25)


def test_smooth_trends_are_never_reported_as_changes():
    for seed in range(10):
        series = daily(6.0 * np.arange(DAYS) / (DAYS - 1) + noise(seed))
        found = change_points(series, metric="m", unit="u", seed=seed, n_perm=199)
        assert [f.evidence["reason"] for f in found] == ["gradual_change"]


def test_step_on_top_of_a_trend_is_found_and_the_drift_is_said():
    series = daily(2.0 * np.arange(DAYS) / (DAYS - 1) + steps(DAYS, [91], [3.0]) + noise(seed=0))
    found = only_changes(change_points(series, metric="m", unit="u"))
    assert any(abs(f.evidence["index"] - 91) <= 2 for f in found)
    assert all(f.evidence["drift_per_day"] > 0 for f in found)
    assert all("the level also drifts by +" in f.statement for f in found)


def test_relative_severity_needs_a_ratio_scale():
    # Around zero a shift of 2 is "900 %" of the level before; that is no reason for "high".
    [f] = change_points(daily(steps(DAYS, [91], [2.0]) + noise(seed=1)), metric="m", unit="u")
    assert f.evidence["relative_change"] is None
    assert f.severity == "medium"
    small = daily(steps(DAYS, [91], [2.0], level=100.0) + noise(seed=1))
    [g] = change_points(small, metric="m", unit="u")
    assert g.evidence["relative_change"] == pytest.approx(0.02, abs=0.005)
    assert g.severity == "medium"


def test_long_hourly_series_is_scanned_in_chunks_with_timestamps(monkeypatch):
    monkeypatch.setattr(_segmentation, "CELLS", 50_000)  # force several passes per test
    hours = pd.date_range("2026-06-01", periods=1500, freq="h")
    series = pd.Series(steps(1500, [700], [1.0]) + noise(seed=5, days=1500), index=hours)
    [f] = change_points(series, metric="m", unit="u", min_size=24, n_perm=199)
    assert f.kind == "change_point"
    assert abs(f.evidence["index"] - 700) <= 24
    assert f.evidence["date"] == hours[f.evidence["index"]].isoformat()
    assert f.p_value == pytest.approx(1 / 200)


def test_gaps_are_dropped_and_counted_and_shift_still_found():
    series = daily(steps(DAYS, [91], [2.0]) + noise(seed=1))
    series.iloc[[10, 11, 50, 150]] = np.nan
    series = series.drop(series.index[[120, 121, 122]])  # missing dates, not just values
    [f] = change_points(series, metric="m", unit="u")
    assert f.kind == "change_point"
    assert abs((pd.Timestamp(f.evidence["date"]) - pd.Timestamp("2026-07-01")).days) <= 2
    assert f.evidence["n_missing_values"] == 4
    assert f.evidence["n_missing_timestamps"] == 3
    assert f.evidence["n_points"] == DAYS - 7


def test_values_without_a_date_are_dropped_and_counted():
    series = daily(steps(DAYS, [91], [2.0]) + noise(seed=1))
    undated = pd.Series([5.0, 6.0], index=pd.DatetimeIndex([pd.NaT, pd.NaT]))
    [f] = change_points(pd.concat([series, undated.iloc[:1]]), metric="m", unit="u")
    assert f.kind == "change_point" and f.evidence["n_undated"] == 1
    [g] = change_points(undated.iloc[:1], metric="m", unit="u")
    assert g.evidence["reason"] == "empty" and g.evidence["n_undated"] == 1


def test_unsorted_index_is_sorted_and_gives_the_same_answer():
    series = daily(steps(DAYS, [91], [2.0]) + noise(seed=1))
    [a] = change_points(series, metric="m", unit="u")
    [b] = change_points(series.sample(frac=1.0, random_state=0), metric="m", unit="u")
    assert b.evidence["was_sorted"] is False and a.evidence["was_sorted"] is True
    assert (a.evidence["date"], a.effect, a.p_value) == (b.evidence["date"], b.effect, b.p_value)


@pytest.mark.parametrize(
    ("series", "options", "reason", "words"),
    [
        (daily(noise(0, days=13)), {}, "too_short", "13 values, need ≥ 14"),
        (daily(noise(0, days=30)), {"min_size": 20}, "too_short", "need ≥ 40"),
        (daily(noise(0, days=13)), {"period": 7, "min_size": 3}, "too_short", "two periods"),
        (daily(np.full(90, 4.0)), {}, "constant", "constant at 4 tickets"),
        (daily([]), {}, "empty", "empty"),
        (daily(np.full(DAYS, np.nan)), {}, "mostly_missing", "0 of 182 expected values"),
        (
            daily(np.where(np.arange(DAYS) % 3 == 0, 1.0, np.nan) * noise(0)),
            {},
            "mostly_missing",
            "61 of 182 expected values",
        ),
        (
            pd.concat([daily(noise(0, days=30)), daily(noise(1, days=2))]),
            {},
            "duplicate_timestamps",
            "2 duplicate dates",
        ),
    ],
)
def test_data_that_cannot_support_the_method_gives_a_no_finding(series, options, reason, words):
    [f] = change_points(series, metric="m", unit="tickets", **options)
    assert f.kind == "no_finding" and f.severity == "info"
    assert f.evidence["reason"] == reason
    assert words in f.statement


@pytest.mark.parametrize(
    ("series", "options", "error", "message"),
    [
        ([1.0, 2.0], {}, TypeError, "pandas Series"),
        (pd.Series(np.arange(30.0)), {}, TypeError, "DatetimeIndex"),
        (daily(noise(0)).astype(str).astype("string"), {}, TypeError, "expected numbers"),
        (daily(noise(0)), {"alpha": 1.5}, ValueError, "alpha"),
        (daily(noise(0)), {"alpha": True}, TypeError, "alpha"),
        (daily(noise(0)), {"min_size": 1}, ValueError, "min_size"),
        (daily(noise(0)), {"max_points": 0}, ValueError, "max_points"),
        (daily(noise(0)), {"n_perm": 10}, ValueError, "n_perm"),
        (daily(noise(0)), {"seed": -1}, ValueError, "seed"),
        (daily(noise(0)), {"seed": 1.5}, TypeError, "seed"),
        (daily(noise(0)), {"period": 1}, ValueError, "period"),
        (daily(noise(0)), {"metric": ""}, ValueError, "metric"),
        (daily(noise(0)), {"unit": None}, TypeError, "unit"),
        (daily(noise(0)), {"scope": ["email"]}, TypeError, "scope"),
    ],
)
def test_unusable_arguments_are_programming_errors_not_data_errors(series, options, error, message):
    arguments = {"metric": "m", "unit": "u", **options}
    with pytest.raises(error, match=message) as raised:
        change_points(series, **arguments)
    assert not isinstance(raised.value, DataError)  # a bug fails the step, never "could not run"


def test_same_seed_same_answer():
    series = daily(steps(DAYS, [60, 120], [1.0, -1.0]) + noise(seed=7))
    first = change_points(series, metric="m", unit="u", seed=11, n_perm=199)
    again = change_points(series, metric="m", unit="u", seed=11, n_perm=199)
    assert first == again
    null = daily(noise(seed=8))
    runs = [change_points(null, metric="m", unit="u", seed=s, n_perm=199)[0] for s in (1, 1, 3)]
    assert runs[0] == runs[1]
    assert runs[0].evidence["date"] == runs[2].evidence["date"]  # the scan is not random
    assert runs[0].p_value != runs[2].p_value  # the permutations are


def test_scope_goes_into_id_and_record():
    series = daily(steps(DAYS, [91], [2.0]) + noise(seed=1))
    [f] = change_points(series, metric="latency", unit="ms", scope={"service": "shopfront"})
    assert f.id == f"change_point:latency@service=shopfront#{f.evidence['date']}"
    assert f.scope == {"service": "shopfront"}


@pytest.fixture(scope="module")
def demo_monitoring(tmp_path_factory):
    paths = generate_demo(tmp_path_factory.mktemp("demo"))
    frame = pd.read_csv(paths["monitoring"], parse_dates=["timestamp"])
    return frame.set_index("timestamp")


@pytest.mark.parametrize("period", [None, 7])
def test_demo_capacity_doubling_is_found_on_1_july(demo_monitoring, period):
    truths = planted_truths()
    hourly = demo_monitoring["utilisation"]
    q2 = hourly[:"2026-06-30 23:00"].resample("D").max()
    q3 = hourly["2026-07-01":].resample("D").max()
    series = pd.concat([q2, q3])
    found = change_points(
        series,
        metric="daily peak utilisation",
        unit="fraction",
        period=period,
        scope={"service": truths.service_id},
    )
    changes = only_changes(found)
    planted = pd.Timestamp(truths.capacity_change_at).tz_localize(None)
    near = [f for f in changes if abs((pd.Timestamp(f.evidence["date"]) - planted).days) <= 1]
    assert len(near) == 1
    [f] = near
    # Capacity doubled, so peak utilisation roughly halves.
    ratio = f.evidence["level_after"] / f.evidence["level_before"]
    assert 0.4 <= ratio <= 0.65
    assert f.ci_high < 0 and f.p_value < 0.01
    assert f.severity == "high"
    assert f.id == f"change_point:daily peak utilisation@service=shopfront#{f.evidence['date']}"
