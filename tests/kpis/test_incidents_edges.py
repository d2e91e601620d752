"""Incident KPIs at the edges of the period and of their inputs, against hand counts."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from csi_helpers.kpis.incident_times import Durations, measure
from csi_helpers.kpis.incidents import (
    backlog,
    backlog_age_median,
    mean_time_to_resolve,
    reopen_rate,
    sla_compliance,
)

END = pd.Timestamp("2026-02-01", tz="UTC")
PERIOD = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": END}


def tickets(rows: list[tuple[str | None, str | None, str | None]], **extra: list) -> pd.DataFrame:
    """(opened_at, resolved_at, closed_at) rows."""
    opened, resolved, closed = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "ticket_id": [f"T{i}" for i in range(len(rows))],
            "opened_at": pd.to_datetime(list(opened), utc=True),
            "resolved_at": pd.to_datetime(list(resolved), utc=True),
            "closed_at": pd.to_datetime(list(closed), utc=True),
            **extra,
        }
    )


EDGES = tickets(
    [
        ("2026-01-31 12:00", None, None),  # open, 0.5 days old: <1d
        ("2026-02-01 00:00", None, None),  # opened at the end: not open yet
        ("2026-01-20 00:00", "2026-02-01 00:00", None),  # resolved at the end: open, 12 d
        ("2025-12-01 00:00", None, "2026-01-15 00:00"),  # closed unresolved (cancelled): not
        (None, None, None),  # no opened_at: excluded
        ("2025-12-15 00:00", None, None),  # open, 48 days: 30d+
        ("2026-01-28 00:00", None, None),  # open, 4 days: 1-7d
        ("2026-01-31 00:00", None, None),  # open, exactly 1 day: 1-7d (buckets are [a, b))
    ]
)


def test_backlog_at_the_period_end_by_hand():
    r = backlog(EDGES, **PERIOD)
    assert (r.value, r.n, r.excluded) == (5.0, 5, 1)
    assert r.details == {
        "median_age_days": 4.0,  # of 0.5, 1, 4, 12 and 48
        "age_buckets": {"<1d": 1, "1-7d": 2, "7-30d": 1, "30d+": 1},
    }
    assert r.note == "1 of 8 tickets in scope excluded: 1 without opened_at"
    assert backlog_age_median(EDGES, **PERIOD).value == 4.0
    resolution = "".join(["resolved", "_at"])  # as params give it
    assert backlog(EDGES, **PERIOD, resolution=resolution).value == 5.0


def test_no_open_ticket_and_no_opened_at_at_all():
    done = tickets([("2026-01-05 00:00", "2026-01-06 00:00", None)])
    r = backlog(done, **PERIOD)
    assert (r.value, r.n) == (0.0, 0)
    assert r.details == {
        "median_age_days": None,
        "age_buckets": {"<1d": 0, "1-7d": 0, "7-30d": 0, "30d+": 0},
    }
    median = backlog_age_median(done, **PERIOD)
    assert (median.value, median.n, median.note) == (
        None,
        0,
        "no ticket was open at the end of the period",
    )
    blank = tickets([(None, None, None)] * 300)  # more than the small ints Python caches
    assert backlog(blank, **PERIOD).value is None


def test_backlog_ages_are_fractional_days_and_bucket_at_7_and_30():
    """Four open at the end, 0.5, 6.5, 29.5 and 30.5 days old: one in each bucket, median
    (6.5 + 29.5) / 2 = 18.0 days (whole days would give 17.5)."""
    t = tickets([(f"2026-01-{d} 12:00", None, None) for d in ("31", "25", "02", "01")])
    r = backlog(t, **PERIOD)
    assert r.details == {
        "median_age_days": 18.0,
        "age_buckets": {"<1d": 1, "1-7d": 1, "7-30d": 1, "30d+": 1},
    }


def test_reopen_rate_counts_tickets_without_a_counter_apart():
    """Five resolved in January, two without reopen_count: 1 of the 3 known reopened."""
    t = tickets(
        [("2026-01-05 00:00", f"2026-01-{d:02d} 00:00", None) for d in (6, 7, 8, 9, 10)],
        reopen_count=pd.array([0, 2, None, 0, None], dtype="Int64"),
    )
    r = reopen_rate(t, **PERIOD)
    assert (r.value, r.n, r.excluded) == (pytest.approx(100 / 3), 3, 2)
    assert r.details == {"matching": 1, "mean_reopen_count": pytest.approx(2 / 3)}
    three_missing = t.assign(reopen_count=pd.array([0, 2, None, None, None], dtype="Int64"))
    r = reopen_rate(three_missing, **PERIOD)
    assert (r.value, r.n, r.excluded) == (50.0, 2, 3)
    assert r.note == "3 of 5 tickets in scope excluded: 3 without reopen_count"
    unknown = reopen_rate(t.assign(reopen_count=pd.array([None] * 5, dtype="Int64")), **PERIOD)
    assert (unknown.value, unknown.note) == (None, "reopen_count is missing")
    none_resolved = reopen_rate(t, start=END, end=END + pd.Timedelta(days=31))
    assert (none_resolved.value, none_resolved.note) == (
        None,
        "no ticket was resolved in the period",
    )


def test_sla_by_flag_and_by_targets_count_what_they_leave_out():
    """By flag: 7 opened, 4 without a flag, 2 of the 3 flagged met (66.67 %); by targets,
    with the method named as params give it: 2 of 3 resolved within their 4 h met."""
    flagged = tickets(
        [("2026-01-05 00:00", None, None)] * 7,
        made_sla=pd.array([True, False, True, None, None, None, None], dtype="boolean"),
    )
    r = sla_compliance(flagged, **PERIOD, method="".join(["fl", "ag"]))
    assert (r.value, r.n, r.excluded) == (pytest.approx(200 / 3), 3, 4)
    assert r.note == "4 of 7 tickets in scope excluded: 4 without an SLA flag"
    timed = tickets(
        [
            ("2026-01-05 09:00", "2026-01-05 11:00", None),
            ("2026-01-06 09:00", "2026-01-06 12:59", None),
            ("2026-01-07 09:00", "2026-01-07 15:00", None),
        ],
        priority=["P1", "P1", "P1"],
    )
    r = sla_compliance(timed, **PERIOD, method="targets", targets={"P1": 4})
    assert (r.value, r.n, r.details["breached"]) == (pytest.approx(200 / 3), 3, 1)
    assert r.note == ""  # nothing left out, so nothing to say
    two_of_five = tickets(
        [("2026-01-05 00:00", None, None)] * 5,
        made_sla=pd.array([True, None, False, None, None], dtype="boolean"),
    )
    r = sla_compliance(two_of_five, **PERIOD, method="flag")
    assert (r.value, r.n, r.excluded) == (50.0, 2, 3)
    assert r.note == "3 of 5 tickets in scope excluded: 3 without an SLA flag"


def test_sla_by_targets_sorts_every_kind_of_ticket_by_hand():
    """P1 target 4 h, 24×7, aged at the period end (2026-02-01 00:00):
    A met (2 h); B breached (6 h); C open 12 h: breached while open; D open exactly 4 h and
    E open 2 h: waiting, left out; F resolved an hour before it opened; G has no target.
    1 met of 3 counted; 4 left out."""
    t = tickets(
        [
            ("2026-01-05 09:00", "2026-01-05 11:00", None),  # A
            ("2026-01-06 09:00", "2026-01-06 15:00", None),  # B
            ("2026-01-31 12:00", None, None),  # C
            ("2026-01-31 20:00", None, None),  # D
            ("2026-01-31 22:00", None, None),  # E
            ("2026-01-07 09:00", "2026-01-07 08:00", None),  # F
            ("2026-01-08 09:00", "2026-01-08 10:00", None),  # G
        ],
        priority=["P1"] * 6 + ["P9"],
    )
    r = sla_compliance(t, **PERIOD, method="targets", targets={"P1": 4})
    assert (r.value, r.n, r.excluded) == (pytest.approx(100 / 3), 3, 4)
    assert r.details == {"met": 1, "breached": 2, "breached_while_open": 1}
    assert r.note == (
        "4 of 7 tickets in scope excluded: 1 with no target for their priority, "
        "2 still open within target, 1 resolved before they were opened"
    )


def test_paused_time_is_taken_only_from_the_paused_ticket():
    """A: 30 minutes, no pause; B: 3 h with a 1 h pause, so 2 h. Mean 1.25 h, 1 h paused in
    all; a ticket without a pause keeps its 30 minutes (no hour floor, nothing taken)."""
    t = tickets(
        [
            ("2026-01-05 09:00", "2026-01-05 09:30", None),
            ("2026-01-05 09:00", "2026-01-05 12:00", None),
        ]
    )
    paused = pd.DataFrame(
        {
            "ticket_id": ["T1"],
            "start": pd.to_datetime(["2026-01-05 10:00"], utc=True),
            "end": pd.to_datetime(["2026-01-05 11:00"], utc=True),
        }
    )
    r = mean_time_to_resolve(t, **PERIOD, pauses=paused)
    assert (r.value, r.n, r.details["paused_hours"]) == (1.25, 2, 1.0)
    plain = mean_time_to_resolve(t, **PERIOD)
    assert (plain.value, plain.details["paused_hours"]) == (1.75, 0.0)


def test_what_measure_leaves_out_and_the_paused_total_by_hand():
    """Resolved in January: A 2 h with a 20-minute pause; three resolved before they were
    opened (one with a pause); one without opened_at. Measured: A alone, 1 h 40 min; left
    out: 3 reversed and 1 without opened_at; paused 20 min = 0.333333 h to six places (the
    reversed ticket's pause is not subtracted from anything, so not counted)."""
    t = tickets(
        [
            ("2026-01-05 09:00", "2026-01-05 11:00", None),  # A
            ("2026-01-06 09:00", "2026-01-06 08:00", None),
            ("2026-01-07 09:00", "2026-01-07 08:00", None),
            ("2026-01-08 09:00", "2026-01-08 08:00", None),
            (None, "2026-01-09 08:00", None),
        ]
    )
    pauses = pd.DataFrame(
        {
            "ticket_id": ["T0", "T1"],
            "start": pd.to_datetime(["2026-01-05 10:00", "2026-01-06 08:10"], utc=True),
            "end": pd.to_datetime(["2026-01-05 10:20", "2026-01-06 08:40"], utc=True),
        }
    )
    scope = "".join(["ended", "_in_period"])  # as a caller builds it, not a literal
    d = measure(
        t, **PERIOD, until="resolved_at", scope=scope, not_ended="unresolved", pauses=pauses
    )
    assert d.hours.tolist() == [pytest.approx(5 / 3)]
    assert d.exclusions == {
        "unresolved": 0,
        "ended before they were opened": 3,
        "without opened_at": 1,
    }
    r = mean_time_to_resolve(t, **PERIOD, pauses=pauses, scope="".join(["resolved", "_in_period"]))
    assert (r.value, r.n, r.excluded) == (pytest.approx(5 / 3), 1, 4)
    assert r.details["paused_hours"] == 0.333333
    nothing = mean_time_to_resolve(t, start=END, end=END + pd.Timedelta(days=28))
    assert (nothing.value, nothing.note) == (None, "nothing to measure (no ticket in scope)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.paused = 0.0  # type: ignore[misc]
    assert isinstance(d, Durations)
