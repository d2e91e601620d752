"""Real status-change logs through the workbook's own path: read_raw → canonical_table → tickets.

The UCI ServiceNow audit log must give back the figures of its REFERENCE_FIGURES.md,
computed here from the rebuilt tickets table (not from the reference script). The
Rabobank activity log is a smaller sanity check on an export without an update counter.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from uci_pauses import uci_pauses

from csi_helpers.connectors import read_raw
from csi_helpers.params import Source
from csi_helpers.processing.events import (
    StateMap,
    pauses_from_events,
    state_map,
    tickets_from_events,
)
from csi_helpers.processing.validate import canonical_table

pytestmark = pytest.mark.slow

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
UCI = REAL / "uci_incident_event_log" / "incident_event_log.csv.gz"
RABOBANK = REAL / "bpic2014_rabobank_itil"

if not UCI.is_file():
    pytest.skip(
        f"shared real data not found at {REAL} (expected ../shared beside the repo)",
        allow_module_level=True,
    )

UCI_SOURCE = Source(
    name="uci",
    kind="ticket_events",
    path=UCI,
    columns={
        "ticket_id": "number",
        "updated_at": "sys_updated_at",
        "sequence": "sys_mod_count",
        "state": "incident_state",
        "opened_at": "opened_at",
        "resolved_at": "resolved_at",
        "closed_at": "closed_at",
        "priority": "priority",
        "category": "category",
        "assignment_group": "assignment_group",
        "reassignment_count": "reassignment_count",
        "reopen_count": "reopen_count",
        "made_sla": "made_sla",
        "problem_id": "problem_id",
        "caused_by": "caused_by",
    },
    timestamp_format="%d/%m/%Y %H:%M",
    na_values=["?"],  # the export writes `?` for missing
)


@pytest.fixture(scope="module")
def uci_raw() -> pd.DataFrame:
    return read_raw(UCI_SOURCE)


@pytest.fixture(scope="module")
def uci_events(uci_raw: pd.DataFrame) -> pd.DataFrame:
    table, quarantine = canonical_table(uci_raw, UCI_SOURCE)
    assert quarantine.empty, quarantine["reason"].value_counts().to_dict()
    return table


@pytest.fixture(scope="module")
def uci_tickets(uci_events: pd.DataFrame) -> pd.DataFrame:
    return tickets_from_events(uci_events)  # speed: benchmarks/bench_data.py


def hours_to_resolve(tickets: pd.DataFrame) -> pd.Series:
    return ((tickets["resolved_at"] - tickets["opened_at"]).dt.total_seconds() / 3600).dropna()


def test_raw_snapshot_keeps_the_question_marks(uci_raw: pd.DataFrame) -> None:
    assert uci_raw.shape == (141_712, 36)
    assert (uci_raw["resolved_at"] == "?").sum() == 3_141  # raw stays as exported
    # Without na_values the `?` timestamps would be quarantined as unparseable:
    literal = UCI_SOURCE.model_copy(update={"na_values": []})
    _, quarantine = canonical_table(uci_raw, literal)
    assert quarantine["reason"].value_counts().to_dict() == {"unparseable resolved_at: '?'": 3_141}


def test_every_event_row_is_typed(uci_events: pd.DataFrame) -> None:
    assert len(uci_events) == 141_712
    assert uci_events["ticket_id"].nunique() == 24_918
    assert uci_events["sequence"].notna().all()
    assert (uci_events["state"] == "-100").sum() == 5  # a tool code, in no state list
    assert uci_events["assignment_group"].ne("?").all()  # `?` is missing in text columns too


def test_reference_figures(uci_tickets: pd.DataFrame) -> None:
    t = uci_tickets
    hours = hours_to_resolve(t)
    median, p90 = np.quantile(hours, [0.5, 0.9])  # linear interpolation, as pandas
    sla = t["made_sla"].astype(bool)
    categories = t["category"].value_counts().head(5)
    groups = t["assignment_group"].value_counts().head(5)
    priorities = t["priority"].value_counts(dropna=False)
    print(
        f"incidents {len(t):,}; without resolved_at {t['resolved_at'].isna().sum():,}\n"
        f"opened→resolved hours (n = {len(hours):,}): median {median:.2f} p90 {p90:.2f}\n"
        f"made_sla on last update {sla.mean():.4f} ({sla.sum():,} of {len(t):,})\n"
        f"top categories {categories.to_dict()}\n"
        f"top groups {groups.to_dict()} (missing: {t['assignment_group'].isna().sum():,})\n"
        f"priorities {priorities.to_dict()}"
    )
    assert len(t) == t["ticket_id"].nunique() == 24_918
    assert t["state"].eq("Closed").all()
    assert t["resolved_at"].isna().sum() == 1_556
    assert (t["resolved_at"] < t["opened_at"]).sum() == 0
    assert len(hours) == 23_362
    assert f"{median:.2f}" == "22.10"
    assert f"{p90:.2f}" == "381.55"
    assert (int(sla.sum()), f"{sla.mean():.4f}") == (15_803, "0.6342")
    assert list(categories.items()) == [
        ("Category 42", 3_558),
        ("Category 26", 3_338),
        ("Category 53", 2_678),
        ("Category 46", 2_432),
        ("Category 32", 1_522),
    ]
    assert t["assignment_group"].isna().sum() == 2_157
    assert list(groups.items()) == [
        ("Group 70", 9_444),
        ("Group 25", 1_243),
        ("Group 39", 1_199),
        ("Group 24", 1_060),
        ("Group 23", 811),
    ]
    assert priorities.to_dict() == {
        "3 - Moderate": 23_466,
        "4 - Low": 774,
        "2 - High": 408,
        "1 - Critical": 270,
    }


def test_history_agrees_with_the_export(
    uci_events: pd.DataFrame, uci_tickets: pd.DataFrame
) -> None:
    from_history = tickets_from_events(uci_events.assign(reopen_count=pd.NA))
    same = (from_history["reopen_count"] == uci_tickets["reopen_count"]).mean()
    print(f"reopen_count from history equals the export's for {same:.4f} of incidents")
    assert same > 0.999
    assert uci_tickets["reopen_after_close_count"].sum() == 12
    # opened_at is the export's (a user-reported time that can be edited): in 5 incidents it
    # is later than the first update, and in 2 of them later than the acknowledgement.
    early = uci_tickets["acknowledged_at"] < uci_tickets["opened_at"]
    assert early.fillna(False).sum() == 2


def test_filling_blank_resolutions_from_the_states(uci_events: pd.DataFrame) -> None:
    # The other definition: 1,543 of the 1,556 blank resolved_at went through Resolved.
    filled = tickets_from_events(uci_events, fill_missing_times=True)
    hours = hours_to_resolve(filled)
    median, p90 = np.quantile(hours, [0.5, 0.9])
    print(f"with fill_missing_times: n = {len(hours):,}, median {median:.2f} p90 {p90:.2f}")
    assert filled["resolved_at"].isna().sum() == 13


def test_pauses(uci_events: pd.DataFrame) -> None:
    """With every column mapped, the pauses still agree with the count straight from the
    raw file (``tests/uci_pauses.py``; the quick test maps only four columns)."""
    pauses = pauses_from_events(uci_events)
    print(f"pauses: {len(pauses):,}, {pauses['state'].value_counts().to_dict()}")
    assert pauses["end"].notna().all()
    assert (pauses["end"] >= pauses["start"]).all()
    assert set(pauses["state"]) <= set(StateMap().paused)
    count, minutes = uci_pauses(UCI)
    assert pauses["state"].value_counts().to_dict() == dict(count)
    length = (pauses["end"] - pauses["start"]).dt.total_seconds() // 60
    assert length.groupby(pauses["state"]).sum().astype(int).to_dict() == dict(minutes)


# --------------------------------------------------------------------------- Rabobank

RABOBANK_STATES = {  # HP Service Manager activity types; the others are in no list
    "active": ["Open", "Reopen", "Assignment", "Reassignment", "Status Change", "Operator Update"],
    "acknowledged": ["Assignment"],
    "paused": ["Pending vendor"],
    "resolved": ["Resolved"],
    "closed": ["Closed"],
}


def test_rabobank_activity_log_gives_one_ticket_per_incident() -> None:
    activities = Source(
        name="rabobank",
        kind="ticket_events",
        path=RABOBANK / "incident_activity_sample4000.csv",
        columns={
            "ticket_id": "incident_id",
            "updated_at": "data_stamp",
            "state": "incident_activity_type",
        },
        timezone="Europe/Amsterdam",  # naive Dutch wall-clock time (SOURCE.md)
        states=RABOBANK_STATES,
    )
    raw = read_raw(activities)
    events, quarantine = canonical_table(raw, activities)
    assert (len(raw), len(quarantine)) == (39_911, 0)
    tickets = tickets_from_events(events, states=state_map(activities.states))
    incidents = pd.read_csv(RABOBANK / "incidents_sample4000.csv", usecols=["incident_id"])
    print(
        f"\nRabobank: {len(tickets):,} tickets from {len(events):,} activities; "
        f"incidents file: {incidents['incident_id'].nunique():,}"
    )
    assert len(tickets) == tickets["ticket_id"].nunique() == incidents["incident_id"].nunique()
    assert set(tickets["ticket_id"]) == set(incidents["incident_id"])
    first = events.groupby("ticket_id")["updated_at"].min()
    assert tickets.set_index("ticket_id")["opened_at"].eq(first).all()  # no opened_at column
