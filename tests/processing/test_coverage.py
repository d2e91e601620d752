"""Data coverage: the span a source's records cover; the series missing, not zero, outside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_tables import parquet_table

from csi_helpers.errors import DataError, NoRecordsInCycle
from csi_helpers.processing.coverage import (
    Covered,
    covered_days,
    no_records_error,
    source_coverage,
)
from csi_helpers.processing.series import daily_series, hourly_series

# The cycle 1 April to 30 June 2026 (91 days); the tickets export stops on 22 May.
START, END = pd.Timestamp("2026-04-01", tz="UTC"), pd.Timestamp("2026-07-01", tz="UTC")
LAST = pd.Timestamp("2026-05-22 17:40", tz="UTC")
pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")


@pytest.fixture
def stopped_tickets(tmp_path):
    """Tickets opened 1 April to 22 May, none on 10 April (a quiet day inside the data)."""
    rng = np.random.default_rng(4)
    opened = START + pd.to_timedelta(rng.uniform(0, (LAST - START).total_seconds(), 600), "s")
    opened = opened[(opened < "2026-04-10") | (opened >= "2026-04-11")].append(
        pd.DatetimeIndex([LAST])
    )
    path = tmp_path / "tickets.parquet"
    stamps = opened.astype("datetime64[us, UTC]")
    pd.DataFrame({"opened_at": stamps, "resolved_at": stamps + pd.Timedelta(hours=3)}).to_parquet(
        path
    )
    return opened, path


def test_tickets_after_the_last_record_are_missing_not_zero(stopped_tickets):
    opened, path = stopped_tickets
    daily = daily_series(start=START, end=END, timezone="UTC", tickets=parquet_table(path))
    per_day = daily.set_index("day")["incidents"]
    assert per_day.loc[:"2026-05-22"].notna().all()
    assert per_day.loc["2026-05-23":].isna().all() and len(per_day.loc["2026-05-23":]) == 39
    assert per_day.loc["2026-04-10"] == 0  # a day without tickets inside the data is 0
    assert per_day.sum() == len(opened)
    hourly = hourly_series(start=START, end=END, tickets=parquet_table(path))["incidents"]
    assert hourly.loc[:"2026-05-22 23:00"].notna().all()  # hours of the last day count
    assert hourly.loc["2026-05-23":].isna().all()


def test_coverage_of_a_source_that_stops_early(stopped_tickets):
    opened, path = stopped_tickets
    row = source_coverage(parquet_table(path), kind="tickets", start=START, end=END, timezone="UTC")
    assert row["records"] == len(opened)
    assert row["first"] == opened.min().floor("us") and row["last"] == LAST
    assert row["covered_from"] == START
    assert row["covered_to"] == pd.Timestamp("2026-05-23", tz="UTC")
    assert row["covered_share"] == pytest.approx(52 / 91)  # 1 April to 22 May, by hand
    assert row["continuous"]


def test_coverage_is_judged_on_local_days(stopped_tickets):
    """In Amsterdam (UTC+2 in May), 17:40 UTC on 22 May is still 22 May; the cycle
    starts at 22:00 UTC on 31 March."""
    _opened, path = stopped_tickets
    start = pd.Timestamp("2026-04-01", tz="Europe/Amsterdam").tz_convert("UTC")
    end = pd.Timestamp("2026-07-01", tz="Europe/Amsterdam").tz_convert("UTC")
    row = source_coverage(
        parquet_table(path), kind="tickets", start=start, end=end, timezone="Europe/Amsterdam"
    )
    assert row["covered_from"] == start
    assert row["covered_to"] == pd.Timestamp("2026-05-23", tz="Europe/Amsterdam")


def test_a_sparse_source_covers_the_whole_cycle(tmp_path):
    path = tmp_path / "outages.parquet"
    pd.DataFrame(
        {
            "start": pd.to_datetime(["2026-04-20 10:00", "2026-05-02 08:00"], utc=True),
            "end": pd.to_datetime(["2026-04-20 11:00", "2026-05-02 08:30"], utc=True),
        }
    ).to_parquet(path)
    row = source_coverage(
        parquet_table(path), kind="downtime", start=START, end=END, timezone="UTC"
    )
    assert row["records"] == 2 and not row["continuous"]
    assert (row["covered_from"], row["covered_to"], row["covered_share"]) == (START, END, 1.0)
    daily = daily_series(start=START, end=END, timezone="UTC", downtime=parquet_table(path))
    assert daily["downtime_min"].notna().all() and daily["downtime_min"].sum() == 90.0


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (["2026-04-01", "2026-04-02", "2026-04-03"], ("2026-04-01", "2026-04-03")),
        # three days without records inside: two missing at either end are not an end
        (["2026-04-03", "2026-04-04", "2026-04-08", "2026-04-28"], ("2026-04-01", "2026-04-30")),
        (["2026-04-12", "2026-04-13"], ("2026-04-12", "2026-04-13")),
    ],
)
def test_covered_days_tolerate_gaps_no_longer_than_those_inside(days, expected):
    got = covered_days(
        pd.to_datetime(days),
        first_day=pd.Timestamp("2026-04-01"),
        last_day=pd.Timestamp("2026-04-30"),
        continuous=True,
    )
    assert got == tuple(pd.Timestamp(d) for d in expected)
    assert covered_days([], first_day=START, last_day=END, continuous=True) is None


def test_covered_note_says_where_data_start_and_end():
    amsterdam = "Europe/Amsterdam"
    cycle = (pd.Timestamp("2026-03-31 22:00", tz="UTC"), pd.Timestamp("2026-06-30 22:00", tz="UTC"))
    late = Covered(pd.Timestamp("2026-05-02 22:00", tz="UTC"), cycle[1], *cycle, amsterdam)
    assert late.note() == "data start on 3 May; the cycle starts on 1 April"
    assert late.partial and late.share == pytest.approx(59 / 91)
    assert Covered(*cycle, *cycle, amsterdam).note() == ""


def test_no_records_error_names_source_file_span_and_what_to_do():
    error = no_records_error(
        source="incidents",
        kind="tickets",
        where="exports/incidents.csv",
        cycle=("2026-04-01", "2026-06-30"),
        usable=2721,
        read=2721,
        span=(
            pd.Timestamp("2025-04-01 00:05", tz="UTC"),
            pd.Timestamp("2025-06-30 22:55", tz="UTC"),
        ),
    )
    assert isinstance(error, DataError) and isinstance(error, NoRecordsInCycle)
    message = str(error)
    for part in (
        "source 'incidents'",
        "exports/incidents.csv",
        "2,721 usable rows run from 2025-04-01 00:05 to 2025-06-30 22:55 UTC (opened_at)",
        "cycle.start and cycle.end",
    ):
        assert part in message
    quarantined = no_records_error(
        source="m", kind="monitoring", where="m.csv", cycle=("a", "b"), usable=0, read=5, span=None
    )
    assert "none of its 5 rows is usable" in str(quarantined)
