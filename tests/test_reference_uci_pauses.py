"""The pauses of the real UCI ServiceNow log against a count straight from the raw file.

Quick (about 7 s): only the four columns pauses need are mapped. The oracle
(``tests/uci_pauses.py``) reads the gzip'd CSV with the standard library and shares no
code with the package, so an empty or thinned result cannot pass: 6,398 pauses, 5,852 of
them Awaiting User Info, 96,396,771 minutes in all (measured by the oracle).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from uci_pauses import uci_pauses

from csi_helpers.connectors import read_raw
from csi_helpers.params import Source
from csi_helpers.processing.events import pauses_from_events
from csi_helpers.processing.validate import canonical_table

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
UCI = REAL / "uci_incident_event_log" / "incident_event_log.csv.gz"


@pytest.fixture(scope="module")
def uci_history() -> Path:
    if not UCI.is_file():
        pytest.skip(f"shared real data not found at {REAL} (expected ../shared beside the repo)")
    return UCI


def test_pauses_per_state_and_their_length_agree_with_the_raw_file(uci_history: Path) -> None:
    source = Source(
        name="uci",
        kind="ticket_events",
        path=uci_history,
        columns={
            "ticket_id": "number",
            "updated_at": "sys_updated_at",
            "sequence": "sys_mod_count",
            "state": "incident_state",
        },
        timestamp_format="%d/%m/%Y %H:%M",
        na_values=["?"],
    )
    events, quarantine = canonical_table(read_raw(source), source)
    assert quarantine.empty
    pauses = pauses_from_events(events)
    count, minutes = uci_pauses(uci_history)
    print(f"\nUCI pauses: {dict(count)}; minutes {dict(minutes)}")
    assert sum(count.values()) == 6_398 and count["Awaiting User Info"] == 5_852  # the oracle
    assert pauses["state"].value_counts().to_dict() == dict(count)
    length = (pauses["end"] - pauses["start"]).dt.total_seconds() // 60
    assert length.groupby(pauses["state"]).sum().astype(int).to_dict() == dict(minutes)
