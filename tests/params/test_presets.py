"""Presets: a Jira or ServiceNow export onboarded by naming the preset."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.errors import ParamsError
from csi_helpers.params import Source, load_params, preset_names
from csi_helpers.processing.validate import canonical_table

JIRA = """\
Issue key,Summary,Status,Priority,Issue Type,Created,Resolved
SD-1,Checkout down,Done,Highest,Incident,05/Jan/26 9:15 AM,05/Jan/26 11:45 AM
SD-2,Slow search,In Progress,Medium,Incident,06/Jan/26 2:00 PM,
"""


def test_jira_export_is_typed_through_its_preset(tmp_path):
    path = tmp_path / "jira.csv"
    path.write_text(JIRA)
    source = Source(name="jira", kind="tickets", path=path, preset="jira")
    raw = pd.read_csv(path, dtype=str)
    table, quarantine = canonical_table(raw, source)
    assert quarantine.empty
    assert table["ticket_id"].tolist() == ["SD-1", "SD-2"]
    assert table["priority"].tolist() == ["1 - Critical", "3 - Moderate"]
    hours = (table["resolved_at"] - table["opened_at"]).dt.total_seconds() / 3600
    assert hours.iloc[0] == pytest.approx(2.5) and pd.isna(hours.iloc[1])


def test_params_keys_win_over_the_preset():
    source = Source(
        name="s",
        kind="ticket_events",
        path="x.csv",
        preset="servicenow",
        columns={"state": "my_state"},
        na_values=["n/a"],
    )
    assert source.columns["state"] == "my_state"
    assert source.columns["updated_at"] == "sys_updated_at"  # the rest of the preset stays
    assert source.na_values == ["n/a"]


def test_unknown_preset_or_kind_is_explained(tmp_path):
    assert preset_names() == ["jira", "servicenow"]
    path = tmp_path / "p.yaml"
    path.write_text(
        "service: {id: s, name: S}\ncycle: {id: c, start: 2026-01-01, end: 2026-01-31}\n"
        "sources:\n  - {name: m, kind: monitoring, path: m.csv, preset: jira}\n"
    )
    with pytest.raises(ParamsError, match="preset 'jira' has no defaults for kind 'monitoring'"):
        load_params(path)
