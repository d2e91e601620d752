"""`csi params check` reads the exports params name: the mistakes of a new analyst are
caught before any step runs, each with the key to change and a did-you-mean (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csi_helpers.cli import main
from csi_helpers.onboarding import check_against_data
from csi_helpers.params import validate_params_file

EVENTS = """\
number,updated,state,priority
INC1,2026-01-05 08:00,New,1 - Critical
INC1,2026-01-05 09:00,In progress,1 - Critical
INC1,2026-01-05 12:00,Resolve ticket,1 - Critical
INC2,2026-01-05 10:00,New,3 - Moderate
INC2,2026-01-06 10:00,Closed,3 - Moderate
"""

PARAMS = """\
service: {{id: desk, name: Service desk}}
cycle: {{id: jan, start: 2026-01-05, end: 2026-01-31}}
sources:
  - name: log
    kind: ticket_events
    path: events.csv
    columns: {{ticket_id: number, {time}: updated}}
{extra}
"""


def params(tmp_path: Path, *, time: str = "updated_at", extra: str = "") -> Path:
    (tmp_path / "events.csv").write_text(EVENTS)
    path = tmp_path / "p.yaml"
    path.write_text(PARAMS.format(time=time, extra=extra))
    return path


def problems(path: Path) -> list[str]:
    return check_against_data(validate_params_file(path))


def test_a_mapping_that_fits_the_file_has_no_problem(tmp_path):
    states = "    states: {resolved: [Resolve ticket], closed: [Closed], active: [In progress]}"
    assert problems(params(tmp_path, extra=states)) == []


def test_an_unknown_canonical_column_is_named_with_its_likely_meaning(tmp_path):
    """The analyst guessed `timestamp:` for an event log; `params check` said ok and step 4
    failed with "column 'updated_at' for updated_at not found"."""
    [unknown, missing] = problems(params(tmp_path, time="timestamp"))
    assert unknown.startswith("sources[log].columns.timestamp: not a column of a ticket_events")
    assert "csi params columns ticket_events" in unknown
    assert "has no column 'updated_at', which a ticket_events source needs" in missing
    assert "did you mean 'updated'?" in missing


def test_a_state_with_the_wrong_capitals_is_named(tmp_path):
    """`Resolve Ticket` for `Resolve ticket` left 23 % of rows unrecognised, none resolved."""
    states = "    states: {resolved: [Resolve Ticket], closed: [Closed]}"
    [wrong_case] = problems(params(tmp_path, extra=states))
    assert wrong_case == (
        "sources[log].states.resolved: 'Resolve Ticket' never occurs in the file's state column; "
        "did you mean 'Resolve ticket' (the file writes it with other capitals)?"
    )


def test_a_mapping_under_which_no_ticket_resolves_lists_the_files_states(tmp_path):
    """The default (ServiceNow) states: none of Resolved / Closed occurs in this log."""
    path = params(tmp_path)
    (tmp_path / "events.csv").write_text(EVENTS.replace("Closed", "Done"))
    [never] = problems(path)
    assert never.startswith("sources[log].states: no ticket would ever resolve")
    assert "'New' (2)" in never and "'Resolve ticket' (1)" in never


def test_values_and_columns_that_are_not_in_the_file(tmp_path):
    extra = (
        "    values: {priority: {'1 - critical': P1}}\n"
        "    states: {resolved: [Resolve ticket], closed: [Closed]}"
    )
    path = params(tmp_path, extra=extra)
    text = path.read_text().replace("number,", "number, category: categ,")
    path.write_text(text.replace("{ticket_id: number,", "{ticket_id: number, category: categ,"))
    found = problems(path)
    assert any(p.startswith("sources[log].columns.category: the file") for p in found), found
    assert any("'1 - critical' never occurs" in p and "'1 - Critical'" in p for p in found)


def test_a_source_without_a_record_in_the_cycle(tmp_path):
    path = params(tmp_path, extra="    states: {resolved: [Resolve ticket], closed: [Closed]}")
    path.write_text(path.read_text().replace("start: 2026-01-05, end: 2026-01-31",
                                             "start: 2026-04-01, end: 2026-06-30"))  # fmt: skip
    [outside] = problems(path)
    assert "no record inside the cycle 2026-04-01 to 2026-06-30" in outside
    assert "runs from 2026-01-05 to 2026-01-06" in outside


def test_params_check_exits_2_before_any_step_with_every_problem(tmp_path, capsys):
    code = main(["params", "check", str(params(tmp_path, time="timestamp"))])
    err = capsys.readouterr().err
    assert code == 2 and "2 problem(s) with the data it names" in err and "Traceback" not in err


@pytest.mark.parametrize("kind", ["tickets", "ticket_events", "monitoring"])
def test_params_columns_lists_a_kinds_columns_and_the_kpis_that_read_them(kind, capsys):
    assert main(["params", "columns", kind]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[0] in ("ticket_id", "timestamp") and "needed by every row" in out
    if kind != "monitoring":
        at = next(i for i, ln in enumerate(lines) if ln.startswith("resolved_at"))
        assert "when the ticket was resolved" in lines[at]  # its meaning
        assert lines[at + 1].strip().startswith("KPIs: ") and "reopen_rate" in lines[at + 1]
    else:
        assert "utilisation (float, optional): load as a fraction of capacity" in out


def test_every_canonical_column_has_a_meaning():
    from csi_helpers.tables.canonical import CANONICAL
    from csi_helpers.tables.meanings import BY_KIND, MEANINGS, meaning

    for kind, columns in CANONICAL.items():
        for column in columns:
            assert len(meaning(kind, column)) > 10, (kind, column)
    # no meaning for a column that no kind has (a typo in the table)
    every = {c for columns in CANONICAL.values() for c in columns}
    assert set(MEANINGS) <= every
    assert all(set(m) <= set(CANONICAL[k]) for k, m in BY_KIND.items())
