"""Incident KPIs on a small hand-computed tickets table (period: January 2026, UTC)."""

import numpy as np
import pandas as pd
import pytest

from csi_helpers.kpis.clock import ServiceCalendar
from csi_helpers.kpis.incidents import (
    DEFINITIONS,
    backlog,
    backlog_age_median,
    first_assignment_resolution,
    incident_volume,
    mean_time_to_acknowledge,
    mean_time_to_resolve,
    median_time_to_resolve,
    p90_time_to_resolve,
    priority_targets,
    reassignment_rate,
    reopen_rate,
    sla_compliance,
)
from csi_helpers.tables.canonical import CANONICAL

PERIOD = {
    "start": pd.Timestamp("2026-01-01", tz="UTC"),
    "end": pd.Timestamp("2026-02-01", tz="UTC"),
}
OFFICE = ServiceCalendar(kind="business_hours")  # Mon–Fri 08:00–18:00 UTC
BY_ID = {d.id: d for d in DEFINITIONS}

COLUMNS = (
    "ticket_id",
    "opened_at",
    "acknowledged_at",
    "assigned_at",
    "resolved_at",
    "closed_at",
    "priority",
    "reassignment_count",
    "reopen_count",
    "reopen_after_close_count",
    "made_sla",
)
ROWS = [
    # T1: 4 h to resolve (Mon 09–13), 76 h to close.
    (
        "T1",
        "2026-01-05 09:00",
        "2026-01-05 09:30",
        "2026-01-05 10:00",
        "2026-01-05 13:00",
        "2026-01-08 13:00",
        "1 - Critical",
        0,
        0,
        0,
        True,
    ),
    # T2: Fri 16:00 → Tue 12:00: 92 h on 24×7, 16 h on office hours; closed after 164 h.
    (
        "T2",
        "2026-01-09 16:00",
        "2026-01-09 16:30",
        "2026-01-09 17:00",
        "2026-01-13 12:00",
        "2026-01-16 12:00",
        "2 - High",
        2,
        1,
        0,
        False,
    ),
    # T3: 24 h (10 office hours); never acknowledged; reopened after closure.
    (
        "T3",
        "2026-01-20 10:00",
        None,
        "2026-01-20 12:00",
        "2026-01-21 10:00",
        "2026-01-23 10:00",
        "3 - Moderate",
        0,
        0,
        1,
        None,
    ),
    # T4: opened in the period and still open at its end, aged 7 days; never assigned.
    (
        "T4",
        "2026-01-25 00:00",
        "2026-01-25 01:00",
        None,
        None,
        None,
        "1 - Critical",
        1,
        0,
        0,
        False,
    ),
    # T5: opened before the period, still open: aged 62 days.
    ("T5", "2025-12-01 00:00", None, None, None, None, "P4", None, None, None, None),
    # T6: opened last year, resolved in the period after 6 h; reopened after resolution.
    (
        "T6",
        "2025-12-31 20:00",
        "2025-12-31 21:00",
        "2025-12-31 21:00",
        "2026-01-01 02:00",
        "2026-01-02 02:00",
        "2 - High",
        0,
        1,
        0,
        True,
    ),
    # T7: opened in the period, resolved after it (8 h): in the backlog at period end.
    (
        "T7",
        "2026-01-31 20:00",
        "2026-01-31 21:00",
        "2026-01-31 22:00",
        "2026-02-01 04:00",
        None,
        "4 - Low",
        0,
        0,
        0,
        True,
    ),
]
TIMES = ("opened_at", "acknowledged_at", "assigned_at", "resolved_at", "closed_at")


def tickets(rows: list[tuple] = ROWS) -> pd.DataFrame:
    t = pd.DataFrame(rows, columns=list(COLUMNS))
    for c in TIMES:
        t[c] = pd.to_datetime(t[c], utc=True).dt.as_unit("us")
    for c in ("reassignment_count", "reopen_count", "reopen_after_close_count"):
        t[c] = t[c].astype("Int64")
    t["made_sla"] = t["made_sla"].astype("boolean")
    return t


def pauses(*rows: tuple[str, str, str]) -> pd.DataFrame:
    ids, starts, ends = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "ticket_id": list(ids),
            "start": pd.to_datetime(list(starts), utc=True),
            "end": pd.to_datetime(list(ends), utc=True),
        }
    )


# --- volume and backlog -------------------------------------------------------------------


def test_incident_volume_counts_tickets_opened_in_the_period():
    r = incident_volume(tickets(), **PERIOD)
    assert (r.value, r.n) == (5.0, 5)  # T1, T2, T3, T4, T7


def test_backlog_counts_tickets_open_at_period_end_with_their_age():
    r = backlog(tickets(), **PERIOD)
    assert r.value == 3.0  # T4 (7 d), T5 (62 d), T7 (resolved after the end: 4 h)
    assert r.details["median_age_days"] == 7.0
    assert r.details["age_buckets"] == {"<1d": 1, "1-7d": 0, "7-30d": 1, "30d+": 1}
    assert backlog_age_median(tickets(), **PERIOD).value == 7.0


def test_backlog_on_closed_at_keeps_resolved_but_unclosed_tickets():
    t = tickets()
    t.loc[t["ticket_id"] == "T1", "closed_at"] = pd.NaT  # resolved, never closed
    assert backlog(t, **PERIOD).value == 3.0
    assert backlog(t, **PERIOD, resolution="closed_at").value == 4.0


def test_a_ticket_closed_without_resolution_is_not_in_the_backlog():
    t = tickets()
    t.loc[t["ticket_id"] == "T5", "closed_at"] = pd.Timestamp("2026-01-10", tz="UTC")
    assert backlog(t, **PERIOD).value == 2.0


def test_an_open_ticket_is_excluded_from_mttr_and_counted():
    r = mean_time_to_resolve(tickets(), **PERIOD)
    assert r.value == pytest.approx((4 + 92 + 24 + 6) / 4)  # T1, T2, T3, T6
    assert (r.n, r.excluded) == (4, 1)  # T4 opened in the period, unresolved
    assert r.note == "1 of 5 tickets in scope excluded: 1 unresolved"


# --- time to resolve ----------------------------------------------------------------------


def test_mttr_scope_opened_in_period():
    r = mean_time_to_resolve(tickets(), **PERIOD, scope="opened_in_period")
    assert r.value == pytest.approx((4 + 92 + 24 + 8) / 4)  # T1, T2, T3, T7; not T6
    assert (r.n, r.excluded) == (4, 1)


def test_the_two_resolution_timestamps():
    r = mean_time_to_resolve(tickets(), **PERIOD, resolution="closed_at")
    assert r.value == pytest.approx((76 + 164 + 72 + 30) / 4)  # closed in the period
    assert r.excluded == 2  # T4 and T7 opened in the period, never closed


def test_mttr_on_business_hours_minus_a_pause():
    p = pauses(
        ("T2", "2026-01-12 09:00", "2026-01-12 11:00"),  # 2 office hours on Monday
        ("T1", "2026-01-05 13:00", "2026-01-05 15:00"),  # after T1's resolution: clipped
    )
    t = tickets()
    r = mean_time_to_resolve(t, **PERIOD, calendar=OFFICE, pauses=p)
    # T1 4 h; T2 16 − 2 = 14 h; T3 Tue 10–18 + Wed 08–10 = 10 h; T6 opened and resolved
    # outside office hours: 0 h.
    assert r.value == pytest.approx((4 + 14 + 10 + 0) / 4)
    assert r.details["paused_hours"] == 2.0
    pd.testing.assert_frame_equal(t, tickets())


def test_durations_ending_before_they_start_are_excluded_and_counted():
    rows = [
        *ROWS,
        ("T8", "2026-01-10 12:00", None, None, "2026-01-10 10:00", None, "P2", 0, 0, 0, None),
    ]
    r = mean_time_to_resolve(tickets(rows), **PERIOD)
    assert r.value == pytest.approx((4 + 92 + 24 + 6) / 4)
    assert (r.n, r.excluded) == (4, 2)
    assert r.note == (
        "2 of 6 tickets in scope excluded: 1 unresolved, 1 ended before they were opened"
    )


def test_median_and_p90_match_numpy():
    rng = np.random.default_rng(11)
    n = 37
    opened = pd.Timestamp("2026-01-02", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 20 * 24 * 60, n), unit="min"
    )
    took = rng.gamma(1.5, 10.0, n)
    t = pd.DataFrame(
        {
            "ticket_id": [f"X{i}" for i in range(n)],
            "opened_at": opened,
            "resolved_at": opened + pd.to_timedelta(took, unit="h"),
        }
    )
    in_period = (t["resolved_at"] < PERIOD["end"]).to_numpy()
    hours = took[in_period]
    assert median_time_to_resolve(t, **PERIOD).value == pytest.approx(np.median(hours))
    assert p90_time_to_resolve(t, **PERIOD).value == pytest.approx(np.percentile(hours, 90))
    assert mean_time_to_resolve(t, **PERIOD).value == pytest.approx(np.mean(hours))


def test_pauses_are_ignored_with_a_note_when_tickets_carry_no_id():
    t = tickets().drop(columns="ticket_id")
    r = mean_time_to_resolve(
        t, **PERIOD, pauses=pauses(("T2", "2026-01-12 09:00", "2026-01-12 11:00"))
    )
    assert r.value == pytest.approx((4 + 92 + 24 + 6) / 4)
    assert "pauses ignored" in r.note


# --- time to acknowledge ------------------------------------------------------------------


def test_mtta_to_first_acknowledgement():
    r = mean_time_to_acknowledge(tickets(), **PERIOD)
    assert r.value == pytest.approx((0.5 + 0.5 + 1 + 1) / 4)  # T1, T2, T4, T7
    assert (r.n, r.excluded) == (4, 1)  # T3 never acknowledged
    assert "1 never acknowledged" in r.note


def test_mtta_to_first_assignment():
    r = mean_time_to_acknowledge(tickets(), **PERIOD, until="assigned")
    assert r.value == pytest.approx((1 + 1 + 2 + 2) / 4)  # T1, T2, T3, T7
    assert (r.n, r.excluded) == (4, 1)  # T4 never assigned
    assert "1 never assigned" in r.note


# --- SLA ----------------------------------------------------------------------------------


def test_sla_by_the_export_flag():
    r = sla_compliance(tickets(), **PERIOD)
    assert r.value == 50.0  # T1 ✓, T2 ✗, T4 ✗, T7 ✓ (T3 has no flag)
    assert (r.n, r.excluded) == (4, 1)


TARGETS = {"P1": 4, "P2": 24, "P3": 48}


def test_sla_by_targets_counts_an_open_ticket_past_target_as_breached():
    r = sla_compliance(tickets(), **PERIOD, method="targets", targets=TARGETS)
    # T1 4 h ≤ 4 ✓; T2 92 h > 24 ✗; T3 24 h ≤ 48 ✓; T4 open, 168 h > 4 ✗; T7 P4 unknown.
    assert r.value == 50.0
    assert (r.n, r.excluded) == (4, 1)
    assert r.details == {"met": 2, "breached": 2, "breached_while_open": 1}
    assert "1 with no target for their priority" in r.note


def test_sla_by_targets_on_business_hours():
    r = sla_compliance(tickets(), **PERIOD, method="targets", targets=TARGETS, calendar=OFFICE)
    # T2 now 16 office hours ≤ 24 ✓; T4 still open 50 office hours > 4 ✗.
    assert r.value == 75.0


def test_sla_by_targets_leaves_out_an_open_ticket_within_target():
    rows = [*ROWS, ("T9", "2026-01-31 23:00", None, None, None, None, "P3", 0, 0, 0, None)]
    r = sla_compliance(tickets(rows), **PERIOD, method="targets", targets=TARGETS)
    assert r.value == 50.0
    assert r.excluded == 2
    assert "1 still open within target" in r.note


def test_sla_targets_are_required_for_the_targets_method():
    with pytest.raises(ValueError, match="needs option targets"):
        sla_compliance(tickets(), **PERIOD, method="targets")


def test_priority_targets_match_exactly_by_rank_and_by_label():
    p = pd.Series(["1 - Critical", "p1", "P2", "2-High", " 3 ", "Moderate", "10 - x", None])
    got = priority_targets(p, {"1": 4, "P2": 8, "3 - Moderate": 24, "P1 - Critical": 4})
    assert got.tolist()[:6] == [4.0, 4.0, 8.0, 8.0, 24.0, 24.0]
    assert np.isnan(got.iloc[6]) and np.isnan(got.iloc[7])
    with pytest.raises(ValueError, match="disagree for priority '1'"):
        priority_targets(p, {"P1": 4, "1 - Critical": 8})
    with pytest.raises(ValueError, match="≥ 0"):
        priority_targets(p, {"P1": -1})
    with pytest.raises(ValueError, match="disagree for priority '1'"):
        priority_targets(p, {"P1": 8, "1 - Critical": 4})  # the lower second, too
    # a key of a label only ("High") still matches by label; targets of 0 and 0.5 h are hours
    labelled = priority_targets(
        pd.Series(["3 - High", "P1", "P2"]), {"High": 24, "P1": 0.5, "2": 0}
    )
    assert labelled.tolist() == [24.0, 0.5, 0.0]


# --- reopen and reassignment --------------------------------------------------------------


def test_a_reopen_after_closure_counts_only_under_after_closure():
    # Resolved in the period: T1, T2, T3, T6. Reopened after resolution: T2, T6.
    assert reopen_rate(tickets(), **PERIOD).value == 50.0
    # After closure: T3 alone (T2 and T6 were reopened before closure).
    r = reopen_rate(tickets(), **PERIOD, definition="after_closure")
    assert r.value == 25.0
    assert r.details["matching"] == 1


def test_first_assignment_resolution_and_reassignment_rate():
    far = first_assignment_resolution(tickets(), **PERIOD)
    assert (far.value, far.n) == (75.0, 4)  # T1, T3, T6 never reassigned; T2 twice
    rr = reassignment_rate(tickets(), **PERIOD)
    assert rr.value == 25.0
    assert rr.details["mean_reassignment_count"] == 0.5


def test_missing_counts_are_excluded_and_counted():
    t = tickets()
    t.loc[t["ticket_id"] == "T3", "reassignment_count"] = pd.NA
    r = first_assignment_resolution(t, **PERIOD)
    assert (r.value, r.n, r.excluded) == (pytest.approx(200 / 3), 3, 1)
    assert r.note == "1 of 4 tickets in scope excluded: 1 without reassignment_count"


# --- the definitions ----------------------------------------------------------------------


def test_definitions_cover_the_family_with_formulas():
    expected = {
        "incident_volume",
        "mean_time_to_acknowledge",
        "mean_time_to_resolve",
        "median_time_to_resolve",
        "p90_time_to_resolve",
        "sla_compliance",
        "backlog",
        "backlog_age_median",
        "reopen_rate",
        "first_assignment_resolution",
        "reassignment_rate",
    }
    assert set(BY_ID) == expected and len(DEFINITIONS) == len(expected)
    for d in DEFINITIONS:
        assert "Formula:" in d.formula, d.id
        assert d.source_kind == "tickets"
        assert set(d.fields) <= set(CANONICAL["tickets"]), d.id


def test_option_validation_through_the_definition():
    mttr = BY_ID["mean_time_to_resolve"]
    with pytest.raises(ValueError, match="did you mean 'resolution'"):
        mttr.validate_options({"resolutoin": "closed_at"})
    with pytest.raises(ValueError, match="option resolution"):
        mttr.validate_options({"resolution": "fixed_at"})
    with pytest.raises(ValueError, match="option method"):
        BY_ID["sla_compliance"].validate_options({"method": "flags"})
    assert BY_ID["sla_compliance"].validate_options(
        {"method": "targets", "targets": {"P1": 4}}
    ) == {"method": "targets", "targets": {"P1": 4.0}}


def test_needed_fields_follow_the_options():
    sla = BY_ID["sla_compliance"]
    assert sla.needed_fields({}) == ("opened_at", "made_sla")
    assert sla.needed_fields({"method": "targets"}) == ("opened_at", "priority", "resolved_at")
    assert BY_ID["mean_time_to_acknowledge"].needed_fields({"until": "assigned"}) == (
        "opened_at",
        "assigned_at",
    )
    assert BY_ID["mean_time_to_resolve"].needed_fields({}) == ("opened_at", "resolved_at")
    assert BY_ID["reopen_rate"].needed_fields({"definition": "after_closure"}) == (
        "resolved_at",
        "reopen_after_close_count",
    )


def test_definitions_pass_reserved_keywords_and_options():
    p = pauses(("T2", "2026-01-12 09:00", "2026-01-12 11:00"))
    r = BY_ID["mean_time_to_resolve"](
        tickets(), **PERIOD, options={"scope": "opened_in_period"}, calendar=OFFICE, pauses=p
    )
    assert r.value == pytest.approx((4 + 14 + 10 + 0) / 4)  # T7 resolved Sun 04:00: 0 h
    assert BY_ID["backlog"](tickets(), **PERIOD, calendar=OFFICE).value == 3.0


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.id)
def test_empty_and_all_missing_tables_do_not_crash(definition):
    columns = list(CANONICAL["tickets"])
    for table in (
        pd.DataFrame(columns=columns),
        pd.DataFrame({c: [None] * 3 for c in columns}),
        pd.DataFrame({"opened_at": pd.to_datetime([None], utc=True)}),
    ):
        r = definition(table, **PERIOD, calendar=OFFICE)
        assert r.value is None, definition.id
        assert r.note, definition.id


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.id)
def test_the_callers_table_is_not_mutated(definition):
    t = tickets()
    definition(
        t, **PERIOD, calendar=OFFICE, pauses=pauses(("T2", "2026-01-12 09:00", "2026-01-12 11:00"))
    )
    pd.testing.assert_frame_equal(t, tickets())
