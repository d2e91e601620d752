"""Performance KPIs on small monitoring tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csi_helpers.kpis.performance import (
    DEFINITIONS,
    error_rate,
    hours_above_utilisation,
    latency_p50,
    latency_p95,
    latency_p95_of_interval_p95,
    latency_p99,
    mean_utilisation,
    peak_utilisation,
    utilisation_p99,
)

DAY = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": pd.Timestamp("2026-01-02", tz="UTC")}
BY_ID = {d.id: d for d in DEFINITIONS}


def hourly(**columns: list[float | None]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    data = {k: pd.array(v, dtype="Float64") for k, v in columns.items()}
    return pd.DataFrame(
        {"timestamp": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"), **data}
    )


def test_latency_percentiles_match_numpy() -> None:
    rng = np.random.default_rng(7)
    values = rng.gamma(2.0, 80.0, size=23).round(1)
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=26, freq="h", tz="UTC"),
            "latency_ms": pd.array(
                [*values[:20], None, *values[20:], 9999.0, 9999.0], dtype="Float64"
            ),
        }
    )  # 24 hours in the day (one sample missing); the last two fall on the next day
    in_day = m["latency_ms"].iloc[:24].dropna().to_numpy(dtype=float)
    for fn, q in ((latency_p50, 50), (latency_p95, 95), (latency_p99, 99)):
        r = fn(m, **DAY)
        assert r.value == pytest.approx(np.percentile(in_day, q))
        assert (r.n, r.excluded) == (23, 1)


def test_latency_p95_is_the_p95_of_all_samples_by_hand() -> None:
    # 20 samples: 19 at 100 ms, 1 at 500 ms. Rank 0.95 x 19 = 18.05 lies between the
    # 19th (100) and 20th (500) sorted values: 100 + 0.05 x 400 = 120 ms.
    m = hourly(latency_ms=[100.0] * 19 + [500.0], latency_p95_ms=[100.0] * 20)
    assert latency_p95(m, **DAY).value == pytest.approx(120.0)
    assert BY_ID["latency_p95"].needed_fields({}) == ("timestamp", "latency_ms")
    assert BY_ID["latency_p95"].revision == 2
    no_samples = hourly(latency_ms=[None] * 20, latency_p95_ms=[100.0] * 20)
    assert latency_p95(no_samples, **DAY).value is None


def test_latency_p95_of_interval_p95_reads_the_hourly_p95s_by_hand() -> None:
    # 21 hourly p95s: 19 at 100 ms, 2 at 500 ms. Rank 0.95 x 20 = 19 is the 20th
    # sorted value, 500 ms; with 1 slow hour of 21 it is 100 ms: one slow hour in
    # twenty does not show, whatever its latency.
    m = hourly(latency_ms=[None] * 21, latency_p95_ms=[100.0] * 19 + [500.0] * 2)
    r = latency_p95_of_interval_p95(m, **DAY)
    assert (r.value, r.n, r.details["max_interval_p95_ms"]) == (500.0, 21, 500.0)
    one_slow = hourly(latency_p95_ms=[100.0] * 20 + [900.0])
    assert latency_p95_of_interval_p95(one_slow, **DAY).value == 100.0
    d = BY_ID["latency_p95_of_interval_p95"]
    assert d.needed_fields({}) == ("timestamp", "latency_p95_ms")
    assert "hourly p95" in d.name
    assert BY_ID["latency_p99"].needed_fields({}) == ("timestamp", "latency_ms")
    assert BY_ID["latency_p50"].needed_fields({"column": "latency_p95_ms"}) == (
        "timestamp",
        "latency_p95_ms",
    )


def test_error_rate_is_request_weighted() -> None:
    m = hourly(error_rate=[0.10, 0.0, 0.5], requests=[100.0, 300.0, None])
    r = error_rate(m, **DAY)
    assert r.value == pytest.approx(2.5)  # 10 failed of 400, not the mean 5 %
    assert (r.n, r.excluded) == (2, 1)
    assert "request-weighted" in r.note


def test_error_rate_falls_back_to_the_mean_without_request_counts() -> None:
    m = hourly(error_rate=[0.10, 0.0, None])
    r = error_rate(m, **DAY)
    assert r.value == pytest.approx(5.0)
    assert (r.n, r.excluded) == (2, 1)
    assert "mean" in r.note
    assert error_rate(hourly(error_rate=[None, None]), **DAY).value is None


def test_utilisation_kpis() -> None:
    m = hourly(utilisation=[0.5, 0.75, 0.8, 1.2, None])
    assert mean_utilisation(m, **DAY).value == pytest.approx(81.25)
    assert peak_utilisation(m, **DAY).value == pytest.approx(120.0)  # the busiest hour
    r = hours_above_utilisation(m, **DAY)
    assert (r.value, r.n, r.excluded, r.details["share_pct"]) == (2.0, 4, 1, 50.0)
    assert hours_above_utilisation(m, **DAY, threshold=0.9).value == 1.0


def test_peak_utilisation_is_the_busiest_hour_and_p99_its_own_kpi_by_hand() -> None:
    # 24 hours at 50 % and one at 107.6 % (capacity exceeded for an hour). The max is
    # 107.6; the 99th percentile is at rank 0.99 x 24 = 23.76, between 50 and 107.6:
    # 50 + 0.76 x 57.6 = 93.776.
    m = hourly(utilisation=[0.5] * 12 + [1.076] + [0.5] * 12)
    m["timestamp"] = pd.date_range("2026-01-01", periods=25, freq="h", tz="UTC")
    day_and_hour = {"start": DAY["start"], "end": DAY["start"] + pd.Timedelta(hours=25)}
    peak = peak_utilisation(m, **day_and_hour)
    assert peak.value == pytest.approx(107.6)
    assert peak.details["at"] == "2026-01-01 12:00"
    assert utilisation_p99(m, **day_and_hour).value == pytest.approx(93.776)
    assert BY_ID["peak_utilisation"].revision == 2
    assert BY_ID["utilisation_p99"].name == "99th percentile of hourly utilisation"


def test_empty_and_all_na_inputs_do_not_crash() -> None:
    empty = pd.DataFrame(
        {
            c: pd.Series([], dtype="Float64")
            for c in ("latency_ms", "latency_p95_ms", "error_rate", "requests", "utilisation")
        }
    )
    empty["timestamp"] = pd.Series([], dtype="datetime64[us, UTC]")
    na = hourly(
        latency_ms=[None] * 3,
        latency_p95_ms=[None] * 3,
        error_rate=[None] * 3,
        requests=[None] * 3,
        utilisation=[None] * 3,
    )
    for table in (empty, na):
        for definition in DEFINITIONS:
            assert definition(table, **DAY).value is None


def test_caller_frame_is_not_mutated() -> None:
    m = hourly(
        error_rate=[0.10, 0.0],
        requests=[100.0, 300.0],
        utilisation=[0.5, 0.9],
        latency_ms=[10.0, 20.0],
        latency_p95_ms=[30.0, 40.0],
    )
    before = m.copy()
    for definition in DEFINITIONS:
        definition(m, **DAY)
    pd.testing.assert_frame_equal(m, before)


def test_options_through_the_definition() -> None:
    d = BY_ID["hours_above_utilisation"]
    assert d.validate_options({"threshold": "0.9"}) == {"threshold": 0.9}
    with pytest.raises(ValueError, match="did you mean 'threshold'"):
        d.validate_options({"treshold": 0.9})
    with pytest.raises(ValueError, match="option column"):
        BY_ID["latency_p50"].validate_options({"column": "latency"})
    with pytest.raises(ValueError, match="has no option 'column'"):
        BY_ID["latency_p95"].validate_options({"column": "latency_p95_ms"})
    for definition in DEFINITIONS:
        assert "Formula:" in definition.formula


def test_error_rate_notes_details_and_zero_requests_by_hand() -> None:
    """Weighted with nothing left out: the note says only how; requests summing to 0 give
    nothing to weight by, so the mean of the rates is used; with two rates missing of
    five, 2 are left out (5 - 3, not 5 // 3)."""
    m = hourly(error_rate=[0.10, 0.0], requests=[100.0, 300.0])
    r = error_rate(m, **DAY)
    assert r.note == "request-weighted: failed requests / requests"
    assert r.details == {"weighting": "requests", "requests": 400.0, "failed": 10.0}
    idle = error_rate(hourly(error_rate=[0.10, 0.30], requests=[0.0, 0.0]), **DAY)
    assert idle.value == pytest.approx(20.0) and idle.note.startswith("mean of sample error rates")
    one = error_rate(hourly(error_rate=[0.10, 0.30], requests=[0.25, 0.75]), **DAY)
    assert one.value == pytest.approx(25.0)  # a single request in all is still a weight
    gappy = error_rate(hourly(error_rate=[0.1, None, 0.2, None, 0.3]), **DAY)
    assert (gappy.n, gappy.excluded) == (3, 2)
    assert gappy.note.endswith("2 sample(s) without error_rate are left out")


def test_hours_above_utilisation_share_is_not_rounded_and_failed_requests_are_frozen() -> None:
    import dataclasses

    from csi_helpers.kpis.performance import failed_requests

    r = hours_above_utilisation(hourly(utilisation=[0.95, 0.5, 0.5]), **DAY, threshold=0.9)
    assert r.details["share_pct"] == pytest.approx(100 / 3)
    counts = failed_requests(hourly(error_rate=[0.5], requests=[10.0]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        counts.failed = 0.0  # type: ignore[misc, union-attr]
