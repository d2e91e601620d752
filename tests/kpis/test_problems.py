"""Problem management KPIs on small tables."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.kpis.problems import DEFINITIONS, open_problem_age_median, problem_linked_share

MONTH = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": pd.Timestamp("2026-02-01", tz="UTC")}


def stamps(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")


def test_problem_linked_share() -> None:
    t = pd.DataFrame(
        {
            "opened_at": stamps(
                ["2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06", "2026-02-02"]
            ),
            "problem_id": pd.array(["PRB1", None, "  ", "PRB2", "PRB3"], dtype="string"),
        }
    )
    r = problem_linked_share(t, **MONTH)
    assert (r.value, r.n) == (50.0, 4)  # blank id is no link; February's ticket is out
    assert r.details == {"linked": 2, "unlinked": 2}


def test_open_problem_age_at_the_period_end() -> None:
    p = pd.DataFrame(
        {
            "problem_id": ["P1", "P2", "P3", "P4", "P5", "P6", "P7"],
            "opened_at": stamps(
                [
                    "2025-12-02",
                    "2026-01-22",
                    "2026-01-11",
                    "2026-01-02",
                    "2026-01-03",
                    "2026-01-04",
                    "2026-02-10",
                ]
            ),
            "resolved_at": stamps([None, None, "2026-02-05", "2026-01-05", None, None, None]),
            "closed_at": stamps([None, None, None, None, "2026-01-20", None, None]),
            "state": ["Open", "Known Error", "Resolved", "Resolved", "Closed", "Closed", "Open"],
        }
    )
    # Open on 1 Feb: P1 (61 days), P2 (10 days), P3 (21 days; resolved after the end).
    # P4 resolved and P5 closed before it; P6 closed by state with no date; P7 opened later.
    r = open_problem_age_median(p, **MONTH)
    assert (r.value, r.n, r.excluded) == (21.0, 3, 1)
    assert r.details["resolved_or_closed"] == 2
    assert r.details["older_than_30_days"] == 1
    assert r.details["oldest_days"] == 61.0
    assert "no date" in r.note


def test_open_problem_age_without_closed_at_or_state_columns() -> None:
    p = pd.DataFrame(
        {"opened_at": stamps(["2026-01-21", "2026-01-30"]), "resolved_at": stamps([None, None])}
    )
    assert open_problem_age_median(p, **MONTH).value == pytest.approx(6.5)


def test_empty_and_all_na_inputs() -> None:
    t = pd.DataFrame({"opened_at": stamps([]), "problem_id": pd.array([], dtype="string")})
    assert problem_linked_share(t, **MONTH).value is None
    p = pd.DataFrame(
        {
            "opened_at": stamps([None]),
            "resolved_at": stamps([None]),
            "closed_at": stamps([None]),
            "state": pd.array([None], dtype="string"),
        }
    )
    assert open_problem_age_median(p, **MONTH).value is None
    done = pd.DataFrame(
        {"opened_at": stamps(["2026-01-02"]), "resolved_at": stamps(["2026-01-03"])}
    )
    r = open_problem_age_median(done, **MONTH)
    assert (r.value, r.n, r.note) == (None, 0, "no problem was open at the period end")


def test_caller_frame_is_not_mutated_and_formulas_documented() -> None:
    p = pd.DataFrame({"opened_at": stamps(["2026-01-21"]), "resolved_at": stamps([None])})
    before = p.copy()
    open_problem_age_median(p, **MONTH)
    pd.testing.assert_frame_equal(p, before)
    for definition in DEFINITIONS:
        assert "Formula:" in definition.formula


def test_open_problem_ages_at_their_edges_by_hand() -> None:
    """End 2026-04-01: ages 30 and 90 days exactly are not 'older than' them; 120.33 days
    is (shown to three places); one opened at the end does not exist yet, one resolved at
    the end is still open. Open: 6.67, 12, 30, 90 and 120.33 days: median 30."""
    p = pd.DataFrame(
        {
            "problem_id": ["A", "B", "C", "D", "E", "F"],
            "opened_at": stamps(
                [
                    "2026-03-02 00:00",
                    "2026-01-01 00:00",
                    "2025-12-01 16:00",
                    "2026-04-01 00:00",
                    "2026-03-20 00:00",
                    "2026-03-25 08:00",
                ]
            ),
            "resolved_at": stamps([None, None, None, None, "2026-04-01 00:00", None]),
        }
    )
    quarter = {
        "start": pd.Timestamp("2026-01-01", tz="UTC"),
        "end": pd.Timestamp("2026-04-01", tz="UTC"),
    }
    r = open_problem_age_median(p, **quarter)
    assert (r.value, r.n, r.excluded, r.note) == (30.0, 5, 0, "")
    assert r.details == {
        "open": 5,
        "resolved_or_closed": 0,
        "closed_without_date": 0,
        "older_than_30_days": 2,
        "older_than_90_days": 1,
        "oldest_days": 120.333,
    }


def test_open_problems_half_a_day_past_30_and_90_days_are_older_than_them() -> None:
    """End 2026-04-01 00:00: opened 2026-03-01 12:00 is 30.5 days old, 2025-12-31 12:00 is
    90.5 days old: both older than 30 days, one older than 90."""
    p = pd.DataFrame(
        {
            "opened_at": stamps(["2026-03-01 12:00", "2025-12-31 12:00"]),
            "resolved_at": stamps([None, None]),
        }
    )
    r = open_problem_age_median(
        p, start=pd.Timestamp("2026-01-01", tz="UTC"), end=pd.Timestamp("2026-04-01", tz="UTC")
    )
    assert (r.value, r.details["older_than_30_days"], r.details["older_than_90_days"]) == (
        60.5,
        2,
        1,
    )


def test_linked_share_of_one_in_three() -> None:
    t = pd.DataFrame(
        {
            "opened_at": stamps(["2026-01-03", "2026-01-04", "2026-01-05"]),
            "problem_id": pd.array(["PRB1", None, ""], dtype="string"),
        }
    )
    r = problem_linked_share(t, **MONTH)
    assert r.value == pytest.approx(100 / 3)
    assert r.details == {"linked": 1, "unlinked": 2}
