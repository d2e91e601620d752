"""Planted-effect tests for capacity_threshold: a known knee in, its position out."""

import numpy as np
import pandas as pd
import pytest
from calibration import null_bound, power_at_double

from csi_helpers.analysis import capacity_threshold
from csi_helpers.analysis._hinge import bootstrap_p, hinge_scan
from csi_helpers.errors import DataError


def knee_frame(*, seed: int, threshold: float = 0.75, n: int = 4400, noise: float = 0.1):
    """Latency flat at 180 ms, rising 1500 ms per unit of utilisation past the knee."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.2, 1.1, n)
    latency = (180 + 1500 * np.maximum(0.0, u - threshold)) * rng.lognormal(0, noise, n)
    return pd.DataFrame({"utilisation": u, "latency_p95_ms": latency})


def linear_frame(*, seed: int, n: int = 400):
    """Latency rising linearly with utilisation, multiplicative noise: no knee."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.2, 1.1, n)
    return pd.DataFrame(
        {"utilisation": u, "latency_p95_ms": (100 + 300 * u) * rng.lognormal(0, 0.2, n)}
    )


def test_planted_knee_at_75_percent_is_recovered():
    frame = knee_frame(seed=7)
    original = frame.copy()
    f = capacity_threshold(frame)
    assert f.kind == "capacity_threshold"
    assert abs(f.evidence["threshold"] - 0.75) <= 0.03
    assert f.evidence["threshold_ci_low"] <= 0.75 <= f.evidence["threshold_ci_high"]
    assert f.evidence["threshold_display"] == pytest.approx(75, abs=3)
    assert f.unit == "ms per utilisation point"
    assert f.ci_low <= 15 <= f.ci_high  # 1500 ms per unit = 15 ms per point
    assert abs(f.evidence["slope_below"]) < 1
    assert f.p_value < 0.01
    assert f.severity == "high"
    assert f.id == "capacity_threshold:latency_p95_ms@x=utilisation"
    assert "latency_p95_ms rises once utilisation passes 7" in f.statement
    pd.testing.assert_frame_equal(frame, original)


def test_planted_knee_at_60_percent_is_recovered():
    f = capacity_threshold(knee_frame(seed=8, threshold=0.6, n=1500))
    assert f.kind == "capacity_threshold"
    assert abs(f.evidence["threshold"] - 0.6) <= 0.03
    assert f.evidence["threshold_ci_low"] <= 0.6 <= f.evidence["threshold_ci_high"]


def test_a_clear_knee_has_a_p_value_below_the_bootstraps_floor():
    """200 draws cannot give p below 1/201 on their own; a report-wide control over 20
    tests needs it (a lone knee at p = 1/201 fails Benjamini-Hochberg at 0.05)."""
    f = capacity_threshold(knee_frame(seed=8, threshold=0.6, n=1500), n_boot=200)
    assert f.p_value < 0.05 / 20 < 1 / 201


def test_the_empirical_p_value_stands_where_the_draws_resolve_it():
    """Where ten or more draws reach the statistic the tail fit is not used."""
    null = np.random.default_rng(1).chisquare(3, 200)
    for observed in (2.0, 5.0, 8.0):
        hits = int(np.sum(null >= observed))
        expected = (1 + hits) / 201 if hits >= 10 else None
        p = bootstrap_p(null, observed)
        if expected is not None:
            assert p == expected
        else:
            assert 0 < p <= (1 + hits) / 201


def test_utilisation_in_percent_gives_the_same_knee_in_percent():
    frame = knee_frame(seed=7, n=1000)
    fraction = capacity_threshold(frame)
    percent = capacity_threshold(frame.assign(utilisation=frame["utilisation"] * 100))
    assert percent.evidence["x_unit"] == "percent"
    assert percent.evidence["threshold"] == pytest.approx(100 * fraction.evidence["threshold"])
    assert percent.effect == pytest.approx(fraction.effect)


def test_straight_line_rarely_shows_a_break():
    # 100 seeds at alpha 0.05: 5 expected; P(Binomial(100, 0.05) > 10) ≈ 0.011.
    results = [capacity_threshold(linear_frame(seed=s), seed=s) for s in range(100)]
    significant = sum(f.p_value < 0.05 for f in results)
    assert significant <= 10
    assert sum(f.kind == "capacity_threshold" for f in results) <= significant


@pytest.mark.slow
def test_straight_line_shows_a_break_at_its_nominal_alpha_over_500_seeds():
    """The 100-seed test above catches a method at twice alpha only 30 % of the time.
    500 seeds, at most 38 significant: a correct 5 % method exceeds that with probability
    under 0.005, one at 10 % is caught with probability 0.96 (tests/calibration.py).
    Measured: 20 of 500 (4 %), 8 s."""
    bound = null_bound(500, 0.05)
    assert bound == 38 and power_at_double(500, 0.05, bound) > 0.95
    results = [capacity_threshold(linear_frame(seed=s), seed=s) for s in range(500)]
    significant = sum(f.p_value < 0.05 for f in results)
    print(f"\nstraight line: {significant} of 500 significant")
    assert significant <= bound


def test_no_break_is_a_no_finding_with_the_numbers():
    results = (capacity_threshold(linear_frame(seed=s), seed=s) for s in range(10))
    quiet = next(f for f in results if f.evidence["reason"] == "not_significant")
    assert quiet.kind == "no_finding" and quiet.severity == "info"
    assert quiet.p_value >= 0.05
    assert "no significant break" in quiet.statement


def test_saturating_curve_is_not_called_a_capacity_threshold():
    rng = np.random.default_rng(3)
    u = rng.uniform(0.2, 1.1, 800)
    latency = 100 + 400 * np.minimum(u, 0.5) + rng.normal(0, 5, 800)
    f = capacity_threshold(pd.DataFrame({"utilisation": u, "latency_p95_ms": latency}))
    assert f.kind == "no_finding"
    assert f.evidence["reason"] == "saturation"


def test_too_few_points_gives_no_finding():
    f = capacity_threshold(knee_frame(seed=0, n=29))
    assert f.kind == "no_finding"
    assert f.evidence["reason"] == "too_few_points"
    assert "29 usable rows" in f.statement


def test_missing_values_are_dropped_and_counted():
    frame = knee_frame(seed=0, n=40)
    frame.loc[:14, "latency_p95_ms"] = np.nan
    f = capacity_threshold(frame)
    assert f.evidence["reason"] == "too_few_points"
    assert f.evidence["n_dropped"] == 15


def test_no_spread_in_utilisation_gives_no_finding():
    frame = pd.DataFrame({"utilisation": 0.5, "latency_p95_ms": np.linspace(100, 200, 100)})
    f = capacity_threshold(frame)
    assert f.evidence["reason"] == "no_spread"


def test_same_seed_same_answer():
    frame = knee_frame(seed=1, n=600)
    assert capacity_threshold(frame, seed=3) == capacity_threshold(frame, seed=3)


def test_missing_column_names_the_columns():
    with pytest.raises(ValueError, match=r"latency_p95_ms.*not in the table.*pass y="):
        capacity_threshold(pd.DataFrame({"utilisation": [0.1], "p95": [1.0]}))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"frame": [1, 2]}, TypeError, "expects a DataFrame"),
        ({"x": "load"}, ValueError, r"'load' \(the x of capacity_threshold\) is not in the table"),
        ({"y": "utilisation"}, ValueError, "x and y must be different columns"),
        ({"n_boot": 5}, ValueError, "n_boot must be an integer ≥ 19"),
        ({"grid": 10.5}, TypeError, "grid must be an integer"),
        ({"seed": -1}, ValueError, "seed must be an integer ≥ 0"),
        ({"alpha": 0}, ValueError, "alpha must be a number between 0 and 1"),
        ({"y_unit": None}, TypeError, "y_unit must be a string"),
        ({"metric": ""}, ValueError, "metric must be a non-empty string"),
        ({"scope": ["web"]}, TypeError, "scope must be a dict"),
    ],
)
def test_bad_arguments_are_programming_errors_not_data_errors(options, error, message):
    arguments = {"frame": knee_frame(seed=1, n=100)} | options
    with pytest.raises(error, match=message) as raised:
        capacity_threshold(**arguments)
    assert not isinstance(raised.value, DataError)  # a bug fails the step, never "could not run"


def test_text_in_a_column_is_a_type_error():
    frame = knee_frame(seed=1, n=100).astype({"latency_p95_ms": str})
    with pytest.raises(TypeError, match=r"'latency_p95_ms' has dtype .*expected numbers"):
        capacity_threshold(frame)


def test_grid_scan_matches_least_squares_fit():
    rng = np.random.default_rng(0)
    z = np.sort(rng.normal(size=300))
    y = 2 + z + 3 * np.maximum(0, z - 0.4) + rng.normal(0, 0.5, 300)
    knots = np.array([-0.5, 0.0, 0.4, 1.0])
    positions = np.searchsorted(z, knots, side="right")
    weights = rng.integers(0, 3, size=(1, 300)).astype(float)
    gain, c, rss0 = hinge_scan(z, y[None, :], weights, knots, positions)
    sw = np.sqrt(weights[0])
    line = np.linalg.lstsq(np.column_stack([np.ones(300), z]) * sw[:, None], y * sw, rcond=None)
    for k, knot in enumerate(knots):
        design = np.column_stack([np.ones(300), z, np.maximum(0, z - knot)]) * sw[:, None]
        coef, rss1, *_ = np.linalg.lstsq(design, y * sw, rcond=None)
        assert c[0, k] == pytest.approx(coef[2], rel=1e-8)
        assert rss0[0] - gain[0, k] == pytest.approx(rss1[0], rel=1e-8)
    assert rss0[0] == pytest.approx(line[1][0], rel=1e-8)
