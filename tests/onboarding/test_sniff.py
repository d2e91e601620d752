"""``csi params sniff`` on small exports with a known answer (issue 18 point 2): the kind of
each, its columns, timestamp format and offsets, missing-value texts, an event log's states,
XES; a file with nothing recognisable is refused with a message that says what to do."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from csi_helpers.cli import main
from csi_helpers.onboarding.proposal import proposal_text
from csi_helpers.onboarding.sniff import group_states, sniff_file
from csi_helpers.params import load_params


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tickets_csv(path: Path, *, stamp: str = "2026-03-{d:02d} 10:{m:02d}") -> Path:
    rows = ["Issue key,Created,Resolved,Priority,Status"]
    for i in range(40):
        opened = stamp.format(d=1 + i % 20, m=i % 60)
        resolved = stamp.format(d=2 + i % 20, m=i % 60) if i % 4 else "?"
        rows.append(f"SD-{i},{opened},{resolved},P{1 + i % 3},Done")
    return write(path, rows)


def events_csv(path: Path) -> Path:
    rows = ["ticket,timestamp,status,group"]
    for i in range(30):
        day = 1 + i % 25
        for hour, (status, group) in enumerate(
            [("New", "Desk"), ("In Progress", "Network"), ("On Hold", "Network"),
             ("Resolved", "Network"), ("Closed", "")]
        ):  # fmt: skip
            rows.append(f"T{i},2026-04-{day:02d}T0{hour}:00:00+02:00,{status},{group}")
    return write(path, rows)


@pytest.mark.parametrize(
    ("make", "kind", "columns"),
    [
        (tickets_csv, "tickets", {"ticket_id": "Issue key", "opened_at": "Created",
                                  "resolved_at": "Resolved", "priority": "Priority"}),
        (events_csv, "ticket_events", {"ticket_id": "ticket", "updated_at": "timestamp",
                                       "state": "status", "assignment_group": "group"}),
    ],
)  # fmt: skip
def test_the_kind_and_columns_of_an_export(tmp_path, make, kind, columns):
    guess = sniff_file(make(tmp_path / "export.csv"))
    assert guess.kind == kind
    assert columns.items() <= guess.columns.items()


def test_monitoring_changes_and_a_survey_are_told_apart(tmp_path):
    cpu = write(
        tmp_path / "web_cpu_utilization.csv",
        ["timestamp,value", *(f"2026-05-01 {h:02d}:00:00,{40 + h}" for h in range(24))],
    )
    guess = sniff_file(cpu)
    assert (guess.kind, guess.columns["utilisation"], guess.scales) == (
        "monitoring", "value", {"utilisation": "percent"}
    )  # fmt: skip
    changes = write(
        tmp_path / "changes.csv",
        ["change_id,type,actual_start,actual_end,outcome",
         *(f"CHG{i},Normal,2026-05-0{1 + i % 9} 10:00,2026-05-0{1 + i % 9} 11:00,Successful"
           for i in range(12))],
    )  # fmt: skip
    assert sniff_file(changes).kind == "changes"
    survey = write(
        tmp_path / "csat.csv",
        ["survey_id,sent_at,responded_at,score",
         *(f"S{i},2026-05-01 10:00,2026-05-02 10:00,{1 + i % 5}" for i in range(12))],
    )  # fmt: skip
    assert sniff_file(survey).kind == "survey"


@pytest.mark.parametrize(
    ("stamp", "fmt"),
    [
        ("{d:02d}/03/2026 10:{m:02d}", "%d/%m/%Y %H:%M"),  # days up to 20: day first
        ("03/{d:02d}/2026 10:{m:02d}", "%m/%d/%Y %H:%M"),  # the same, month first
        ("2026-03-{d:02d} 10:{m:02d}", "%Y-%m-%d %H:%M"),
    ],
)
def test_the_timestamp_format_is_the_one_that_reads_every_value(tmp_path, stamp, fmt):
    guess = sniff_file(tickets_csv(tmp_path / "t.csv", stamp=stamp))
    assert (guess.timestamp_format, guess.offsets) == (fmt, False)
    assert guess.na_values == ["?"]  # the unresolved tickets


def test_offsets_and_the_states_of_an_event_log(tmp_path):
    guess = sniff_file(events_csv(tmp_path / "events.csv"))
    assert guess.offsets and guess.timestamp_format is None  # ISO 8601 with offsets
    assert {cls: sorted(names) for cls, names in guess.states.items()} == {
        "active": ["In Progress", "New"],  # by their count in the file; sorted here
        "acknowledged": ["In Progress"],
        "paused": ["On Hold"],
        "resolved": ["Resolved"],
        "closed": ["Closed"],
    }
    assert guess.vocabularies["state"]["Closed"] == 30  # counted over the whole file


def test_state_names_are_grouped_by_whole_words():
    got = group_states(["Problem Closure", "Closed", "Quality Indicator Fixed", "Resolved",
                        "Awaiting Vendor", "-100"])  # fmt: skip
    assert got["closed"] == ["Closed"] and got["resolved"] == ["Resolved"]
    assert got["paused"] == ["Awaiting Vendor"]
    assert "Problem Closure" in got["active"] and not any("-100" in v for v in got.values())


def test_an_xes_log_is_sniffed_like_a_csv_one(tmp_path):
    traces = []
    for i in range(12):
        events = "".join(
            f'<event><string key="concept:name" value="{a}"/>'
            f'<date key="time:timestamp" value="2026-06-{1 + i:02d}T0{h}:00:00.000+00:00"/>'
            f'<string key="org:group" value="{g}"/></event>'
            for h, (a, g) in enumerate([("New", "Desk"), ("Resolved", "Apps"), ("Closed", "Apps")])
        )
        traces.append(f'<trace><string key="concept:name" value="C{i}"/>{events}</trace>')
    path = tmp_path / "log.xes"
    path.write_text(f'<log xes.version="1.0">{"".join(traces)}</log>', encoding="utf-8")
    guess = sniff_file(path)
    assert guess.kind == "ticket_events"
    assert guess.columns["ticket_id"] == "case:concept:name"
    assert guess.columns["updated_at"] == "time:timestamp"
    assert guess.columns["state"] == "concept:name"
    assert guess.columns["assignment_group"] == "org:group"


def test_the_proposal_loads_as_params_and_keeps_its_evidence(tmp_path):
    (tmp_path / "data").mkdir()
    export = events_csv(tmp_path / "data" / "events.csv")
    where = tmp_path / "params" / "proposed.yaml"
    text = proposal_text([sniff_file(export)], where, today=date(2026, 12, 5))
    where.parent.mkdir()
    where.write_text(text)
    p = load_params(where)
    assert p.sources[0].path == export  # relative to the params file, resolved
    assert p.sources[0].states.paused == ["On Hold"]
    # the span in the proposal's zone, UTC: the first event, 1 April 00:00 +02:00, is 31 March
    assert (p.cycle.start, p.cycle.end) == (date(2026, 3, 31), date(2026, 4, 25))
    assert "several rows per ticket, an event log" in text
    assert {k.kpi for _, _, k in p.strategy.kpis()} >= {"incident_volume", "reassignment_rate"}


def test_sniff_refuses_what_it_cannot_read_or_recognise(tmp_path, capsys):
    odd = write(tmp_path / "notes.csv", ["colour,shape", "red,round", "blue,square"])
    assert main(["params", "sniff", str(odd)]) == 2
    err = capsys.readouterr().err
    assert f"{odd}: no kind of source recognised in its header (colour, shape)" in err
    assert "csi params columns KIND" in err and "Traceback" not in err
    assert main(["params", "sniff", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    out = tmp_path / "p.yaml"
    out.write_text("mine")
    assert main(["params", "sniff", str(events_csv(tmp_path / "e.csv")), "-o", str(out)]) == 2
    assert "exists; name another file, or add --force" in capsys.readouterr().err
    assert out.read_text() == "mine"
