"""The SQL connector against real databases: SQLite and DuckDB files, and dead PostgreSQL ports."""

from __future__ import annotations

import socket
import sqlite3
import time

import pandas as pd
import pytest

from csi_helpers import connectors
from csi_helpers.connectors import sql
from csi_helpers.errors import DataError
from csi_helpers.params import Source

TICKETS = [
    ("INC001", "2026-01-05 09:12:00", 1, 3.5, "Password reset"),
    ("INC002", "2026-01-06 14:00:00", 3, None, "Printer; jammed"),
    ("INC003", None, 2, 0.25, "O'Brien's laptop"),
]
EXPECTED = pd.DataFrame(
    {
        "number": ["INC001", "INC002", "INC003"],
        "opened_at": ["2026-01-05 09:12:00", "2026-01-06 14:00:00", None],
        "priority": ["1", "3", "2"],
        "hours": ["3.5", None, "0.25"],
        "short_description": ["Password reset", "Printer; jammed", "O'Brien's laptop"],
    },
    dtype="string",
)
QUERY = "SELECT number, opened_at, priority, hours, short_description FROM incident ORDER BY number"


def sql_source(url: str, query: str = QUERY, *, timeout_s: float = 30) -> Source:
    return Source(
        name="tickets", kind="tickets", connector="sql", url=url, query=query, timeout_s=timeout_s
    )


@pytest.fixture
def sqlite_db(tmp_path):
    path = tmp_path / "itsm.sqlite"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE incident (number TEXT, opened_at TEXT, priority INTEGER, "
            "hours REAL, short_description TEXT)"
        )
        con.executemany("INSERT INTO incident VALUES (?, ?, ?, ?, ?)", TICKETS)
    con.close()
    return path


def test_sqlite_reads_back_the_table_as_text(sqlite_db):
    frame = connectors.read_raw(sql_source(f"sqlite:///{sqlite_db}"))
    pd.testing.assert_frame_equal(frame, EXPECTED)
    assert connectors.read_header(sql_source(f"sqlite:///{sqlite_db}")) == list(EXPECTED.columns)


def test_nrows_limits_the_rows_read(sqlite_db):
    source = sql_source(f"sqlite:///{sqlite_db}", QUERY + ";")
    pd.testing.assert_frame_equal(sql.read_raw(source, nrows=2), EXPECTED.head(2))
    with_cte = "WITH t AS (SELECT * FROM incident) SELECT number FROM t ORDER BY number"
    assert sql.read_raw(sql_source(f"sqlite:///{sqlite_db}", with_cte), nrows=1)[
        "number"
    ].tolist() == ["INC001"]


def test_empty_result_keeps_the_columns(sqlite_db):
    frame = sql.read_raw(
        sql_source(f"sqlite:///{sqlite_db}", QUERY.replace("ORDER", "WHERE 0 ORDER"))
    )
    assert frame.empty and list(frame.columns) == list(EXPECTED.columns)


def test_duckdb_reads_back_the_table(tmp_path):
    pytest.importorskip("duckdb_engine")
    import duckdb

    path = tmp_path / "itsm.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE incident (number VARCHAR, opened_at TIMESTAMP, priority INTEGER, "
            "hours DOUBLE, short_description VARCHAR)"
        )
        con.executemany("INSERT INTO incident VALUES (?, ?, ?, ?, ?)", TICKETS)
    frame = sql.read_raw(sql_source(f"duckdb:///{path}"))
    expected = EXPECTED.copy()
    expected["opened_at"] = pd.array(["2026-01-05T09:12:00", "2026-01-06T14:00:00", None], "string")
    pd.testing.assert_frame_equal(frame, expected)
    assert len(sql.read_raw(sql_source(f"duckdb:///{path}"), nrows=1)) == 1


def test_bad_query_names_the_source_and_the_database_error(sqlite_db):
    with pytest.raises(
        DataError, match=r"source 'tickets': the query failed .*no such table: nope"
    ):
        sql.read_raw(sql_source(f"sqlite:///{sqlite_db}", "SELECT * FROM nope"))


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM incident",
        "SELECT 1; DROP TABLE incident",
        "-- a comment\nUPDATE incident SET priority = 1",
        "",
    ],
)
def test_only_a_single_select_is_run(sqlite_db, query):
    with pytest.raises(DataError, match="must be a single SELECT"):
        sql.read_raw(sql_source(f"sqlite:///{sqlite_db}", query))
    assert len(sql.read_raw(sql_source(f"sqlite:///{sqlite_db}"))) == 3  # nothing was changed


def test_semicolons_in_literals_are_not_statements(sqlite_db):
    query = "SELECT number FROM incident WHERE short_description = 'Printer; jammed'"
    assert sql.read_raw(sql_source(f"sqlite:///{sqlite_db}", query))["number"].tolist() == [
        "INC002"
    ]


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_masks_the_password(monkeypatch):
    pytest.importorskip("psycopg")
    monkeypatch.setenv("CSI_TEST_PW", "pw-never-shown-42")
    url = f"postgresql+psycopg://analyst:${{CSI_TEST_PW}}@127.0.0.1:{_dead_port()}/itsm"
    with pytest.raises(DataError) as caught:
        sql.read_raw(sql_source(url, "SELECT 1", timeout_s=5))
    message = str(caught.value)
    assert "pw-never-shown-42" not in message
    assert message.startswith(
        "source 'tickets': cannot connect to postgresql+psycopg://analyst:***@"
    )
    assert "timeout 5 s" in message and "$CSI_TEST_PW is set" in message
    assert sql.describe(sql_source(url))["location"].startswith(
        "postgresql+psycopg://analyst:***@127.0.0.1"
    )


def test_silent_server_is_given_up_after_timeout_s(monkeypatch):
    """A port that accepts TCP but never speaks: the connect timeout bounds the wait."""
    pytest.importorskip("psycopg")
    monkeypatch.setenv("CSI_TEST_PW", "pw-never-shown-42")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        url = f"postgresql+psycopg://analyst:${{CSI_TEST_PW}}@127.0.0.1:{port}/itsm"
        t0 = time.perf_counter()
        with pytest.raises(DataError, match=r"cannot connect .*timeout 1 s") as caught:
            sql.read_raw(sql_source(url, "SELECT 1", timeout_s=1))
        assert time.perf_counter() - t0 < 6
    assert "pw-never-shown-42" not in str(caught.value)


def test_missing_variable_missing_driver_and_bad_url(monkeypatch, sqlite_db):
    monkeypatch.delenv("CSI_UNSET_PW", raising=False)
    with pytest.raises(DataError, match="environment variable CSI_UNSET_PW is not set"):
        sql.read_raw(sql_source("postgresql://u:${CSI_UNSET_PW}@127.0.0.1/db"))
    with pytest.raises(DataError, match="no driver for oracle\\+nosuchdriver://u:\\*\\*\\*@h/db"):
        sql.read_raw(sql_source("oracle+nosuchdriver://u:secret@h/db"))
    with pytest.raises(DataError, match="is not a SQLAlchemy URL"):
        sql.read_raw(sql_source("not a url"))


def test_describe_shows_params_url_masked_and_the_query(monkeypatch):
    monkeypatch.setenv("CSI_TEST_PW", "pw-never-shown-42")
    source = sql_source("postgresql://analyst:${CSI_TEST_PW}@db.example:5432/itsm")
    assert sql.describe(source) == {
        "location": "postgresql://analyst:***@db.example:5432/itsm",
        "format": "sql",
        "query": QUERY,
    }
