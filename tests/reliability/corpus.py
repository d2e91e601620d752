"""The reliability corpus: bad inputs and faults, as an operator or an attacker would bring them.

Each :class:`Case` changes a copy of a workspace that already holds a good run
(:mod:`tests.reliability.workspace`), runs ``csi`` in a subprocess and states what must
come of it: the exit code, the words of the message that name the file, key, row or
column at fault, and (for a case that ends well) what the run must have kept or
quarantined. Every case also checks that no traceback is printed and, when the command
fails, that the earlier good run and its reports are byte-identical afterwards.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

RUN = ["run", "params.yaml"]
#: Steps 1-4 only: where rows are typed, quarantined and counted (the cases on rows end there).
TO_STEP_4 = (*RUN, "--to-step", "4")
TICKETS, MONITORING = "data/tickets.csv", "data/monitoring.csv"


@dataclass(frozen=True)
class Case:
    """One bad input or fault and what ``csi`` must make of it."""

    name: str
    change: Callable[[Path], None]
    code: int
    names: tuple[str, ...] = ()  # words the message must hold (file, key, row, column)
    argv: tuple[str, ...] = tuple(RUN)
    kernels: bool = True  # runs step notebooks (slow) or stops before any
    then: Callable[[Path], None] | None = None  # checks on the workspace afterwards
    wrap: tuple[str, ...] = ()  # run inside this command (e.g. a private tmpfs)
    extra: dict[str, str] = field(default_factory=dict)  # environment variables


def up_to_step_4(*args: object, **kwargs: object) -> Case:
    """A case whose run stops after step 4: what it checks is in the step 4 ledger and tables."""
    return Case(*args, argv=TO_STEP_4, **kwargs)  # type: ignore[arg-type]


# Changes ----------------------------------------------------------------------------


def nothing(ws: Path) -> None:
    """The workspace as it is."""


def params_text(old: str, new: str) -> Callable[[Path], None]:
    def change(ws: Path) -> None:
        text = (ws / "params.yaml").read_text()
        assert old in text, old
        (ws / "params.yaml").write_text(text.replace(old, new, 1))

    return change


def params_bytes(data: bytes) -> Callable[[Path], None]:
    return lambda ws: (ws / "params.yaml").write_bytes(data)


def append_params(text: str) -> Callable[[Path], None]:
    return lambda ws: (ws / "params.yaml").write_text((ws / "params.yaml").read_text() + text)


def file_bytes(path: str, data: bytes) -> Callable[[Path], None]:
    return lambda ws: (ws / path).write_bytes(data)


def csv_edit(path: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def change(ws: Path) -> None:
        frame = pd.read_csv(ws / path, dtype=str, keep_default_na=False)
        edit(frame).to_csv(ws / path, index=False)

    return change


def cell(row: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return edit


def text_edit(path: str, edit: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda ws: (ws / path).write_text(edit((ws / path).read_text()))


def both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(ws: Path) -> None:
        for c in changes:
            c(ws)

    return change


def source_as(
    path: str, suffix: str, write: Callable[[Path, Path], None]
) -> Callable[[Path], None]:
    """Point the source at ``path`` with another suffix, written by ``write(old, new)``."""
    new = path.rsplit(".", 1)[0] + suffix

    def change(ws: Path) -> None:
        write(ws / path, ws / new)
        params_text(f"path: {path}", f"path: {new}")(ws)

    return change


def alias_bomb(ws: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 9)]
    (ws / "params.yaml").write_text((ws / "params.yaml").read_text() + "\n".join(lines) + "\n")


def lock_held_by_this_test(ws: Path) -> None:
    lock = ws / "runs" / ".locks" / "shop-wk10.json"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "started": "t0", "command": "csi"}
    lock.write_text(json.dumps(holder))


def lock_of_a_dead_run(ws: Path) -> None:
    lock = ws / "runs" / ".locks" / "shop-wk10.json"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = {"pid": 2**22 + 17, "host": socket.gethostname(), "started": "t0", "command": "csi"}
    lock.write_text(json.dumps(holder))


def damaged_previous_run(ws: Path) -> None:
    """A second cycle whose previous run has a damaged KPI table."""
    kpis = ws / "runs" / "shop-wk10" / "process" / "kpi_values.parquet"
    kpis.write_bytes(b"PAR1 this is not parquet")
    text = (ws / "params.yaml").read_text()
    text = text.replace("id: wk10, label: 2026 weeks 10-11", "id: wk11, label: 2026 week 11")
    text = text.replace("start: 2026-03-02", "start: 2026-03-09")
    (ws / "params.yaml").write_text(text + "previous_run: shop-wk10\n")


# Checks on a run that ends well -------------------------------------------------------


def quarantined(source: str, reason: str, rows: int) -> Callable[[Path], None]:
    """The run's ledger counts ``rows`` of ``source`` quarantined for ``reason``."""

    def check(ws: Path) -> None:
        ledger = pd.read_parquet(ws / "runs" / "shop-wk10" / "process" / "ledger.parquet")
        mine = ledger[(ledger["source"] == source) & (ledger["reason"] == reason)]
        assert mine["rows"].sum() == rows, ledger[["source", "reason", "rows"]].to_string()

    return check


def kept_rows(source: str, rows: int) -> Callable[[Path], None]:
    """The canonical table of ``source`` holds ``rows`` rows."""

    def check(ws: Path) -> None:
        table = ws / "runs" / "shop-wk10" / "process" / "tables" / f"{source}.parquet"
        assert len(pd.read_parquet(table)) == rows

    return check


def same_instants_with_offsets(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows 2 and 3 opened at the same instants, written with an offset and with Z."""
    for row, offset in ((2, "+01:00"), (3, "Z")):
        utc = pd.Timestamp(frame.loc[row, "opened_at"])
        local = utc + pd.Timedelta(hours=1) if offset != "Z" else utc
        frame.loc[row, "opened_at"] = f"{local:%Y-%m-%dT%H:%M:%S}{offset}"
    return frame


def gzip_truncated(old: Path, new: Path) -> None:
    new.write_bytes(gzip.compress(old.read_bytes())[:300])


def duplicate_rows(n: int) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: pd.concat([frame, frame.iloc[:n]], ignore_index=True)


# The corpus ---------------------------------------------------------------------------

USAGE = [
    Case(
        "a typo in the command",
        nothing,
        2,
        ("rnu", "Did you mean 'run'"),
        ("rnu", "params.yaml"),
        False,
    ),
    Case("a typo in an option", nothing, 2, ("--jbos",), (*RUN, "--jbos", "2"), False),
    Case("no params file named", nothing, 2, ("Missing argument",), ("run",), False),
    Case("a step number past 7", nothing, 2, ("--from-step",), (*RUN, "--from-step", "9"), False),
    Case(
        "--dry-run with --write-register",
        nothing,
        2,
        ("--dry-run", "--write-register"),
        (*RUN, "--dry-run", "--write-register"),
        False,
    ),
    Case(
        "a params file that does not exist",
        nothing,
        2,
        ("nothing.yaml",),
        ("run", "nothing.yaml"),
        False,
    ),
    Case("a folder as the params file", nothing, 2, ("data",), ("run", "data"), False),
    Case(
        "a run id that climbs out of runs/",
        nothing,
        2,
        ("../x",),
        (*RUN, "--run-id", "../x"),
        False,
    ),
    Case(
        "reports of a run that does not exist",
        nothing,
        2,
        ("runs/nosuch",),
        ("report", "nosuch", "--html"),
        False,
    ),
    Case(
        "resuming a run that does not exist",
        nothing,
        2,
        ("other",),
        (*RUN, "--run-id", "other", "--from-step", "3"),
        False,
    ),
]

PARAMS = [
    Case(
        "params in latin-1",
        params_bytes(b"service: {id: shop, name: Caf\xe9}\n"),
        2,
        ("line 1", "UTF-8"),
        kernels=False,
    ),
    Case(
        "a binary params file",
        params_bytes(b"\x00\x01\x02PK\x03\x04" * 20),
        2,
        ("params.yaml",),
        kernels=False,
    ),
    Case(
        "an impossible date",
        params_text("end: 2026-03-15", "end: 2026-02-31"),
        2,
        ("line 2", "2026-02-31"),
        kernels=False,
    ),
    Case("a YAML alias bomb", alias_bomb, 2, ("params.yaml", "100,000"), kernels=False),
    Case(
        "10**12 bootstrap resamples",
        params_text("bootstrap: 200", "bootstrap: 1000000000000"),
        2,
        ("analysis.bootstrap",),
        kernels=False,
    ),
    Case(
        "an unknown top-level key",
        params_text("sources:", "sourcse:"),
        2,
        ("sourcse", "sources"),
        kernels=False,
    ),
    Case(
        "a KPI id with a typo",
        params_text("kpi: mean_time_to_resolve", "kpi: mean_tim_to_resolve"),
        2,
        ("mean_tim_to_resolve", "mean_time_to_resolve"),
        kernels=False,
    ),
    Case(
        "a cycle that ends before it starts",
        params_text("end: 2026-03-15", "end: 2026-02-15"),
        2,
        ("cycle",),
        kernels=False,
    ),
    Case("an empty params file", params_bytes(b""), 2, ("params.yaml",), kernels=False),
    Case(
        "a list instead of a mapping",
        params_bytes(b"- service\n- cycle\n"),
        2,
        ("params.yaml", "mapping"),
        kernels=False,
    ),
    Case(
        "a tab in the indentation",
        params_text("  - {name: tickets", "\t- {name: tickets"),
        2,
        ("params.yaml", "line"),
        kernels=False,
    ),
    Case(
        "a source file that is missing",
        params_text("path: data/tickets.csv", "path: data/nothing.csv"),
        2,
        ("data/nothing.csv",),
        kernels=False,
    ),
    Case(
        "a target that is not a number",
        params_text("target: 24,", "target: high,"),
        2,
        ("target", "line"),
        kernels=False,
    ),
    Case(
        "two sources of one name",
        params_text("name: outages", "name: tickets"),
        2,
        ("tickets",),
        kernels=False,
    ),
    Case(
        "a scale for a column that is no ratio",
        params_text(
            "path: data/monitoring.csv}",
            "path: data/monitoring.csv, scales: {latency_p95_ms: percent}}",
        ),
        2,
        ("scales.latency_p95_ms",),
        kernels=False,
    ),
    Case(
        "an unset ${VAR} in a SQL source",
        params_text(
            "path: data/outages.csv}",
            "path: data/outages.csv}\n  - {name: db, kind: changes, connector: sql, query: "
            "'select 1', url: 'postgresql://csi:${CSI_UNSET_PW}@db/itsm'}",
        ),
        2,
        ("CSI_UNSET_PW",),
    ),
    Case(
        "a negative seed", params_text("seed: 1", "seed: -1"), 2, ("analysis.seed",), kernels=False
    ),
    Case(
        "a register URL that is not a URL",
        params_text("register: {directory: registers}", "register: {url: 'not a url'}"),
        2,
        ("register", "not a url"),
    ),
]

DATA = [
    Case("an empty tickets export", file_bytes(TICKETS, b""), 2, ("tickets.csv",)),
    Case(
        "a tickets export with only its header",
        file_bytes(TICKETS, b"ticket_id,opened_at,resolved_at\n"),
        2,
        ("tickets",),
    ),
    Case(
        "a corrupt gzip export",
        source_as(TICKETS, ".csv.gz", gzip_truncated),
        2,
        ("tickets.csv.gz",),
    ),
    Case(
        "a Parquet file that is not one",
        source_as(TICKETS, ".parquet", lambda o, n: n.write_bytes(b"PAR1 garbage")),
        2,
        ("tickets.parquet",),
    ),
    Case(
        "an Excel file that is a CSV",
        source_as(TICKETS, ".xlsx", lambda o, n: n.write_bytes(o.read_bytes())),
        2,
        ("tickets.xlsx",),
    ),
    Case(
        "a JSON-lines file with a broken line",
        source_as(
            TICKETS,
            ".jsonl",
            lambda o, n: n.write_text(
                '{"ticket_id": "A", "opened_at": "2026-03-03"}\n{"ticket_id": \n'
            ),
        ),
        2,
        ("tickets.jsonl",),
    ),
    Case(
        "a quote left open at the end",
        text_edit(
            TICKETS, lambda t: t + 'INC9999,"2026-03-05 10:00,2026-03-05 12:00,2 - High,net\n'
        ),
        2,
        ("tickets.csv",),
    ),
    Case(
        "a folder where the export should be",
        lambda ws: ((ws / TICKETS).unlink(), (ws / TICKETS).mkdir()),
        2,
        ("tickets.csv",),
    ),
    Case(
        "a key column missing",
        csv_edit(TICKETS, lambda f: f.drop(columns=["opened_at"])),
        2,
        ("opened_at", "tickets.csv"),
    ),
    Case(
        "semicolons instead of commas",
        text_edit(TICKETS, lambda t: t.replace(",", ";")),
        2,
        ("ticket_id", "tickets.csv"),
    ),
    Case(
        "utilisation in percent",
        csv_edit(
            MONITORING,
            lambda f: f.assign(utilisation=(f["utilisation"].astype(float) * 100).astype(str)),
        ),
        2,
        ("monitoring.csv", "scales.utilisation: percent"),
    ),
    Case(
        "monitoring only outside the cycle",
        csv_edit(
            MONITORING,
            lambda f: f.assign(timestamp=f["timestamp"].str.replace("2026-03", "2025-03")),
        ),
        2,
        ("monitoring",),
    ),
    Case(
        "latin-1 bytes in an export",
        lambda ws: (ws / TICKETS).write_bytes(
            (ws / TICKETS).read_bytes().replace(b"network", b"r\xe9seau")
        ),
        2,
        ("tickets.csv",),
    ),
    Case("a damaged previous run", damaged_previous_run, 2, ("shop-wk10", "kpi_values.parquet")),
]

#: Bad rows: the run ends well, the rows are quarantined and counted with their reason.
ROWS = [
    up_to_step_4(
        "a ticket resolved in 2999",
        csv_edit(TICKETS, cell(3, "resolved_at", "2999-01-01 00:00")),
        0,
        then=quarantined("tickets", "out of range resolved_at", 1),
    ),
    up_to_step_4(
        "a ticket opened in 1970",
        csv_edit(TICKETS, cell(4, "opened_at", "1970-01-01 00:00")),
        0,
        then=quarantined("tickets", "out of range opened_at", 1),
    ),
    up_to_step_4(
        "500 duplicated monitoring rows",
        csv_edit(MONITORING, duplicate_rows(300)),
        0,
        then=quarantined("monitoring", "duplicate sample", 300),
    ),
    up_to_step_4(
        "inf in a latency",
        csv_edit(MONITORING, cell(5, "latency_p95_ms", "inf")),
        0,
        then=quarantined("monitoring", "not a finite number in latency_p95_ms", 1),
    ),
    up_to_step_4(
        "Infinity and 1e309",
        csv_edit(
            MONITORING, lambda f: cell(6, "requests", "1e309")(cell(7, "requests", "Infinity")(f))
        ),
        0,
        then=quarantined("monitoring", "not a finite number in requests", 2),
    ),
    up_to_step_4(
        "nan and -inf",
        csv_edit(MONITORING, lambda f: cell(8, "requests", "nan")(cell(9, "requests", "-inf")(f))),
        0,
        then=both(
            quarantined("monitoring", "not a number in requests", 1),
            quarantined("monitoring", "not a finite number in requests", 1),
        ),
    ),
    up_to_step_4(
        "a duplicate ticket id",
        csv_edit(TICKETS, cell(5, "ticket_id", "INC1000")),
        0,
        then=quarantined("tickets", "duplicate ticket_id", 1),
    ),
    up_to_step_4(
        "resolved before opened",
        csv_edit(TICKETS, cell(6, "resolved_at", "2026-03-01 00:00")),
        0,
        then=quarantined("tickets", "resolved before opened", 1),
    ),
    up_to_step_4(
        "a date that is a word",
        csv_edit(TICKETS, cell(7, "opened_at", "yesterday")),
        0,
        then=quarantined("tickets", "unparseable opened_at", 1),
    ),
    up_to_step_4(
        "an outage that ends before it starts",
        text_edit("data/outages.csv", lambda t: t + "2026-03-06 10:00,2026-03-06 09:00\n"),
        0,
        then=quarantined("outages", "ends before it starts", 1),
    ),
    up_to_step_4(
        "a negative request count",
        csv_edit(MONITORING, cell(10, "requests", "-5")),
        0,
        then=quarantined("monitoring", "out of range requests", 1),
    ),
    up_to_step_4(
        "a number that is a word",
        csv_edit(MONITORING, cell(11, "latency_p95_ms", "fast")),
        0,
        then=quarantined("monitoring", "not a number in latency_p95_ms", 1),
    ),
    up_to_step_4(
        "a ticket without id",
        csv_edit(TICKETS, cell(8, "ticket_id", "")),
        0,
        then=quarantined("tickets", "missing ticket_id", 1),
    ),
]

#: Awkward but valid files: the run ends well with every row kept.
VALID = [
    up_to_step_4(
        "newlines inside quoted text",
        csv_edit(TICKETS, cell(2, "category", "line one\nline two")),
        0,
        then=kept_rows("tickets", 60),
    ),
    up_to_step_4(
        "a 1 MB line",
        csv_edit(TICKETS, cell(2, "category", "x" * 1_000_000)),
        0,
        then=kept_rows("tickets", 60),
    ),
    up_to_step_4(
        "mixed time zones",
        csv_edit(TICKETS, same_instants_with_offsets),
        0,
        then=kept_rows("tickets", 60),
    ),
    up_to_step_4(
        "a byte-order mark",
        lambda ws: (ws / TICKETS).write_bytes(b"\xef\xbb\xbf" + (ws / TICKETS).read_bytes()),
        0,
        then=kept_rows("tickets", 60),
    ),
    up_to_step_4(
        "Windows line ends",
        lambda ws: (ws / TICKETS).write_bytes((ws / TICKETS).read_bytes().replace(b"\n", b"\r\n")),
        0,
        then=kept_rows("tickets", 60),
    ),
    Case("a stale lock of a dead run", lock_of_a_dead_run, 0, ("took over the stale lock",)),
]


def read_only(folder: str) -> tuple[str, ...]:
    """Run the command with ``folder`` mounted read-only (a private mount namespace)."""
    script = f'mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} && exec "$@"'
    return ("unshare", "-rm", "sh", "-c", script, "sh")


def tiny_disk(folder: str, size: str = "300k") -> tuple[str, ...]:
    """Run the command with a ``size`` filesystem mounted at ``folder`` (a private namespace)."""
    script = f'mkdir -p {folder} && mount -t tmpfs -o size={size} tmpfs {folder} && exec "$@"'
    return ("unshare", "-rm", "sh", "-c", script, "sh")


def only_a_changes_source(ws: Path) -> None:
    (ws / "data" / "changes.csv").write_text(
        "change_id,actual_start,actual_end\nCHG1,2026-03-03 10:00,2026-03-03 11:00\n"
    )
    text = (ws / "params.yaml").read_text()
    start, end = text.index("sources:"), text.index("strategy:")
    sources = "sources:\n  - {name: changes, kind: changes, path: data/changes.csv}\n"
    (ws / "params.yaml").write_text(text[:start] + sources + text[end:])


def nothing_measured(ws: Path) -> None:
    values = pd.read_parquet(ws / "runs" / "shop-wk10" / "process" / "kpi_values.parquet")
    assert values["value"].isna().all() and values["note"].str.startswith("not measurable").all()
    assert (ws / "reports" / "shop-wk10" / "06_present.html").is_file()


def second_cycle_without_register(ws: Path) -> None:
    text = (ws / "params.yaml").read_text()
    text = text.replace("id: wk10, label: 2026 weeks 10-11", "id: wk11, label: 2026 week 11")
    (ws / "params.yaml").write_text(text.replace("start: 2026-03-02", "start: 2026-03-09")
                                    + "previous_run: shop-wk10\n")  # fmt: skip
    shutil.rmtree(ws / "registers")


def reports_of(run_id: str) -> Callable[[Path], None]:
    def check(ws: Path) -> None:
        for name in ("06_present.html", "07_implement.html"):
            assert (ws / "reports" / run_id / name).stat().st_size > 10_000

    return check


def exported(path: str, entries: int) -> Callable[[Path], None]:
    def check(ws: Path) -> None:
        assert len(pd.read_csv(ws / path)) == entries

    return check


#: Faults of the run folder and the machine.
FOLDERS = [
    Case(
        "a read-only reports folder",
        nothing,
        1,
        ("reports/shop-wk10", "read-only file system", "use a writable"),
        wrap=read_only("reports"),
    ),
    Case(
        "a read-only runs folder",
        nothing,
        1,
        ("runs/.locks/shop-wk10.json", "read-only file system"),
        wrap=read_only("runs"),
    ),
    Case(
        "a full disk",
        nothing,
        1,
        ("no space left on device", "small/runs/shop-wk10"),
        (*RUN, "--runs-dir", "small/runs", "--reports-dir", "small/reports"),
        wrap=tiny_disk("small"),
    ),
    Case(
        "a params file with only a changes source", only_a_changes_source, 0, then=nothing_measured
    ),
    Case(
        "a second cycle after the register was lost",
        second_cycle_without_register,
        0,
        then=reports_of("shop-wk11"),
    ),
    Case(
        "a register export into a missing folder",
        nothing,
        0,
        ("1 entry",),
        ("register", "export", "--params", "params.yaml", "--out", "new/folder/register.csv"),
        False,
        then=exported("new/folder/register.csv", 1),
    ),
    Case(
        "a run of the id already running",
        lock_held_by_this_test,
        2,
        ("already running", "shop-wk10"),
    ),
    Case(
        "resuming after the cycle's end changed",
        params_text("end: 2026-03-15", "end: 2026-03-14"),
        2,
        ("cycle.end", "--rerun-from-changed"),
        (*RUN, "--from-step", "5"),
        False,
    ),
]

CASES = USAGE + PARAMS + DATA + ROWS + VALID + FOLDERS
