"""KPI series aggregated with DuckDB (through ibis), checked against pandas on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_tables import parquet_table

from csi_helpers.processing.series import monitoring_series, ticket_series

START, END = pd.Timestamp("2026-01-05", tz="UTC"), pd.Timestamp("2026-01-19", tz="UTC")
# ibis 12 calls a method DuckDB 2.0 deprecates; a third-party warning, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")


@pytest.fixture
def tickets(tmp_path):
    rng = np.random.default_rng(3)
    opened = START + pd.to_timedelta(rng.uniform(0, 13 * 24, 400), unit="h")
    hours = rng.lognormal(2, 1, 400)
    frame = pd.DataFrame(
        {
            "opened_at": opened.astype("datetime64[us, UTC]"),
            "resolved_at": (opened + pd.to_timedelta(hours, unit="h")).astype(
                "datetime64[us, UTC]"
            ),
            "priority": rng.choice(["P1", "P2", None], 400),
            "category": rng.choice(["net", "db"], 400),
        }
    )
    path = tmp_path / "tickets.parquet"
    frame.to_parquet(path)
    return frame, path


def test_weekly_ticket_counts_by_priority_match_pandas(tickets):
    frame, path = tickets
    got = ticket_series(
        parquet_table(path), start=START, end=END, timezone="UTC", grain="week", by=("priority",)
    )
    expected = (
        frame.assign(
            period=frame["opened_at"].dt.tz_localize(None).dt.to_period("W").dt.start_time,
            priority=frame["priority"].fillna("(none)"),
        )
        .groupby(["period", "priority"])
        .size()
    )
    got_opened = got.set_index(["period", "priority"])["opened"]
    assert got_opened[got_opened > 0].sort_index().to_dict() == expected.to_dict()
    assert got["opened"].sum() == 400  # no ticket drops out, missing priority included


def test_daily_resolution_percentiles_match_numpy(tickets):
    frame, path = tickets
    got = ticket_series(parquet_table(path), start=START, end=END, timezone="UTC", grain="day")
    resolved = frame[frame["resolved_at"] < END]
    day = resolved["resolved_at"].dt.floor("D").dt.tz_localize(None)
    hours = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    first = day.min()
    mine = got.set_index("period").loc[first]
    assert mine["resolved"] == (day == first).sum()
    assert mine["p90_hours_to_resolve"] == pytest.approx(np.quantile(hours[day == first], 0.9))


def test_hourly_monitoring_series_in_the_service_time_zone(tmp_path):
    stamps = pd.date_range("2026-01-05 22:00", periods=4, freq="30min", tz="UTC")
    path = tmp_path / "m.parquet"
    pd.DataFrame(
        {
            "timestamp": stamps.astype("datetime64[us, UTC]"),
            "requests": [10.0, 30, 20, 20],
            "latency_p95_ms": [100.0, 200, 300, 400],
            "utilisation": [0.1, 0.2, 0.3, 0.4],
            "capacity": [100.0, 100, 100, 120],
            "error_rate": [0.0, 0.1, 0.0, 0.0],
            "service": ["a"] * 4,
        }
    ).to_parquet(path)
    got = monitoring_series(
        parquet_table(path), start=START, end=END, timezone="Europe/Amsterdam", grain="hour"
    )
    assert got["period"].dt.hour.tolist() == [23, 0]  # 22:00 UTC is 23:00 in Amsterdam
    assert got["requests"].tolist() == [40.0, 40.0]
    assert got.loc[0, "error_rate"] == pytest.approx(3 / 40)  # request-weighted
    with pytest.raises(ValueError, match="grain must be one of hour, day, week"):
        monitoring_series(parquet_table(path), start=START, end=END, timezone="UTC", grain="month")


def test_daily_series_uses_the_same_definitions_as_the_grouped_series(tmp_path, tickets):
    from csi_helpers.processing.series import daily_series

    _frame, tickets_path = tickets
    stamps = pd.date_range(START, periods=48, freq="h", tz="UTC")
    monitoring = tmp_path / "m.parquet"
    pd.DataFrame(
        {
            "timestamp": stamps.astype("datetime64[us, UTC]"),
            "requests": [10.0, 30.0] * 24,
            "latency_p95_ms": [100.0] * 48,
            "utilisation": [0.5] * 48,
            "capacity": [80.0] * 48,
            "error_rate": [0.0, 0.1] * 24,
            "service": ["a"] * 48,
        }
    ).to_parquet(monitoring)
    daily = daily_series(
        start=START,
        end=END,
        timezone="UTC",
        monitoring=parquet_table(monitoring),
        tickets=parquet_table(tickets_path),
    )
    assert len(daily) == 14 and daily["day"].iloc[0] == pd.Timestamp("2026-01-05")
    assert daily.loc[0, "error_rate"] == pytest.approx(
        3 / 40
    )  # request-weighted, as monitoring_series
    assert daily.loc[0, "requests"] == 480.0
    assert daily["incidents"].sum() == 400  # every ticket opened in the window, one definition
    assert daily.loc[2:, "requests"].isna().all()  # no samples: missing, not zero


def test_hourly_series_is_utc_and_splits_outages_over_hours(tmp_path, tickets):
    from csi_helpers.processing.series import daily_series, hourly_series

    _frame, tickets_path = tickets
    outages = tmp_path / "o.parquet"
    pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-01-05 20:30", "2026-01-06 23:50"], utc=True),
            "end": pd.to_datetime(["2026-01-05 22:00", "2026-01-07 00:20"], utc=True),
        }
    ).to_parquet(outages)
    hourly = hourly_series(
        start=START, end=END, tickets=parquet_table(tickets_path), downtime=parquet_table(outages)
    )
    assert str(hourly.index.tz) == "UTC" and hourly.index.is_unique
    assert len(hourly) == 14 * 24  # every hour of the window, outage or not
    minutes = hourly["downtime_min"]
    assert minutes[minutes > 0].to_dict() == {
        pd.Timestamp("2026-01-05 20:00", tz="UTC"): 30.0,
        pd.Timestamp("2026-01-05 21:00", tz="UTC"): 60.0,
        pd.Timestamp("2026-01-06 23:00", tz="UTC"): 10.0,
        pd.Timestamp("2026-01-07 00:00", tz="UTC"): 20.0,
    }
    assert hourly["incidents"].sum() == 400  # the same tickets as the daily series
    daily = daily_series(start=START, end=END, timezone="UTC", downtime=parquet_table(outages))
    assert daily.set_index("day")["downtime_min"].loc["2026-01-06":"2026-01-07"].tolist() == [
        10.0,
        20.0,
    ]  # an outage over midnight counts on both days


@pytest.fixture
def spring_monitoring(tmp_path):
    """Samples of two services around the spring clock change in Amsterdam (29 March)."""
    rng = np.random.default_rng(8)
    n = 600
    stamps = pd.Timestamp("2026-03-27", tz="UTC") + pd.to_timedelta(
        rng.uniform(0, 4 * 86400, n), unit="s"
    )
    frame = pd.DataFrame(
        {
            "timestamp": stamps.astype("datetime64[us, UTC]"),
            "service": rng.choice(["web", "api"], n),
            "requests": rng.poisson(30, n).astype(float),
            "latency_p95_ms": rng.gamma(2, 100, n),
            "utilisation": rng.uniform(0, 1, n),
            "capacity": rng.uniform(90, 110, n),
            "error_rate": rng.uniform(0, 0.05, n),
        }
    )
    path = tmp_path / "m.parquet"
    frame.to_parquet(path)
    return frame, path


def test_daily_monitoring_by_service_over_the_clock_change_matches_pandas(spring_monitoring):
    frame, path = spring_monitoring
    start, end = pd.Timestamp("2026-03-27", tz="UTC"), pd.Timestamp("2026-03-31", tz="UTC")
    got = monitoring_series(
        parquet_table(path),
        start=start,
        end=end,
        timezone="Europe/Amsterdam",
        grain="day",
        by_service=True,
    )
    local = frame["timestamp"].dt.tz_convert("Europe/Amsterdam").dt.tz_localize(None)
    rows = frame[(frame["timestamp"] >= start) & (frame["timestamp"] < end)].assign(
        period=local.dt.floor("D"), errors=frame["error_rate"] * frame["requests"]
    )
    grouped = rows.groupby(["period", "service"])
    expected = pd.DataFrame(
        {
            "requests": grouped["requests"].sum(),
            "latency_p95_ms": grouped["latency_p95_ms"].quantile(0.95),  # linear, as numpy
            "peak_utilisation": grouped["utilisation"].max(),
            "capacity": grouped["capacity"].max(),
            "error_rate": grouped["errors"].sum() / grouped["requests"].sum(),
            "samples": grouped.size(),
        }
    )
    mine = got.set_index(["period", "service"])
    assert mine.index.tolist() == expected.index.tolist()  # 31 March 00:00-02:00 local included
    pd.testing.assert_frame_equal(mine, expected, check_names=False, rtol=1e-12)
    short_day = mine.loc[(pd.Timestamp("2026-03-29"), "web"), "samples"]
    assert short_day == ((local.dt.floor("D") == "2026-03-29") & (frame["service"] == "web")).sum()


def test_weekday_hour_profile_uses_local_weekdays_and_hours(spring_monitoring):
    from csi_helpers.processing.series import weekday_hour_profile

    frame, path = spring_monitoring
    start, end = pd.Timestamp("2026-03-27", tz="UTC"), pd.Timestamp("2026-03-31", tz="UTC")
    got = weekday_hour_profile(
        parquet_table(path), start=start, end=end, timezone="America/New_York"
    )
    local = frame["timestamp"].dt.tz_convert("America/New_York")
    expected = (
        frame.assign(weekday=local.dt.day_of_week, hour=local.dt.hour)
        .groupby(["weekday", "hour"])
        .agg(
            requests=("requests", "mean"),
            latency_p95_ms=("latency_p95_ms", "mean"),
            utilisation=("utilisation", "mean"),
            samples=("requests", "size"),
        )
        .reset_index()
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    # the first sample, 00:00 UTC on Friday 27 March, is 20:00 on Thursday in New York
    assert got.loc[got["weekday"] == 3, "hour"].tolist() == [20, 21, 22, 23]
