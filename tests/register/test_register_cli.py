"""`csi register list | show | update | export | unlock`: output, one-line errors, exit codes.

Each command runs through :func:`csi_helpers.cli.main` (which turns CsiErrors into
one message and an exit code) inside typer's ``CliRunner`` isolation, which
captures stdout and stderr apart.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from csi_helpers.cli import app, main
from csi_helpers.errors import RegisterError
from csi_helpers.params import load_params
from csi_helpers.register import open_register, register_url, sync_actions

ACTIONS = pd.DataFrame(
    {
        "action_id": ["q2-a1", "q2-a2"],
        "title": ["Stagger campaigns", '=HYPERLINK("http://evil.example","open")'],
        "finding_id": ["target_gap:downtime", "anomaly:requests"],
        "metric": ["downtime", "requests"],
        "kpi": ["downtime_minutes", ""],
        "expected": ["halve downtime minutes", "alerts first"],
        "owner": ["Head of E-commerce", "Ops"],
        "due": ["2026-07-30", "2026-07-30"],
        "status": ["proposed", "proposed"],
    }
)
CARD = pd.DataFrame(
    {"kpi_id": ["downtime"], "kpi": ["downtime_minutes"], "target": [60.0], "actual": [566.7]}
)


def cli(*args: str) -> tuple[int, str, str]:
    """Run ``csi ARGS``; (exit code, stdout, stderr)."""
    with CliRunner().isolation() as (stdout, stderr, _):
        code = main(list(args))
        return code, stdout.getvalue().decode(), stderr.getvalue().decode()


@pytest.fixture
def params(tmp_path: Path) -> Path:
    """A params file whose default register (../registers/web.sqlite) holds run web-q2's actions."""
    path = tmp_path / "params" / "web.yaml"
    path.parent.mkdir()
    path.write_text(
        "service: {id: web, name: Web}\ncycle: {id: q2, start: 2026-04-01, end: 2026-06-30}\n"
    )
    p = load_params(path)
    with open_register(register_url(p), create=True, writer="web-q2") as register:
        sync_actions(
            register,
            ACTIONS,
            run_id="web-q2",
            scorecard=CARD,
            cycle_start=p.cycle.start,
            cycle_end=p.cycle.end,
        )
    return path


def test_list_shows_every_entry(params, tmp_path):
    code, out, err = cli("register", "list", "--params", str(params))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID", "STATUS", "OWNER", "DUE", "REVIEW", "KPI", "BASE", "→", "TARGET", "TITLE"
    ]  # fmt: skip
    assert lines[1].split()[:6] == [
        "web-q2-a1", "proposed", "Head", "of", "E-commerce", "2026-07-30"
    ]  # fmt: skip
    assert "2026-09-30  downtime  566.7 → 60" in lines[1]
    assert lines[1].endswith("Stagger campaigns")
    assert "2026-07-30  -           -         - → -" in lines[2]  # no review, KPI or baseline
    assert (tmp_path / "registers" / "web.sqlite").exists()


def test_list_by_url_and_status_and_through_the_typer_app(params, tmp_path):
    url = f"sqlite:///{tmp_path}/registers/web.sqlite"
    assert cli("register", "update", "web-q2-a2", "--url", url, "--status", "approved")[0] == 0
    code, out, _ = cli("register", "list", "--url", url, "--status", "approved")
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()] == ["ID", "web-q2-a2"]
    result = CliRunner().invoke(app, ["register", "list", "--url", url, "--status", "withdrawn"])
    assert result.exit_code == 0 and "no entries" in result.output


def test_show_prints_fields_next_states_and_history(params):
    cli("register", "update", "web-q2-a1", "--params", str(params), "--status", "approved",
        "--note", "CAB 2026-07-02", "--by", "alice")  # fmt: skip
    code, out, _ = cli("register", "show", "web-q2-a1", "--params", str(params))
    assert code == 0
    assert "base_value       566.7" in out and "review_date      2026-09-30" in out
    assert "next status      in_progress, withdrawn" in out
    history = out.split("history:\n")[1].splitlines()
    assert history[0].endswith("web-q2: status - → proposed (proposed by run web-q2)")
    assert history[1].endswith("alice: status proposed → approved (CAB 2026-07-02)")


def test_update_reports_each_change(params):
    code, out, err = cli(
        "register", "update", "web-q2-a1", "--params", str(params),
        "--status", "approved", "--owner", "Ops lead", "--due", "2026-08-15",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.strip() == (
        "web-q2-a1: owner Head of E-commerce → Ops lead, due 2026-07-30 → 2026-08-15, "
        "status proposed → approved"
    )
    code, out, err = cli("register", "update", "web-q2-a1", "--params", str(params),
                         "--status", "approved")  # fmt: skip
    assert (code, out) == (0, "") and "nothing to change (status approved)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["update", "web-q2-a1", "--status", "monitoring"],
            "error: entry web-q2-a1: cannot go from proposed to monitoring; "
            "allowed next: approved, withdrawn",
        ),
        (
            ["update", "web-q2-a1", "--due", "30/08/2026"],
            "error: --due: '30/08/2026' is not a date",
        ),
        (
            ["update", "web-q2-a2", "--review", "2026-12-31"],
            "error: entry web-q2-a2: a review date needs a baseline",
        ),
        (["show", "web-q2-a7"], "error: register sqlite:///"),
        (["export", "--out", "r.ods"], "error: r.ods: cannot export the register as 'ods'"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(params, args, message):
    database = params.parent.parent / "registers" / "web.sqlite"
    before = database.read_bytes()
    code, out, err = cli("register", *args, "--params", str(params))
    assert code == 2 and out == ""
    assert err.startswith(message) and "Traceback" not in err and len(err.splitlines()) == 1
    assert database.read_bytes() == before


def test_the_register_must_be_named_and_exist(tmp_path):
    code, _, err = cli("register", "list")
    assert code == 2 and err == (
        "error: name the register with --params FILE (its `register:` section) or with --url URL\n"
    )
    code, _, err = cli("register", "list", "--url", f"sqlite:///{tmp_path}/none.sqlite")
    assert code == 2 and err.startswith(f"error: no register at {tmp_path}/none.sqlite")
    assert not (tmp_path / "none.sqlite").exists()


def test_a_locked_register_refuses_updates_until_unlocked(params):
    database = params.parent.parent / "registers" / "web.sqlite"
    holder = open_register(register_url(load_params(params)), writer="web-q3")
    try:
        before = database.read_bytes()
        code, out, err = cli("register", "update", "web-q2-a1", "--params", str(params),
                             "--status", "approved")  # fmt: skip
        assert code == 2 and out == ""
        assert "is locked by run web-q3 since" in err
        assert err.rstrip().endswith("if it died, run `csi register unlock`")
        assert database.read_bytes() == before
        code, out, err = cli("register", "list", "--params", str(params))  # reading still works
        assert code == 0 and err.startswith("note: the register is locked by run web-q3")
        code, out, _ = cli("register", "unlock", "--params", str(params))
        assert code == 0 and "removed the lock of run web-q3 since" in out
        code, out, _ = cli("register", "unlock", "--params", str(params))
        assert code == 0 and out.strip().endswith("was not locked")
    finally:
        holder._lock_token = None  # its lock is gone; close without releasing
        holder.close()
    assert cli("register", "update", "web-q2-a1", "--params", str(params),
               "--status", "approved")[0] == 0  # fmt: skip


def test_a_newer_register_is_refused_untouched(params):
    import sqlite3

    database = params.parent.parent / "registers" / "web.sqlite"
    with sqlite3.connect(database) as con:
        con.execute("update csi_meta set value = '3' where key = 'schema_version'")
    con.close()
    before = database.read_bytes()
    code, out, err = cli("register", "list", "--params", str(params))
    assert code == 2 and out == ""
    assert "has schema version 3, newer than this workbook knows (2)" in err
    assert database.read_bytes() == before


def test_export_csv_and_xlsx_quote_formula_text(params, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    code, out, _ = cli("register", "export", "--params", str(params), "--format", "csv",
                       "--out", str(tmp_path / "r.csv"))  # fmt: skip
    assert code == 0 and out.strip() == f"{tmp_path}/r.csv: 2 entries"
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as f:
        titles = [row["title"] for row in csv.DictReader(f)]
    assert titles == ["Stagger campaigns", '\'=HYPERLINK("http://evil.example","open")']
    code, _, _ = cli(
        "register", "export", "--params", str(params), "--out", str(tmp_path / "r.xlsx")
    )
    assert code == 0
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["register"]
    assert sheet["B3"].value == '\'=HYPERLINK("http://evil.example","open")'
    assert sheet["B3"].data_type == "s"


def test_errors_reach_the_app_as_register_errors(params):
    """Without main(), typer's runner sees the CsiError itself (main formats it)."""
    result = CliRunner().invoke(
        app, ["register", "update", "web-q2-a1", "--params", str(params), "--status", "closed"]
    )
    assert isinstance(result.exception, RegisterError) and result.exception.exit_code == 2
    assert "unknown status 'closed'" in str(result.exception)


def test_a_secret_in_the_register_path_is_never_shown_expanded(tmp_path, monkeypatch):
    """Issue 17: `${VAR}` in a SQLite register path was printed expanded in the error."""
    monkeypatch.setenv("CSI_TEST_VAULT", "s3cr3t-vault-name")
    url = "sqlite:///" + str(tmp_path) + "/${CSI_TEST_VAULT}/none.sqlite"
    code, out, err = cli("register", "list", "--url", url)
    assert code == 2 and err.startswith("error: no register at sqlite:///")
    assert "${CSI_TEST_VAULT}/none.sqlite" in err
    assert "s3cr3t" not in out + err
