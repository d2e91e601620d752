"""Planted-anomaly tests for the anomaly detector: known incidents in, known episodes out."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csi_helpers.analysis.anomaly import (
    NULL_FALSE_POINTS_PER_10K,
    THRESHOLD,
    anomaly_episodes,
    anomaly_scores,
    detect_anomalies,
    merge_episodes,
)
from csi_helpers.analysis.findings import Finding
from csi_helpers.demo import generate_demo
from csi_helpers.errors import DataError

REPO = Path(__file__).resolve().parents[2]
NAB = REPO.parent / "shared" / "data" / "real" / "nab_numenta_anomaly_benchmark"
HOURS = 24 * 7 * 6


def hourly(*, seed: int, hours: int = HOURS, noise: float = 2.0, weekend: float = 0.0):
    """Hourly values: level 100, daily cycle of amplitude 20, optional weekend shift, noise."""
    rng = np.random.default_rng(seed)
    i = np.arange(hours)
    values = 100 + 20 * np.sin(2 * np.pi * i / 24) + weekend * ((i // 24) % 7 >= 5)
    values = values + rng.normal(0, noise, hours)
    return pd.Series(values, index=pd.date_range("2026-04-01", periods=hours, freq="h"))


def planted(*, seed: int) -> tuple[pd.Series, dict[str, tuple[int, int]]]:
    """A spike, a 6-hour plateau, a 10-hour dip and a lasting level shift (positions)."""
    series = hourly(seed=seed)
    y = series.to_numpy().copy()
    y[600] += 30
    y[700:706] += 15
    y[800:810] -= 25
    y[900:] += 12
    events = {"spike": (600, 600), "plateau": (700, 705), "dip": (800, 809), "shift": (900, None)}
    return pd.Series(y, index=series.index), events


def positions(series: pd.Series, stamps) -> list[int]:
    return [int(series.index.get_loc(t)) for t in stamps]


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_nab", REPO / "benchmarks" / "bench_nab.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_monitoring(tmp_path_factory) -> pd.DataFrame:
    paths = generate_demo(tmp_path_factory.mktemp("demo"))
    frame = pd.read_csv(paths["monitoring"], parse_dates=["timestamp"])
    return frame.set_index("timestamp")


# --- planted effects ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_spike_plateau_dip_and_shift_are_found_with_their_bounds(seed):
    series, events = planted(seed=seed)
    episodes = anomaly_episodes(series)
    starts = positions(series, episodes["start"])
    ends = positions(series, episodes["end"])
    peaks = positions(series, episodes["peak_at"])
    matched = {}
    for name, (first, last) in events.items():
        hits = [
            k
            for k, (s, e) in enumerate(zip(starts, ends, strict=True))
            if s <= (last or e) and e >= first
        ]
        assert len(hits) == 1, f"{name}: {len(hits)} episodes overlap it"
        matched[name] = hits[0]
    spike, plateau, dip, shift = (matched[k] for k in ("spike", "plateau", "dip", "shift"))
    assert (starts[spike], ends[spike], peaks[spike]) == (600, 600, 600)
    assert abs(starts[plateau] - 700) <= 1 and abs(ends[plateau] - 705) <= 2
    assert abs(starts[dip] - 800) <= 1 and abs(ends[dip] - 809) <= 2
    assert 800 <= peaks[dip] <= 809 and episodes["peak_value"].iloc[dip] < 80
    assert abs(starts[shift] - 900) <= 2
    # the lasting shift is accepted as the new level within about two days
    assert ends[shift] < 950
    assert episodes["score"].iloc[spike] > 8
    # at most two noise episodes besides (k = 3.5 gives ~5 per 10,000 points; 1,000 here)
    assert len(episodes) <= len(events) + 2
    assert list(episodes.columns) == [
        "start",
        "end",
        "peak_at",
        "peak_value",
        "expected",
        "score",
        "n_points",
    ]


def test_the_spike_peak_and_expected_value_are_right():
    series, _ = planted(seed=4)
    episodes = anomaly_episodes(series)
    row = episodes.loc[episodes["peak_at"] == series.index[600]].iloc[0]
    clean = hourly(seed=4).iloc[600]
    assert row["peak_value"] == pytest.approx(clean + 30)
    # expected is the forecast without the spike: within a few noise sd of the clean value
    assert abs(row["expected"] - clean) < 6
    assert row["n_points"] == 1


def test_close_anomalous_points_merge_into_one_episode():
    series = hourly(seed=5)
    y = series.to_numpy().copy()
    y[500] += 40
    y[502] += 50  # two hours later: within the default gap (2 steps of 1 h)
    y[620] += 60
    y[626] += 80  # six hours later: a separate episode
    episodes = anomaly_episodes(pd.Series(y, index=series.index))
    spans = list(
        zip(positions(series, episodes["start"]), positions(series, episodes["end"]), strict=True)
    )
    assert (500, 502) in spans
    assert (620, 620) in spans and (626, 626) in spans
    merged = anomaly_episodes(pd.Series(y, index=series.index), merge_gap="8h")
    spans = list(
        zip(positions(series, merged["start"]), positions(series, merged["end"]), strict=True)
    )
    assert (620, 626) in spans
    assert merged.attrs["merge_gap"] == "0 days 08:00:00"


def test_merge_episodes_counts_points_and_takes_the_highest_point_score():
    t = pd.date_range("2026-05-08", periods=8, freq="h")
    frame = pd.DataFrame(
        {
            "value": [1.0, 9, 7, 1, 1, 1, 8, 1],
            "expected": 1.0,
            "point_score": [0.0, 8, 9, 0, 0, 0, 7, 0],
            "score": [0.0, 12, 9, 0, 0, 0, 7, 0],
            "anomalous": [False, True, True, False, False, False, True, False],
        },
        index=t,
    )
    episodes = merge_episodes(frame, merge_gap="2h")
    assert episodes["n_points"].tolist() == [2, 1]
    assert episodes["peak_at"].iloc[0] == t[2]  # the larger point score
    assert episodes["score"].iloc[0] == 12  # the episode's highest score
    assert merge_episodes(frame.assign(anomalous=False), merge_gap="1h").empty


def test_a_burst_no_larger_than_one_in_the_last_two_days_is_not_raised_again():
    # Bursts every 30 hours (no season), each a little smaller than the one before:
    # only the first is news, the rest are the metric's habit. A larger one is news.
    rng = np.random.default_rng(13)
    t = pd.date_range("2026-04-01", periods=24 * 21, freq="h")
    y = 50 + rng.normal(0, 1, len(t))
    for k, at in enumerate(range(100, 400, 30)):
        y[at] += 40 - 3 * k
    y[430] += 45
    episodes = anomaly_episodes(pd.Series(y, index=t), period=1)
    assert episodes["start"].tolist() == [t[100], t[430]]


def test_weekly_pattern_is_learned_and_weekends_are_not_anomalies():
    series = hourly(seed=6, hours=24 * 7 * 8, weekend=10.0)  # weekend +5 noise sd
    scores = anomaly_scores(series)
    assert scores.attrs["period"] == 168
    assert len(anomaly_episodes(series)) <= 2


def test_seasonal_noise_false_alarm_rate_is_within_the_documented_rate():
    # 100 seeds x 8 weeks of hourly Gaussian noise with a daily cycle, ~132,000 scored
    # points. The module documents ~5.9 false points per 10,000 at the default threshold
    # (Gaussian tail 4.7); false points come in episodes of ~1.2, so the count is near
    # Poisson(~78), sd ~9. The bound of 1.5 x the documented rate (~117 points) sits
    # more than 4 sd above the expectation: it fails only if calibration really broke.
    flagged = scored = episodes = 0
    for seed in range(100):
        scores = anomaly_scores(hourly(seed=1000 + seed, hours=24 * 7 * 8, noise=1.0))
        flagged += int(scores["anomalous"].sum())
        scored += int(scores["scale"].notna().sum())
        episodes += len(merge_episodes(scores, merge_gap="2h"))
    rate = 1e4 * flagged / scored
    assert rate <= 1.5 * NULL_FALSE_POINTS_PER_10K
    assert 1e4 * episodes / scored <= 1.5 * NULL_FALSE_POINTS_PER_10K
    assert rate > 0.3 * NULL_FALSE_POINTS_PER_10K  # not silently deaf either


def test_a_high_threshold_raises_nothing_on_noise():
    # Gaussian tail at z > 5 is 0.006 per 10,000: on 20 x 1,344 points, expected 0.02.
    total = sum(
        len(anomaly_episodes(hourly(seed=2000 + s, hours=24 * 7 * 8), threshold=5.0))
        for s in range(20)
    )
    assert total == 0


# --- awkward data -------------------------------------------------------------------------


def test_too_short_series_gives_a_too_short_no_finding():
    series = hourly(seed=7, hours=30)
    [f] = detect_anomalies(series, metric="latency", unit="ms")
    assert (f.kind, f.evidence["reason"]) == ("no_finding", "too_short")
    assert "30 values, need ≥ 48" in f.statement
    episodes = anomaly_episodes(series)
    assert episodes.empty and episodes.attrs["reason"] == "too_short"


def test_constant_series_gives_a_constant_no_finding():
    series = pd.Series(5.0, index=pd.date_range("2026-04-01", periods=500, freq="h"))
    [f] = detect_anomalies(series, metric="queue length", unit="jobs")
    assert f.evidence["reason"] == "constant"
    assert f.statement == "queue length: series is constant at 5"


def test_mostly_missing_series_gives_a_too_many_missing_no_finding():
    series = hourly(seed=8)
    holes = (np.arange(len(series)) // 24) % 5 != 0  # one day in five was collected
    [f] = detect_anomalies(series.where(~holes), metric="cpu", unit="%")
    assert f.evidence["reason"] == "too_many_missing"
    assert "missing" in f.statement and "75%" in f.statement
    sparse = series.iloc[::5]  # every fifth hour: a regular 5-hour series, not missing
    assert detect_anomalies(sparse, metric="cpu", unit="%")[0].evidence["reason"] != (
        "too_many_missing"
    )


def test_gaps_and_scattered_nan_do_not_crash_and_a_spike_is_still_found():
    series, _ = planted(seed=9)
    y = series.copy()
    y.iloc[300:372] = np.nan  # a three-day outage of the monitoring itself
    y[np.random.default_rng(9).random(len(y)) < 0.1] = np.nan
    y.iloc[600] = series.iloc[600]  # keep the spike
    dropped = y.dropna()  # the gap as missing timestamps rather than NaN
    for data in (y, dropped):
        episodes = anomaly_episodes(data)
        starts = episodes["start"].tolist()
        assert series.index[600] in starts
        # nothing is flagged at the edges of the gap
        assert not any(series.index[296] <= t <= series.index[380] for t in starts)
    assert anomaly_scores(dropped).attrs["n_grid"] == len(series)


def test_repeated_timestamps_around_a_clock_change_are_averaged():
    t = pd.date_range("2026-03-20", periods=288 * 14, freq="5min")
    rng = np.random.default_rng(10)
    values = 40 + 5 * np.sin(2 * np.pi * np.arange(len(t)) / 288) + rng.normal(0, 1, len(t))
    values[3000] += 25
    # the clock steps back an hour: twelve stamps repeat (as in NAB's DST files)
    index = t.append(t[1500:1512]).sort_values()
    repeated = np.r_[values, values[1500:1512]][np.argsort(t.append(t[1500:1512]), kind="stable")]
    series = pd.Series(repeated, index=index)
    [f, *_] = detect_anomalies(series, metric="cpu", unit="%")
    assert f.kind == "anomaly"
    assert f.evidence["n_duplicates"] == 12
    assert f.evidence["peak_at"] == t[3000].isoformat()
    shuffled = series.sample(frac=1, random_state=1)  # unsorted input
    assert detect_anomalies(shuffled, metric="cpu", unit="%")[0] == f


def test_irregular_timestamps_snap_to_the_median_step():
    series = hourly(seed=11)
    jitter = pd.to_timedelta(np.random.default_rng(11).integers(-5, 6, len(series)), unit="min")
    moved = pd.Series(series.to_numpy(), index=series.index + jitter)
    scores = anomaly_scores(moved)
    assert scores.attrs["step"] == "0 days 01:00:00"
    assert len(scores) == pytest.approx(len(series), abs=1)


def test_text_values_are_coerced_and_counted():
    series = hourly(seed=12).astype(object)
    series.iloc[10] = "n/a"
    scores = anomaly_scores(series)
    assert scores.attrs["n_missing_values"] == 1
    assert np.isnan(scores["value"].iloc[10])


# --- findings -------------------------------------------------------------------------------


def test_findings_carry_the_episode_in_numbers_sorted_by_score():
    series, _ = planted(seed=1)
    series.index = series.index.tz_localize("UTC")
    scope = {"service": "shopfront"}
    findings = detect_anomalies(series, metric="p95 latency", unit="ms", scope=scope)
    episodes = anomaly_episodes(series)
    assert len(findings) == len(episodes)
    assert [f.evidence["score"] for f in findings] == sorted(episodes["score"], reverse=True)
    for rank, f in enumerate(findings, start=1):
        assert f.kind == "anomaly" and f.is_finding
        assert f.id == f"anomaly:p95 latency@service=shopfront#{f.evidence['start']}"
        assert f.effect == pytest.approx(f.evidence["peak_value"] - f.evidence["expected"])
        assert f.ci_low < f.effect < f.ci_high
        assert f.p_value is None and f.unit == "ms"
        assert f.severity in ("high", "medium")
        assert f.evidence["rank"] == rank and f.evidence["n_episodes"] == len(episodes)
        assert {"start", "end", "peak_at", "score", "n_points"} <= set(f.evidence)
        assert Finding.from_dict(json.loads(json.dumps(f.to_dict()))) == f
    spike = next(f for f in findings if f.evidence["start"] == series.index[600].isoformat())
    assert spike.statement.startswith(
        "p95 latency was anomalous at 2026-04-26 00:00 UTC, peaking at "
    )
    assert "ms against an expected" in spike.statement and "(score " in spike.statement
    dip = next(f for f in findings if f.evidence["direction"] == "below")
    assert "from 2026-05-04 08:00 to 17:00 UTC, falling to" in dip.statement
    assert findings[0].method.startswith("robust_seasonal_anomaly(period=")
    assert "threshold=3.5" in findings[0].method


def test_max_findings_caps_the_list_and_the_first_says_how_many():
    series, _ = planted(seed=2)
    findings = detect_anomalies(series, metric="m", unit="u", max_findings=2)
    assert len(findings) == 2
    assert findings[0].evidence["n_episodes"] >= 4
    assert findings[0].evidence["score"] >= findings[1].evidence["score"]


def test_clean_series_gives_a_single_no_anomalies_no_finding():
    [f] = detect_anomalies(hourly(seed=1000), metric="requests", unit="req")
    assert f.kind == "no_finding" and f.evidence["reason"] == "no_anomalies"
    assert f.id == "anomaly:requests"
    assert "robust z-score of 3.5" in f.statement


def test_the_same_input_gives_the_same_answer_and_is_not_modified():
    series, _ = planted(seed=3)
    original = series.copy()
    first = detect_anomalies(series, metric="m", unit="u")
    assert detect_anomalies(series, metric="m", unit="u") == first
    pd.testing.assert_series_equal(series, original)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"series": pd.DataFrame({"x": [1.0]})}, TypeError, "expects a pandas Series"),
        ({"series": pd.Series([1.0, 2.0])}, TypeError, "DatetimeIndex"),
        (
            {
                "series": pd.Series(
                    pd.date_range("2026-01-01", periods=3),
                    index=pd.date_range("2026-01-01", periods=3),
                )
            },
            TypeError,
            "expected numbers",
        ),
        ({"period": 0}, ValueError, "period must be"),
        ({"period": 2.5}, TypeError, "period must be"),
        ({"period": True}, TypeError, "period must be"),
        ({"threshold": 0}, ValueError, "threshold must be a positive number"),
        ({"threshold": "high"}, TypeError, "threshold must be a positive number"),
        ({"merge_gap": "soon"}, ValueError, "merge_gap must be a duration"),
        ({"merge_gap": "-1h"}, ValueError, "merge_gap must be a duration"),
        ({"merge_gap": object()}, TypeError, "merge_gap must be a duration"),
        ({"max_findings": 0}, ValueError, "max_findings must be an integer"),
        ({"metric": " "}, ValueError, "metric must be a non-empty string"),
        ({"unit": None}, TypeError, "unit must be a string"),
        ({"scope": "shopfront"}, TypeError, "scope must be a dict"),
    ],
)
def test_bad_arguments_are_programming_errors_not_data_errors(kwargs, error, message):
    arguments = {"series": hourly(seed=0, hours=100), "metric": "m", "unit": "u", **kwargs}
    with pytest.raises(error, match=message) as raised:
        detect_anomalies(**arguments)
    assert not isinstance(raised.value, DataError)  # a bug fails the step, never "could not run"


@pytest.mark.parametrize("function", [anomaly_scores, anomaly_episodes])
def test_the_frame_functions_check_their_options_alike(function):
    with pytest.raises(ValueError, match="threshold must be a positive number"):
        function(hourly(seed=0, hours=100), threshold=-1.0)
    with pytest.raises(TypeError, match="expects a pandas Series"):
        function([1.0, 2.0])


# --- demo data ------------------------------------------------------------------------------


def test_demo_latency_anomalies_are_the_planted_overload_evenings(demo_monitoring):
    latency = demo_monitoring["latency_p95_ms"]
    utilisation = demo_monitoring["utilisation"]
    episodes = anomaly_episodes(latency)
    strong = episodes[episodes["score"] >= 5]
    # latency rises only above utilisation 0.75 (planted): every strong episode peaks there
    assert len(strong) >= 5
    assert (utilisation.reindex(strong["peak_at"]).to_numpy() > 0.75).all()
    assert (strong["peak_at"] < pd.Timestamp("2026-07-01", tz="UTC")).all()  # cycle 1 only
    overloaded = utilisation.index[utilisation > 0.75]  # 33 planted hours
    covered = sum(((episodes["start"] <= t) & (episodes["end"] >= t)).any() for t in overloaded)
    assert covered >= 0.8 * len(overloaded)
    # noise episodes stay near the calibration (~5 per 10,000 of 4,392 hours)
    assert len(episodes) - len(strong) <= 4


# --- NAB: the real-data acceptance check ------------------------------------------------------


@pytest.mark.slow
def test_nab_more_windows_and_fewer_false_alarms_than_rolling_three_sigma():
    if not (NAB / "data").is_dir():
        pytest.skip(f"NAB data not found at {NAB} (../shared/data/real is absent)")
    bench = load_bench()
    table = bench.run_benchmark(root=NAB)
    total = table.sum(numeric_only=True)
    print("\n" + bench._table(table, threshold=THRESHOLD, sigmas=3.0))
    assert total["windows"] == 49
    # more windows found AND fewer false-alarm episodes, with a margin on both
    assert total["ours_found"] >= total["base_found"] + 2
    assert total["ours_false"] <= 0.6 * total["base_false"]
    # ... and not by flagging more of the time than the baseline does
    assert table["ours_flagged"].mean() <= 1.25 * table["base_flagged"].mean()
