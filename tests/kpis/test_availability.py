"""Availability and reliability KPIs on small outage tables."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.kpis.availability import (
    DEFINITIONS,
    availability,
    availability_from_samples,
    downtime_minutes,
    merged_outages,
    mtbf,
    mtbsi,
    mtrs,
)
from csi_helpers.kpis.clock import ServiceCalendar

DAY = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": pd.Timestamp("2026-01-02", tz="UTC")}
BY_ID = {d.id: d for d in DEFINITIONS}


def outages(*spans: tuple[str | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outage_id": [f"O{i}" for i in range(len(spans))],
            "start": pd.to_datetime([s for s, _ in spans], utc=True).as_unit("us"),
            "end": pd.to_datetime([e for _, e in spans], utc=True).as_unit("us"),
        }
    )


def test_overlapping_outages_count_once() -> None:
    d = outages(
        ("2026-01-01 10:00", "2026-01-01 11:00"),
        ("2026-01-01 10:30", "2026-01-01 11:30"),
        ("2026-01-01 10:45", "2026-01-01 11:00"),
    )
    assert downtime_minutes(d, **DAY).value == pytest.approx(90.0)
    r = availability(d, **DAY)
    assert r.value == pytest.approx(100 * (1 - 1.5 / 24))
    assert (r.n, r.details["failures"]) == (3, 1)
    assert mtrs(d, **DAY).value == pytest.approx(1.5)  # one failure, not three


def test_outage_spanning_the_period_start_is_clipped_and_not_a_failure() -> None:
    d = outages(("2025-12-31 23:00", "2026-01-01 01:00"), ("2026-01-01 23:30", "2026-01-02 02:00"))
    assert downtime_minutes(d, **DAY).value == pytest.approx(90.0)  # 60 + 30 inside the day
    assert availability(d, **DAY).value == pytest.approx(100 * (1 - 1.5 / 24))
    assert availability(d, **DAY).details["failures"] == 1  # only the one starting in the day
    assert mtrs(d, **DAY).value == pytest.approx(1.5)


def test_business_hours_count_only_service_time() -> None:
    cal = ServiceCalendar(kind="business_hours", timezone="UTC", start="09:00", end="17:00")
    week = {
        "start": pd.Timestamp("2026-01-05", tz="UTC"),  # Monday
        "end": pd.Timestamp("2026-01-10", tz="UTC"),
    }  # Saturday: 5 days × 8 h = 40 h
    night = outages(("2026-01-06 02:00", "2026-01-06 03:00"))
    assert availability(night, **week, calendar=cal).value == 100.0
    assert mtrs(night, **week, calendar=cal).value is None  # not a failure in service time
    both = outages(
        ("2026-01-06 02:00", "2026-01-06 03:00"), ("2026-01-07 10:00", "2026-01-07 11:00")
    )
    assert availability(both, **week, calendar=cal).value == pytest.approx(97.5)
    assert downtime_minutes(both, **week, calendar=cal).value == pytest.approx(60.0)
    assert mtbsi(both, **week, calendar=cal).value == pytest.approx(40.0)
    # The same outages on 24×7: 2 h out of 120 h.
    assert availability(both, **week).value == pytest.approx(100 * (1 - 2 / 120))


def test_calendar_reaches_the_kpi_through_its_definition() -> None:
    cal = ServiceCalendar(kind="business_hours", timezone="UTC", start="09:00", end="17:00")
    d = outages(("2026-01-05 16:00", "2026-01-05 20:00"))  # Monday: 1 h in service time
    r = BY_ID["availability"](
        d,
        start=pd.Timestamp("2026-01-05", tz="UTC"),
        end=pd.Timestamp("2026-01-06", tz="UTC"),
        calendar=cal,
    )
    assert r.value == pytest.approx(100 * (1 - 1 / 8))


def test_mtbsi_is_mtbf_plus_mtrs() -> None:
    d = outages(("2026-01-01 02:00", "2026-01-01 04:00"), ("2026-01-01 12:00", "2026-01-01 13:00"))
    up, restore, between = mtbf(d, **DAY), mtrs(d, **DAY), mtbsi(d, **DAY)
    assert (up.value, restore.value, between.value) == pytest.approx((10.5, 1.5, 12.0))
    assert between.value == pytest.approx(up.value + restore.value)


def test_no_outage() -> None:
    d = outages()
    assert availability(d, **DAY).value == 100.0
    assert downtime_minutes(d, **DAY).value == 0.0
    restore = mtrs(d, **DAY)
    assert restore.value is None and "no failure" in restore.note
    for fn in (mtbf, mtbsi):
        r = fn(d, **DAY)
        assert r.value == pytest.approx(24.0)
        assert "lower bound" in r.note


def test_unusable_records_are_excluded_and_counted() -> None:
    d = outages(("2026-01-01 10:00", None), ("2026-01-01 12:00", "2026-01-01 11:00"))
    r = availability(d, **DAY)
    assert (r.value, r.excluded) == (None, 2)
    d = outages(("2026-01-01 10:00", None), ("2026-01-01 12:00", "2026-01-01 12:30"))
    r = downtime_minutes(d, **DAY)
    assert (r.value, r.n, r.excluded) == (30.0, 1, 1)
    assert "understated" in r.note


def test_all_na_table_does_not_crash() -> None:
    d = pd.DataFrame(
        {
            "start": pd.Series([pd.NaT] * 2, dtype="datetime64[us, UTC]"),
            "end": pd.Series([pd.NaT] * 2, dtype="datetime64[us, UTC]"),
        }
    )
    for definition in DEFINITIONS:
        if definition.source_kind == "downtime":
            assert definition(d, **DAY).value is None


def test_caller_frame_is_not_mutated() -> None:
    d = outages(("2026-01-01 10:30", "2026-01-01 11:30"), ("2026-01-01 10:00", "2026-01-01 11:00"))
    before = d.copy()
    for fn in (availability, downtime_minutes, mtbf, mtrs, mtbsi):
        fn(d, **DAY)
    pd.testing.assert_frame_equal(d, before)


def test_availability_from_samples_excludes_missing_flags() -> None:
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2025-12-31 22:00", periods=12, freq="h", tz="UTC"),
            "up": pd.array(
                [False, False, True, True, None, True, True, True, False, None, True, True],
                dtype="boolean",
            ),
        }
    )  # the first two samples fall before the period
    r = availability_from_samples(m, **DAY)
    assert (r.value, r.n, r.excluded) == (pytest.approx(700 / 8), 8, 2)
    assert "2 sample(s)" in r.note
    assert availability_from_samples(m.iloc[:2], **DAY).value is None


def test_availability_from_samples_on_business_hours() -> None:
    cal = ServiceCalendar(kind="business_hours", timezone="UTC", start="09:00", end="17:00")
    m = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(
                ["2026-01-05 03:00", "2026-01-05 10:00", "2026-01-05 11:00"], utc=True
            ),
            "up": [False, True, False],
        }
    )
    r = availability_from_samples(
        m,
        start=pd.Timestamp("2026-01-05", tz="UTC"),
        end=pd.Timestamp("2026-01-06", tz="UTC"),
        calendar=cal,
    )
    assert (r.value, r.n) == (50.0, 2)


def test_definitions_keep_their_ids_and_document_a_formula() -> None:
    assert {"availability", "downtime_minutes"} <= set(BY_ID)
    assert {"availability_from_samples", "mtbf", "mtrs", "mtbsi"} <= set(BY_ID)
    for definition in DEFINITIONS:
        assert "Formula:" in definition.formula
        assert definition.option_defaults() == {}


def test_records_at_every_edge_of_the_period_by_hand() -> None:
    """Hand-worked over 2026-01-01 (24 h): 10:00-11:00, 10:30-11:30 and 11:30-12:00 merge
    into one outage of 2 h (overlapping, then touching: 3 records, 1 failure); the one
    from 23:00 the day before to 01:00 adds 1 h, no failure (it started before); one
    starting at the period's end is outside, and so is one ending at its start (apart,
    since it would merge with the one before midnight). Zero-length,
    start-only, end-only and empty records touching the day are excluded (4); unusable
    records of the weeks before and after, and open ones beyond either edge, are not counted."""
    d = outages(
        ("2026-01-01 10:00", "2026-01-01 11:00"),
        ("2026-01-01 10:30", "2026-01-01 11:30"),
        ("2026-01-01 11:30", "2026-01-01 12:00"),
        ("2025-12-31 23:00", "2026-01-01 01:00"),
        ("2026-01-02 00:00", "2026-01-02 01:00"),  # starts at the end: outside
        ("2026-01-01 14:00", "2026-01-01 14:00"),  # zero length: excluded
        (None, "2026-01-01 15:00"),  # excluded
        ("2026-01-01 16:00", None),  # excluded
        (None, None),  # excluded: nothing says it missed the day
        ("2026-01-05 10:00", "2026-01-05 09:00"),  # ends before it starts, another week
        ("2025-12-20 10:00", "2025-12-20 09:00"),  # the same, the week before
        ("2026-01-02 00:00", None),  # open from the period's end: does not touch it
        (None, "2026-01-01 00:00"),  # ended at the period's start: does not touch it
    )
    r = availability(d, **DAY)
    assert r.value == pytest.approx(100 * 21 / 24)
    assert (r.n, r.excluded) == (4, 4)
    assert r.details == {"service_hours": 24.0, "downtime_hours": 3.0, "outages": 2, "failures": 1}
    assert r.note.startswith("4 outage record(s) lack a start or an end")
    assert downtime_minutes(d, **DAY).value == pytest.approx(180.0)
    assert mtrs(d, **DAY).value == pytest.approx(3.0)  # 3 h over 1 failure
    merged, unusable = merged_outages(d)
    assert list(merged.columns) == ["start", "end", "records"]
    assert merged["records"].tolist() == [1, 3, 1]
    assert unusable.tolist() == [False] * 5 + [True] * 8
    before = availability(outages(("2025-12-31 22:00", "2026-01-01 00:00")), **DAY)
    assert (before.value, before.n, before.details["outages"]) == (100.0, 0, 0)


def test_periods_without_service_time_or_failures_have_no_value() -> None:
    """A Saturday on business hours holds no service time; one hour of Monday holds 1 h;
    a day without a failure has no time to restore (n 0) and MTBF as a lower bound."""
    cal = ServiceCalendar(kind="business_hours", timezone="UTC", start="09:00", end="17:00")
    saturday = {
        "start": pd.Timestamp("2026-01-10", tz="UTC"),
        "end": pd.Timestamp("2026-01-11", tz="UTC"),
    }
    d = outages(("2026-01-10 10:00", "2026-01-10 11:00"))
    r = availability(d, **saturday, calendar=cal)
    assert (r.value, r.n, r.note) == (None, 0, "the period holds no agreed service time")
    hour = {
        "start": pd.Timestamp("2026-01-05 10:00", tz="UTC"),
        "end": pd.Timestamp("2026-01-05 11:00", tz="UTC"),
    }
    twenty = outages(("2026-01-05 10:00", "2026-01-05 10:20"))
    r = availability(twenty, **hour, calendar=cal)
    assert r.value == pytest.approx(100 * 40 / 60)
    assert r.details["downtime_hours"] == 0.333333 and r.details["service_hours"] == 1.0
    quiet = mtrs(outages(), **DAY)
    assert (quiet.value, quiet.n) == (None, 0)
    assert quiet.note == "no failure in the period: no service to restore"
    assert mtbf(outages(), **DAY).value == pytest.approx(24.0)


def test_samples_count_up_and_down_by_hand() -> None:
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC"),
            "up": pd.array([True, False, True, True, None], dtype="boolean"),
        }
    )
    r = availability_from_samples(m, **DAY)
    assert (r.value, r.n, r.excluded) == (75.0, 4, 1)
    assert r.details == {"up_samples": 3, "down_samples": 1}
    assert r.note == "1 sample(s) without an up flag are left out"


def test_outages_wholly_outside_the_period_count_nowhere() -> None:
    """One outage ends 3 h before the day, one starts 3 h after it: no record, no downtime."""
    d = outages(("2025-12-31 20:00", "2025-12-31 21:00"), ("2026-01-02 03:00", "2026-01-02 04:00"))
    r = availability(d, **DAY)
    assert (r.value, r.n, r.excluded) == (100.0, 0, 0)
    assert r.details == {"service_hours": 24.0, "downtime_hours": 0.0, "outages": 0, "failures": 0}


def test_service_hours_to_six_places_and_a_reversed_period_has_no_value() -> None:
    """09:00-17:20 holds 8 h 20 min = 8.333333 h to six places; a period ending before it
    starts holds no service time (the calendar gives NaN for it), so no value, not NaN."""
    cal = ServiceCalendar(kind="business_hours", timezone="UTC", start="09:00", end="17:20")
    monday = {
        "start": pd.Timestamp("2026-01-05", tz="UTC"),
        "end": pd.Timestamp("2026-01-06", tz="UTC"),
    }
    r = availability(outages(), **monday, calendar=cal)
    assert (r.value, r.details["service_hours"]) == (100.0, 8.333333)
    reversed_ = availability(outages(), start=DAY["end"], end=DAY["start"])
    assert (reversed_.value, reversed_.note) == (None, "the period holds no agreed service time")


def test_a_sample_one_second_before_opening_is_outside_service_time() -> None:
    """08:59:59 is outside 09:00-17:00 (its one second ends at the opening); 16:59:59 is in."""
    cal = ServiceCalendar(kind="business_hours", timezone="UTC", start="09:00", end="17:00")
    m = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-01-05 08:59:59", "2026-01-05 16:59:59"], utc=True),
            "up": [False, True],
        }
    )
    monday = {
        "start": pd.Timestamp("2026-01-05", tz="UTC"),
        "end": pd.Timestamp("2026-01-06", tz="UTC"),
    }
    r = availability_from_samples(m, **monday, calendar=cal)
    assert (r.value, r.n, r.details) == (100.0, 1, {"up_samples": 1, "down_samples": 0})
