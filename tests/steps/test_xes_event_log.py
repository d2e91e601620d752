"""An XES event log mapped onto ``ticket_events`` gives step 4 what the same log as CSV gives."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from conftest import steps_1_to_4
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.process import kpi_values
from csi_helpers.tables import catalogue

# ticket, priority, [(state, time, seq)]: INC1 waits on the user 10:00-12:00; INC3's
# priority is "?" (missing); INC4's second event has no time (quarantined).
TICKETS = [
    (
        "INC1",
        "1 - Critical",
        [
            ("New", "2026-01-05 08:00", "0"),
            ("In Progress", "2026-01-05 09:00", "1"),
            ("Awaiting User Info", "2026-01-05 10:00", "2"),
            ("In Progress", "2026-01-05 12:00", "3"),
            ("Resolved", "2026-01-05 14:00", "4"),
        ],
    ),
    (
        "INC2",
        "3 - Moderate",
        [("New", "2026-01-05 17:00", "0"), ("Resolved", "2026-01-06 09:00", "1")],
    ),
    ("INC3", "?", [("New", "2026-01-05 09:00", "0")]),
    ("INC4", "3 - Moderate", [("New", "2026-01-06 10:00", "0"), ("In Progress", None, "1")]),
]

STRATEGY = """\
service: {id: desk, name: Service desk}
cycle: {id: jan, start: 2026-01-05, end: 2026-01-06}
calendars:
  office: {timezone: UTC, start: "08:00", end: "18:00"}
strategy:
  objectives:
    - id: o
      statement: fast
      csfs:
        - id: c
          statement: fast
          kpis:
            - {id: wall, kpi: mean_time_to_resolve, target: 8, direction: lower}
            - {id: paused, kpi: mean_time_to_resolve, calendar: office, pause_clock: true,
               target: 8, direction: lower}
            - {id: ack, kpi: mean_time_to_acknowledge, target: 1, direction: lower}
"""

# What an analyst writes for each export: the XES keys, or the CSV's own header.
XES_SOURCE = """\
sources:
  - name: log
    kind: ticket_events
    path: events.xes.gz
    na_values: ["?"]
    columns:
      ticket_id: "case:concept:name"
      priority: "case:priority"
      state: "concept:name"
      updated_at: "time:timestamp"
      sequence: seq
"""
CSV_SOURCE = """\
sources:
  - name: log
    kind: ticket_events
    path: events.csv
    na_values: ["?"]
    timestamp_format: "%Y-%m-%d %H:%M"
    columns: {ticket_id: number, updated_at: updated, sequence: seq}
"""


def write_xes(path: Path) -> None:
    """The tickets as an XES log: priority a trace attribute, times as XES dates (ISO, UTC)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<log xes.version="1.0">']
    for ticket, priority, events in TICKETS:
        lines.append(f'<trace><string key="concept:name" value="{ticket}"/>')
        lines.append(f'<string key="priority" value="{priority}"/>')
        for state, time, seq in events:
            iso = "" if time is None else time.replace(" ", "T") + ":00.000+00:00"
            stamp = f'<date key="time:timestamp" value="{iso}"/>' if iso else ""
            lines.append(
                f'<event><string key="concept:name" value="{state}"/>{stamp}'
                f'<int key="seq" value="{seq}"/>'
                '<string key="lifecycle:transition" value="complete"/></event>'
            )
        lines.append("</trace>")
    lines.append("</log>")
    path.write_bytes(gzip.compress("\n".join(lines).encode()))


def write_csv(path: Path) -> None:
    rows = [
        {"number": t, "updated": time, "seq": seq, "state": state, "priority": priority}
        for t, priority, events in TICKETS
        for state, time, seq in events
    ]
    pd.DataFrame(rows).to_csv(path, index=False)


def steps_2_to_4(
    folder: Path, source: str
) -> tuple[pd.DataFrame, StepContext, pd.DataFrame, pd.DataFrame]:
    """Step 2's plan, step 4's context, KPI values and ledger for one way of giving the log."""
    folder.mkdir()
    write_xes(folder / "events.xes.gz")
    write_csv(folder / "events.csv")
    params = folder / "p.yaml"
    params.write_text(STRATEGY + source)
    plan, ctx, ledger = steps_1_to_4(params, folder / "run")
    return plan, ctx, kpi_values(ctx, plan, ledger), ledger


def test_xes_log_mapped_by_columns_gives_the_csv_canonical_tables(tmp_path):
    xes_plan, xes, xes_kpis, xes_ledger = steps_2_to_4(tmp_path / "xes", XES_SOURCE)
    csv_plan, csv, csv_kpis, csv_ledger = steps_2_to_4(tmp_path / "csv", CSV_SOURCE)

    assert (xes_plan["measurable"] == "yes").all(), xes_plan["to_close_gap"].tolist()
    assert xes_plan["measurable"].tolist() == csv_plan["measurable"].tolist()
    snapshot = xes.read_table(catalogue.raw_snapshot("log"))
    assert snapshot.columns.tolist() == [
        "case:concept:name",
        "case:priority",
        "concept:name",
        "time:timestamp",
        "seq",
        "lifecycle:transition",
    ]
    provenance = xes.read_table("gather/provenance").iloc[0]
    assert (provenance["format"], provenance["rows"]) == ("xes", 10)

    for name in (catalogue.canonical_table("log"), catalogue.rebuilt_tickets("log")):
        pd.testing.assert_frame_equal(xes.read_table(name), csv.read_table(name))
    pd.testing.assert_frame_equal(xes_ledger, csv_ledger)
    pd.testing.assert_frame_equal(xes_kpis, csv_kpis)
    quarantined = xes.read_table(catalogue.quarantine("log"))
    assert quarantined["case:concept:name"].tolist() == ["INC4"]
    tickets = xes.read_table(catalogue.rebuilt_tickets("log"))
    assert tickets["ticket_id"].tolist() == ["INC1", "INC2", "INC3", "INC4"]
