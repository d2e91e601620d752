"""Change management KPIs on small tables."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.kpis.changes import (
    DEFINITIONS,
    change_success_rate,
    emergency_change_share,
    incidents_caused_by_changes,
)

MONTH = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": pd.Timestamp("2026-02-01", tz="UTC")}
BY_ID = {d.id: d for d in DEFINITIONS}


def stamps(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")


def changes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "change_id": ["C1", "C2", "C3", "C4", "C5", "C6", "C7"],
            "type": pd.array(
                ["Normal", "EMERGENCY", "Standard", "emergency ", None, "Normal", "Emergency"],
                dtype="string",
            ),
            "planned_start": stamps(
                [
                    "2026-01-02",
                    "2026-01-03",
                    "2026-01-04",
                    "2026-01-05",
                    "2026-01-06",
                    "2026-01-07",
                    "2026-01-30",
                ]
            ),
            "planned_end": stamps(
                [
                    "2026-01-02",
                    "2026-01-03",
                    "2026-01-04",
                    "2026-01-05",
                    "2026-01-06",
                    None,
                    "2026-02-02",
                ]
            ),
            "actual_start": stamps([None] * 7),
            "actual_end": stamps(
                ["2026-01-02", "2026-01-03", None, "2026-01-05", "2026-01-06", None, None]
            ),
            "outcome": pd.array(
                [
                    "Successful",
                    "successful",
                    "SUCCESSFUL",
                    "Failed",
                    None,
                    "Successful",
                    "Successful",
                ],
                dtype="string",
            ),
        }
    )
    # Completed in January: C1–C5 (C3 by its planned end). C6 has no end date (began in
    # January: excluded and counted); C7 is planned to end in February.


def test_change_success_rate_matches_outcomes_case_insensitively() -> None:
    r = change_success_rate(changes(), **MONTH)
    assert (r.value, r.n, r.excluded) == (75.0, 4, 2)  # 3 of C1–C4; C5 no outcome, C6 no end
    assert "no outcome" in r.note and "no actual or planned end" in r.note
    custom = change_success_rate(changes(), **MONTH, successful=("successful", "failed"))
    assert custom.value == 100.0


def test_emergency_change_share() -> None:
    r = emergency_change_share(changes(), **MONTH)
    assert (r.value, r.n, r.excluded) == (50.0, 4, 2)  # C2, C4 of C1–C4; C5 no type, C6 no end
    assert r.details["emergency"] == 2


def test_incidents_caused_by_changes() -> None:
    t = pd.DataFrame(
        {
            "opened_at": stamps(
                ["2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06", "2026-02-02"]
            ),
            "caused_by": pd.array(["CHG1", None, "", "CHG1", "CHG9"], dtype="string"),
        }
    )
    r = incidents_caused_by_changes(t, **MONTH)
    assert (r.value, r.n) == (2.0, 4)
    assert r.details == {"share_pct": 50.0, "changes": 1}


def test_empty_and_all_na_inputs() -> None:
    c = changes().iloc[:0]
    nothing = change_success_rate(c, **MONTH)
    assert (nothing.value, nothing.note) == (None, "no change completed in the period")
    assert emergency_change_share(c, **MONTH).value is None
    na = changes().assign(outcome=pd.array([None] * 7, dtype="string"))
    assert change_success_rate(na, **MONTH).value is None
    t = pd.DataFrame({"opened_at": stamps([]), "caused_by": pd.array([], dtype="string")})
    assert incidents_caused_by_changes(t, **MONTH).value is None


def test_caller_frame_is_not_mutated() -> None:
    c = changes()
    before = c.copy()
    for definition in DEFINITIONS[:2]:
        definition(c, **MONTH)
    pd.testing.assert_frame_equal(c, before)


def test_options_through_the_definition() -> None:
    d = BY_ID["change_success_rate"]
    assert d.validate_options({"successful": ["Successful", "Completed"]}) == {
        "successful": ("Successful", "Completed")
    }
    with pytest.raises(ValueError, match="did you mean 'successful'"):
        d.validate_options({"sucessful": ["Successful"]})
    with pytest.raises(ValueError, match="option successful"):
        d.validate_options({"successful": "Successful"})  # a list, not one string
    r = d(changes(), **MONTH, options={"successful": ["failed"]})
    assert r.value == 25.0
    assert r.details == {"successful": 1, "others": 3, "matched": ["failed"]}  # of 4
    assert BY_ID["emergency_change_share"].option_defaults() == {"emergency": ("Emergency",)}
    for definition in DEFINITIONS:
        assert "Formula:" in definition.formula


def test_details_and_exclusions_by_hand() -> None:
    """C1–C4 completed with an outcome (3 successful, 1 failed); C5 and now C2 without an
    outcome (2 missing) and C6 without an end (1 undated): 3 left out. With no outcome at
    all, nothing is measured and all 6 are left out (5 missing, 1 undated)."""
    c = changes()
    r = change_success_rate(c, **MONTH)
    assert r.details == {"successful": 3, "others": 1, "matched": ["Successful"]}
    two_missing = c.assign(outcome=c["outcome"].where(c["change_id"] != "C2", None))
    r = change_success_rate(two_missing, **MONTH)
    assert (r.value, r.n, r.excluded) == (pytest.approx(100 * 2 / 3), 3, 3)
    assert r.details == {"successful": 2, "others": 1, "matched": ["Successful"]}
    none = change_success_rate(c.assign(outcome=pd.array([None] * 7, dtype="string")), **MONTH)
    assert (none.value, none.n, none.excluded) == (None, 0, 6)


def test_share_of_incidents_caused_by_changes_is_not_rounded() -> None:
    t = pd.DataFrame(
        {
            "opened_at": stamps(["2026-01-03", "2026-01-04", "2026-01-05"]),
            "caused_by": pd.array(["CHG1", "CHG2", None], dtype="string"),
        }
    )
    r = incidents_caused_by_changes(t, **MONTH)
    assert r.details == {"share_pct": pytest.approx(200 / 3), "changes": 2}
