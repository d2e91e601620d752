"""Canary: a secret from the environment never reaches a run folder, a report or an error.

The SQL source's URL carries ``${CSI_CANARY}``; the variable holds a
recognisable value. The real chain runs (``run_cycle`` on tiny step
notebooks, step 3 calling ``gather.snapshot_sources`` in its kernel, so the
database is really read there), then every byte of every file the run wrote
is searched for the canary.

For the successful read the database is SQLite, which has no passwords; the
canary sits in a URI query parameter that SQLite ignores
(``sqlite:///file:<db>?mode=ro&canary=${CSI_CANARY}&uri=true``). That is a
harder case than a password: SQLAlchemy's password masking does not cover
query parameters, so the test passes only because the expanded URL never
leaves the connector. The failing reads put the canary in a PostgreSQL
password, the usual place, against a port where nothing listens.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from csi_helpers.chain.runner import run_cycle
from csi_helpers.connectors import describe, sql
from csi_helpers.errors import DataError, StepFailed
from csi_helpers.params import Source

CANARY = "canary-7f3a9c1e-do-not-leak"
GATHER_CELL = (
    "from csi_helpers import gather\n"
    "provenance = gather.snapshot_sources(ctx)\n"
    "display(provenance)\n"
    'ctx.read_table("gather/raw/tickets")'
)


def _params(path: Path, url: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "service: {id: web, name: Web shop}\n"
        "cycle: {id: q1, label: 2026 Q1, start: 2026-01-01, end: 2026-03-31}\n"
        "sources:\n"
        "  - name: tickets\n"
        "    kind: tickets\n"
        "    connector: sql\n"
        f"    url: '{url}'\n"
        "    query: SELECT number, priority FROM incident ORDER BY number\n"
        "    timeout_s: 5\n"
    )
    return path


def _files_holding(folder: Path, needle: str) -> list[Path]:
    assert folder.is_dir()
    return [p for p in folder.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def canary(monkeypatch) -> str:
    monkeypatch.setenv("CSI_CANARY", CANARY)
    return CANARY


@pytest.mark.slow
def test_canary_reaches_no_file_of_a_run_nor_a_report(tmp_path, chain_dir, canary):
    import sqlite3

    db = tmp_path / "itsm.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE incident (number TEXT, priority INTEGER)")
        con.executemany("INSERT INTO incident VALUES (?, ?)", [("INC1", 1), ("INC2", None)])
    con.close()
    params = _params(
        tmp_path / "params" / "cycle.yaml",
        f"sqlite:///file:{db}?mode=ro&canary=${{CSI_CANARY}}&uri=true",
    )
    result = run_cycle(
        params,
        runs_dir=tmp_path / "runs",
        reports_dir=tmp_path / "reports",
        notebooks=chain_dir(broken={3: GATHER_CELL}),  # chain_dir's hook for an extra cell
    )
    run = result.run_dir
    assert (run / "gather" / "raw" / "tickets.parquet").is_file()  # the source was really read
    import pandas as pd

    snapshot = pd.read_parquet(run / "gather" / "raw" / "tickets.parquet")
    assert snapshot["number"].tolist() == ["INC1", "INC2"]  # read inside the step's kernel
    provenance = pd.read_parquet(run / "gather" / "provenance.parquet")
    assert "CSI_CANARY" in provenance.loc[0, "location"]  # names the variable, not its value
    assert set(result.reports) == {6, 7}
    assert _files_holding(run, canary) == []
    assert _files_holding(tmp_path / "reports", canary) == []
    assert canary not in str(params.read_text())  # the params only ever held the reference


@pytest.mark.slow
def test_canary_stays_out_of_a_failed_run(tmp_path, chain_dir, canary):
    url = f"postgresql+psycopg://analyst:${{CSI_CANARY}}@127.0.0.1:{_dead_port()}/itsm"
    params = _params(tmp_path / "params" / "cycle.yaml", url)
    with pytest.raises(StepFailed) as caught:
        run_cycle(
            params,
            runs_dir=tmp_path / "runs",
            reports_dir=tmp_path / "reports",
            notebooks=chain_dir(broken={3: GATHER_CELL}),
            to_step=3,
        )
    message = str(caught.value)
    assert "DataError" in message and "analyst:***@127.0.0.1" in message
    assert canary not in message
    assert _files_holding(tmp_path / "runs", canary) == []


def test_canary_never_in_a_connection_error_or_provenance(canary):
    pytest.importorskip("psycopg")
    port = _dead_port()
    for url in (
        f"postgresql+psycopg://analyst:${{CSI_CANARY}}@127.0.0.1:{port}/itsm",
        f"postgresql+psycopg://analyst@127.0.0.1:{port}/itsm?password=${{CSI_CANARY}}",
        f"postgresql+psycopg://analyst:{CANARY}@127.0.0.1:{port}/itsm",  # pasted in by mistake
    ):
        source = Source(
            name="tickets", kind="tickets", connector="sql", url=url, query="SELECT 1", timeout_s=2
        )
        with pytest.raises(DataError) as caught:
            sql.read_raw(source)
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
        assert canary not in str(caught.value), url
        if "${CSI_CANARY}" in url:
            assert canary not in repr(describe(source))
