"""Steps 2–4 in process on a tiny event log: tickets rebuilt, pauses, calendar, scope."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import steps_1_to_4
from csi_helpers.steps.process import kpi_values

# Two tickets, Mon 2026-01-05 .. Tue 2026-01-06 (UTC). INC1 (P1) waits on the user 10:00-12:00.
EVENTS = """\
number,updated,seq,state,priority
INC1,2026-01-05 08:00,0,New,1 - Critical
INC1,2026-01-05 09:00,1,In Progress,1 - Critical
INC1,2026-01-05 10:00,2,Awaiting User Info,1 - Critical
INC1,2026-01-05 12:00,3,In Progress,1 - Critical
INC1,2026-01-05 14:00,4,Resolved,1 - Critical
INC2,2026-01-05 17:00,0,New,3 - Moderate
INC2,2026-01-06 09:00,1,Resolved,3 - Moderate
INC3,2026-01-05 09:00,0,New,?
INC4,yesterday,0,New,3 - Moderate
"""

PARAMS = """\
service: {id: desk, name: Service desk}
cycle: {id: jan, start: 2026-01-05, end: 2026-01-06}
calendars:
  office: {timezone: UTC, start: "08:00", end: "18:00"}
sources:
  - name: log
    kind: ticket_events
    path: events.csv
    na_values: ["?"]
    timestamp_format: "%Y-%m-%d %H:%M"
    columns: {ticket_id: number, updated_at: updated, sequence: seq}
strategy:
  objectives:
    - id: o
      statement: fast
      csfs:
        - id: c
          statement: fast
          kpis:
            - {id: wall, kpi: mean_time_to_resolve, target: 8, direction: lower}
            - {id: office, kpi: mean_time_to_resolve, calendar: office, target: 8,
               direction: lower}
            - {id: paused, kpi: mean_time_to_resolve, calendar: office, pause_clock: true,
               target: 8, direction: lower}
            - {id: p1-only, kpi: mean_time_to_resolve, scope: {priority: ["1 - critical"]},
               target: 8, direction: lower}
            - {id: ack, kpi: mean_time_to_acknowledge, target: 1, direction: lower}
"""


def steps_2_to_4(tmp_path, events: str):
    """The measurement plan, step 4's context and its ledger for this event log."""
    (tmp_path / "events.csv").write_text(events)
    (tmp_path / "p.yaml").write_text(PARAMS)
    return steps_1_to_4(tmp_path / "p.yaml", tmp_path / "run")


@pytest.fixture
def processed(tmp_path):
    plan, ctx, ledger = steps_2_to_4(tmp_path, EVENTS)
    return plan.set_index("kpi_id"), ledger, kpi_values(ctx, plan, ledger).set_index("kpi_id"), ctx


def test_step_4_quarantines_times_more_than_a_year_after_the_cycle(tmp_path):
    """The cycle ends on 2026-01-07 (exclusive): 2027-01-08 is out of range, 2027-01-06 is not,
    whatever the date the run is made on."""
    late = "INC5,2027-01-06 10:00,0,New,3 - Moderate\nINC6,2027-01-08 10:00,0,New,3 - Moderate\n"
    _, _, ledger = steps_2_to_4(tmp_path, EVENTS + late)
    assert (ledger.loc[0, "rows_in"], ledger.loc[0, "rows_out"]) == (11, 9)
    assert ledger.set_index("reason").loc["out of range updated_at", "example"] == (
        "row 11: '2027-01-08 10:00' (allowed 1990-01-01 to 2027-01-07)"
    )


def test_event_log_feeds_ticket_kpis_with_derived_fields(processed):
    plan, ledger, _values, ctx = processed
    assert (plan["measurable"] == "yes").all(), plan["to_close_gap"].tolist()
    assert plan.loc["ack", "fields_used"].startswith("opened_at←")
    assert "acknowledged_at←(history of state)" in plan.loc["ack", "fields_used"]
    assert ledger.loc[0, "rows_in"] == 9 and ledger.loc[0, "rows_out"] == 8
    tickets = ctx.read_table("process/tickets/log")
    assert tickets["ticket_id"].tolist() == ["INC1", "INC2", "INC3"]
    assert tickets["priority"].isna().tolist() == [False, False, True]  # "?" means missing


def test_clock_pause_and_scope_change_the_figure_as_defined(processed):
    _, _, values, _ = processed
    # INC1 08:00→14:00 = 6 h, INC2 Mon 17:00→Tue 09:00 = 16 h; INC3 is unresolved.
    assert values.loc["wall", "value"] == pytest.approx(11.0)
    assert values.loc["wall", "excluded"] == 1
    assert values.loc["wall", "note"].startswith(
        "1 of 9 rows of source 'log' (11.1 %) quarantined (unparseable updated at: 1); "
        "excluded here; "
    )
    # Office hours 08-18: INC1 6 h, INC2 Mon 17-18 + Tue 08-09 = 2 h.
    assert values.loc["office", "value"] == pytest.approx(4.0)
    # The 2 h pause of INC1 stops the clock: (4 + 2) / 2.
    assert values.loc["paused", "value"] == pytest.approx(3.0)
    assert values.loc["p1-only", "value"] == pytest.approx(6.0)
    assert values.loc["p1-only", "n"] == 1
    # Acknowledged = first "In Progress": INC1 after 1 h; INC2 never, INC3 never.
    assert values.loc["ack", "value"] == pytest.approx(1.0)
    assert json.loads(values.loc["paused", "details"])["paused_hours"] == pytest.approx(2.0)
    assert json.loads(values.loc["office", "details"])["paused_hours"] == 0.0


def test_a_canonical_table_changed_since_step_4_is_named_when_read(processed):
    """Tables are checked where they are read, too: a column of another type names its file."""
    from csi_helpers.errors import RunFolderError
    from csi_helpers.steps.common import kpi_table

    _plan, _ledger, _values, ctx = processed
    path = ctx.run_dir / "process" / "tickets" / "log.parquet"
    tickets = pd.read_parquet(path)
    assert kpi_table(ctx, "log", "tickets").equals(tickets)
    tickets.astype({"reopen_count": "float64"}).to_parquet(path, index=False)
    with pytest.raises(RunFolderError, match=r"log\.parquet: column 'reopen_count' holds float64"):
        kpi_table(ctx, "log", "tickets")


OUTAGES = """\
service: {id: web, name: Web shop}
cycle: {id: q3, start: 2026-07-01, end: 2026-09-30}
sources:
  - {name: outages, kind: downtime, path: outages.csv}
%s
strategy:
  objectives:
    - id: o
      statement: up
      csfs:
        - id: c
          statement: up
          kpis:
            - {id: avail, kpi: availability, target: 99.9, direction: higher}
            - {id: down, kpi: downtime_minutes, target: 60, direction: lower}
"""
SAMPLES = "  - {name: probes, kind: monitoring, path: probes.csv}"


def _availability_card(tmp_path, extra_source: str) -> pd.DataFrame:
    from csi_helpers.kpis.scorecard import build_scorecard
    from csi_helpers.steps.process import data_coverage
    from csi_helpers.strategy import kpi_tree

    (tmp_path / "outages.csv").write_text("start,end\n2026-05-04 10:00,2026-05-04 11:00\n")
    (tmp_path / "probes.csv").write_text("timestamp,requests\n2026-08-01 10:00,5\n")
    (tmp_path / "p.yaml").write_text(OUTAGES % extra_source)
    plan, ctx, ledger = steps_1_to_4(tmp_path / "p.yaml", tmp_path / "run")
    data_coverage(ctx, ledger)
    values = kpi_values(ctx, plan, ledger)
    return build_scorecard(kpi_tree(ctx.params.strategy), values).set_index("kpi_id")


def test_a_cycle_without_any_record_is_no_data_not_green(tmp_path):
    """Issue 17: an outage list whose only outage lies before the cycle, and no other source,
    showed availability 100 % and downtime 0 min as green on n = 0."""
    card = _availability_card(tmp_path, "")
    assert card["status"].tolist() == ["grey", "grey"]
    assert card["actual"].isna().all()
    assert card.loc["avail", "note"].startswith("no data: no source has a record in the cycle")


def test_a_cycle_without_outages_but_with_samples_is_measured(tmp_path):
    """The same outage list beside a probe with a sample in the cycle: no outage happened."""
    card = _availability_card(tmp_path, SAMPLES)
    assert card.loc["avail", ["actual", "status"]].tolist() == [100.0, "green"]
    assert card.loc["down", ["actual", "status"]].tolist() == [0.0, "green"]


def test_an_event_log_with_teams_measures_reassignments(tmp_path):
    """An event log that records the team per event and no reassignment counter (issue 18):
    step 2 plans the reassignment KPIs from the history of assignment_group, step 4 counts
    the moves. INC1 moves Desk → Network → Desk (2), INC2 stays with Desk (0): of the two
    tickets resolved, one was reassigned."""
    events = (
        "number,updated,seq,state,priority,group\n"
        "INC1,2026-01-05 08:00,0,New,1 - Critical,Desk\n"
        "INC1,2026-01-05 09:00,1,In Progress,1 - Critical,Network\n"
        "INC1,2026-01-05 10:00,2,In Progress,1 - Critical,\n"
        "INC1,2026-01-05 12:00,3,In Progress,1 - Critical,Desk\n"
        "INC1,2026-01-05 14:00,4,Resolved,1 - Critical,Desk\n"
        "INC2,2026-01-05 17:00,0,New,3 - Moderate,Desk\n"
        "INC2,2026-01-06 09:00,1,Resolved,3 - Moderate,Desk\n"
    )
    params = PARAMS.replace(
        "columns: {ticket_id: number, updated_at: updated, sequence: seq}",
        "columns: {ticket_id: number, updated_at: updated, sequence: seq, assignment_group: group}",
    ).replace(
        "            - {id: ack, kpi: mean_time_to_acknowledge, target: 1, direction: lower}",
        "            - {id: moves, kpi: reassignment_rate, target: 20, direction: lower}\n"
        "            - {id: fix, kpi: first_assignment_resolution, target: 70, direction: higher}",
    )
    (tmp_path / "events.csv").write_text(events)
    (tmp_path / "p.yaml").write_text(params)
    plan, ctx, ledger = steps_1_to_4(tmp_path / "p.yaml", tmp_path / "run")
    plan = plan.set_index("kpi_id")
    assert plan.loc[["moves", "fix"], "measurable"].tolist() == ["yes", "yes"]
    assert "reassignment_count←(history of group)" in plan.loc["moves", "fields_used"]
    tickets = ctx.read_table("process/tickets/log").set_index("ticket_id")
    assert tickets["reassignment_count"].to_dict() == {"INC1": 2, "INC2": 0}
    values = kpi_values(ctx, plan.reset_index(), ledger).set_index("kpi_id")["value"]
    assert (values["moves"], values["fix"]) == (50.0, 50.0)
