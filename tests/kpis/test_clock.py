"""The service clock: business hours, holidays, DST, boundaries and pauses, by hand."""

from datetime import date, time

import numpy as np
import pandas as pd
import pytest

from csi_helpers.kpis.clock import TWENTY_FOUR_SEVEN, ServiceCalendar, paused_hours

OFFICE = ServiceCalendar(kind="business_hours")  # Mon–Fri 08:00–18:00 UTC
AMSTERDAM = ServiceCalendar(kind="business_hours", timezone="Europe/Amsterdam")


def utc(*stamps: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps), utc=True))


def hours(cal: ServiceCalendar, start: str, end: str) -> float:
    return float(cal.elapsed_hours(utc(start), utc(end)).iloc[0])


def test_plain_weekday_span():
    assert hours(OFFICE, "2026-01-05 09:00", "2026-01-05 12:30") == 3.5  # a Monday


def test_span_across_a_weekend():
    # Thu 10–18 (8) + Fri (10) + Mon (10) + Tue 08–10 (2)
    assert hours(OFFICE, "2026-01-08 10:00", "2026-01-13 10:00") == 30.0


def test_friday_evening_to_monday_morning_is_two_business_hours():
    assert hours(OFFICE, "2026-01-09 17:00", "2026-01-12 09:00") == 2.0


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-01-05 08:00", "2026-01-05 18:00", 10.0),  # the whole day
        ("2026-01-05 17:00", "2026-01-05 18:00", 1.0),  # ends exactly at closing
        ("2026-01-05 18:00", "2026-01-05 19:00", 0.0),  # starts exactly at closing
        ("2026-01-05 07:00", "2026-01-05 08:00", 0.0),  # ends exactly at opening
        ("2026-01-05 08:00", "2026-01-05 08:30", 0.5),  # starts exactly at opening
        ("2026-01-05 18:00", "2026-01-06 08:00", 0.0),  # closing to next opening
        ("2026-01-05 12:00", "2026-01-05 12:00", 0.0),  # empty span
    ],
)
def test_boundaries_count_nothing_on_the_closed_side(start, end, expected):
    assert hours(OFFICE, start, end) == expected


def test_a_holiday_has_no_service_time():
    with_holiday = ServiceCalendar(kind="business_hours", holidays=(date(2026, 1, 5),))
    # Fri 12–18 (6) + Mon holiday (0) + Tue 08–12 (4)
    assert hours(with_holiday, "2026-01-02 12:00", "2026-01-06 12:00") == 10.0
    assert hours(OFFICE, "2026-01-02 12:00", "2026-01-06 12:00") == 20.0


def test_business_day_follows_local_time_across_dst_in_amsterdam():
    # 06:00–16:00 UTC is 07:00–17:00 CET before the change (29 March 2026) ...
    assert hours(AMSTERDAM, "2026-03-23 06:00", "2026-03-23 16:00") == 9.0
    # ... and 08:00–18:00 CEST after it.
    assert hours(AMSTERDAM, "2026-03-30 06:00", "2026-03-30 16:00") == 10.0
    # Fri 17:00 CET to Mon 09:00 CEST: one hour on each side of the change weekend.
    assert hours(AMSTERDAM, "2026-03-27 16:00", "2026-03-30 07:00") == 2.0


def test_a_dst_change_inside_the_window_shortens_or_lengthens_that_day():
    night = ServiceCalendar(
        kind="business_hours",
        timezone="Europe/Amsterdam",
        weekdays=tuple(range(7)),
        start=time(1, 0),
        end=time(5, 0),
    )
    # 29 March: 01:00 CET (00:00 UTC) to 05:00 CEST (03:00 UTC) is 3 real hours.
    assert hours(night, "2026-03-28 22:00", "2026-03-29 12:00") == 3.0
    # 25 October: 01:00 CEST (23:00 UTC the day before) to 05:00 CET (04:00 UTC) is 5.
    assert hours(night, "2026-10-24 12:00", "2026-10-25 12:00") == 5.0


def test_missing_instants_and_reversed_spans_give_nan():
    start = utc("2026-01-05 09:00", None, "2026-01-05 12:00", "2026-01-05 09:00")
    end = utc(None, "2026-01-05 10:00", "2026-01-05 11:00", "2026-01-05 10:00")
    for cal in (OFFICE, TWENTY_FOUR_SEVEN):
        got = cal.elapsed_hours(start, end)
        assert got.isna().tolist() == [True, True, True, False]
        assert got.iloc[3] == 1.0


def test_result_keeps_the_index_and_mismatched_indexes_are_refused():
    start = utc("2026-01-05 09:00", "2026-01-05 10:00").set_axis(["a", "b"])
    end = utc("2026-01-05 10:00", "2026-01-05 12:00").set_axis(["a", "b"])
    assert OFFICE.elapsed_hours(start, end).to_dict() == {"a": 1.0, "b": 2.0}
    with pytest.raises(ValueError, match="share one index"):
        OFFICE.elapsed_hours(start, end.set_axis(["b", "a"]))


def test_twenty_four_seven_is_plain_elapsed_time():
    rng = np.random.default_rng(7)
    start = pd.Series(
        pd.Timestamp("2026-01-01", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 365 * 86_400, 500), unit="s")
    )
    end = start + pd.to_timedelta(rng.integers(0, 30 * 86_400, 500), unit="s")
    expected = (end - start).dt.total_seconds() / 3600
    np.testing.assert_allclose(TWENTY_FOUR_SEVEN.elapsed_hours(start, end), expected)


def test_business_hours_match_a_minute_by_minute_count():
    cal = ServiceCalendar(
        kind="business_hours", timezone="Europe/Amsterdam", holidays=(date(2026, 4, 6),)
    )
    rng = np.random.default_rng(3)
    start = pd.Series(
        pd.Timestamp("2026-03-20", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 30 * 1440, 40), unit="min")
    )
    end = start + pd.to_timedelta(rng.integers(0, 6 * 1440, 40), unit="min")

    def by_minute(a: pd.Timestamp, b: pd.Timestamp) -> float:
        local = pd.date_range(a, b, freq="min", inclusive="left").tz_convert(cal.timezone)
        working = (local.day_of_week < 5) & (local.hour >= 8) & (local.hour < 18)
        working &= local.normalize().tz_localize(None) != pd.Timestamp("2026-04-06")
        return working.sum() / 60

    expected = [by_minute(a, b) for a, b in zip(start, end, strict=True)]
    np.testing.assert_allclose(cal.elapsed_hours(start, end), expected)


def test_service_hours_of_a_single_span():
    start = pd.Timestamp("2026-01-09 17:00", tz="UTC")
    assert OFFICE.service_hours(start, pd.Timestamp("2026-01-12 09:00", tz="UTC")) == 2.0
    assert np.isnan(OFFICE.service_hours(start, pd.Timestamp("2026-01-09 16:00", tz="UTC")))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": time(18, 0), "end": time(8, 0)}, "ends .* before it starts"),
        ({"start": time(8, 0), "end": time(8, 0)}, "ends .* before it starts"),
        ({"timezone": "Europe/Amsterdm"}, "not an IANA zone"),
        ({"weekdays": (0, 7)}, "0 \\(Monday\\) to 6 \\(Sunday\\)"),
        ({"weekdays": (-1, 0)}, "0 \\(Monday\\) to 6 \\(Sunday\\)"),
        ({"weekdays": ()}, "at least one"),
        ({"kind": "8x5"}, "'24x7' or 'business_hours'"),
        ({"holidays": ("25/12/2026",)}, "holiday must be a date"),
    ],
)
def test_calendar_is_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ServiceCalendar(kind=kwargs.pop("kind", "business_hours"), **kwargs)


def test_calendar_normalises_lists_and_strings_and_stays_hashable():
    cal = ServiceCalendar(
        kind="business_hours", weekdays=[4, 0, 0], start="09:00", holidays=["2026-12-25"]
    )
    assert cal.weekdays == (0, 4)
    assert cal.start == time(9, 0)
    assert cal.holidays == (date(2026, 12, 25),)
    assert hash(cal) == hash(
        ServiceCalendar(
            kind="business_hours", weekdays=(0, 4), start=time(9), holidays=(date(2026, 12, 25),)
        )
    )


def pauses(*rows: tuple[str, str | None, str | None]) -> pd.DataFrame:
    ids, starts, ends = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "ticket_id": list(ids),
            "start": pd.to_datetime(list(starts), utc=True),
            "end": pd.to_datetime(list(ends), utc=True),
        }
    )


def test_a_pause_over_a_weekend_counts_only_business_hours():
    p = pauses(("A", "2026-01-09 16:00", "2026-01-12 10:00"))  # Fri 16:00 → Mon 10:00
    assert paused_hours(p, OFFICE).to_dict() == {"A": 4.0}
    assert paused_hours(p, TWENTY_FOUR_SEVEN).to_dict() == {"A": 66.0}


def test_overlapping_pauses_are_counted_once():
    p = pauses(
        ("A", "2026-01-05 10:00", "2026-01-05 12:00"),
        ("A", "2026-01-05 11:00", "2026-01-05 13:00"),  # overlaps the first: 10–13
        ("B", "2026-01-05 10:00", "2026-01-05 14:00"),
        ("B", "2026-01-05 11:00", "2026-01-05 12:00"),  # inside the first: 10–14
        ("C", "2026-01-05 10:00", "2026-01-05 11:00"),
        ("C", "2026-01-05 11:00", "2026-01-05 12:00"),  # touching: 10–12
        ("D", "2026-01-05 12:00", "2026-01-05 13:00"),  # other tickets' pauses do not merge
    )
    got = paused_hours(p, OFFICE)
    assert got.to_dict() == {"A": 3.0, "B": 4.0, "C": 2.0, "D": 1.0}
    assert got.index.name == "ticket_id"


def test_pauses_are_clipped_at_until_and_open_pauses_run_until_it():
    p = pauses(
        ("A", "2026-01-05 10:00", "2026-01-05 16:00"),
        ("B", "2026-01-05 10:00", None),  # still paused: runs to B's resolution
        ("C", "2026-01-05 10:00", "2026-01-05 12:00"),  # C unresolved: not clipped
        ("D", "2026-01-05 10:00", None),  # no end and no until: dropped
    )
    until = pd.Series(
        pd.to_datetime(["2026-01-05 12:00", "2026-01-05 11:00", None, None], utc=True),
        index=["A", "B", "C", "E"],
    )
    got = paused_hours(p, OFFICE, until=until)
    assert got.to_dict() == {"A": 2.0, "B": 1.0, "C": 2.0, "D": 0.0, "E": 0.0}


def test_pauses_before_since_are_clipped():
    p = pauses(("A", "2026-01-05 08:00", "2026-01-05 12:00"))
    since = pd.Series(pd.to_datetime(["2026-01-05 11:00"], utc=True), index=["A"])
    assert paused_hours(p, OFFICE, since=since).to_dict() == {"A": 1.0}


def test_no_pauses_give_zero_hours_and_missing_columns_are_named():
    empty = pauses(("A", "2026-01-05 10:00", "2026-01-05 10:00")).iloc[:0]
    assert paused_hours(empty, OFFICE).empty
    with pytest.raises(ValueError, match="missing \\['end'\\]"):
        paused_hours(pd.DataFrame({"ticket_id": [], "start": []}), OFFICE)


def test_inputs_are_not_mutated():
    p = pauses(("A", "2026-01-09 16:00", "2026-01-12 10:00"))
    before = p.copy()
    until = pd.Series(pd.to_datetime(["2026-01-12 09:00"], utc=True), index=["A"])
    assert paused_hours(p, OFFICE, until=until).to_dict() == {"A": 3.0}
    pd.testing.assert_frame_equal(p, before)


def test_separate_pauses_add_up_and_only_usable_ones_count():
    """Two pauses of A an hour apart add their hours (the gap is not paused); B's only
    pause ends before it starts, so B has none; a pause table with more columns (the
    state it was in) is read as well."""
    p = pauses(
        ("A", "2026-01-05 09:00", "2026-01-05 10:00"),
        ("A", "2026-01-05 11:00", "2026-01-05 13:00"),
        ("B", "2026-01-05 12:00", "2026-01-05 11:00"),
    ).assign(state=["Awaiting User Info", "Awaiting Vendor", "On Hold"])
    assert paused_hours(p, TWENTY_FOUR_SEVEN).to_dict() == {"A": 3.0, "B": 0.0}
    only_b = p[p["ticket_id"] == "B"]
    assert paused_hours(only_b, TWENTY_FOUR_SEVEN).to_dict() == {"B": 0.0}


def test_a_24x7_calendar_read_from_params_is_plain_elapsed_time():
    """The kind as params give it (a string built at run time, not the module's literal)."""
    cal = ServiceCalendar(kind="".join(["24", "x7"]))
    start, end = (
        utc("2026-03-28 10:00", "2026-01-01 00:00"),
        utc("2026-03-30 10:30", "2026-01-05 07:15"),
    )
    assert cal.elapsed_hours(start, end).tolist() == [48.5, 103.25]


def test_instants_exported_with_their_own_utc_offsets_are_compared_in_utc():
    """An export read with its offsets (+01:00 in winter, +02:00 in summer) gives a column
    of mixed offsets, which pandas converts only when told to take UTC."""
    winter = pd.Timestamp("2026-01-05 10:00+01:00")  # 09:00 UTC
    summer = pd.Timestamp("2026-06-05 10:00+02:00")  # 08:00 UTC
    start = pd.Series([winter, summer], dtype=object)
    end = pd.Series([winter + pd.Timedelta(hours=3), summer + pd.Timedelta(hours=1)], dtype=object)
    assert TWENTY_FOUR_SEVEN.elapsed_hours(start, end).tolist() == [3.0, 1.0]
    assert OFFICE.elapsed_hours(start, end).tolist() == [3.0, 1.0]


def test_a_business_day_inside_the_skipped_dst_hour_holds_no_time():
    """On 2026-03-29 Amsterdam's clocks jump from 02:00 to 03:00: a window of 02:00-02:59
    opens and closes at the same instant, so that Sunday holds exactly nothing."""
    night = ServiceCalendar(
        kind="business_hours", timezone="Europe/Amsterdam", start="02:00", end="02:59",
        weekdays=(6,),
    )  # fmt: skip
    sunday = (pd.Timestamp("2026-03-29", tz="UTC"), pd.Timestamp("2026-03-30", tz="UTC"))
    assert night.service_hours(*sunday) == 0.0
    week_later = (pd.Timestamp("2026-04-05", tz="UTC"), pd.Timestamp("2026-04-06", tz="UTC"))
    assert night.service_hours(*week_later) == pytest.approx(59 / 60)


def test_a_ticket_whose_pause_follows_another_tickets_keeps_its_own_time():
    """A paused 09:00-10:00, B 11:00-12:00 and C 11:30-12:30 (overlapping B's, another
    ticket): each keeps its own hour; nothing merges across tickets."""
    p = pauses(
        ("A", "2026-01-05 09:00", "2026-01-05 10:00"),
        ("B", "2026-01-05 11:00", "2026-01-05 12:00"),
        ("C", "2026-01-05 11:30", "2026-01-05 12:30"),
    )
    assert paused_hours(p, TWENTY_FOUR_SEVEN).to_dict() == {"A": 1.0, "B": 1.0, "C": 1.0}
