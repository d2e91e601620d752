"""Step 4 orchestration: canonical tables, quarantine, ledger, KPI values and series."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csi_helpers.canonical import Ledger, canonical_chunks, cycle_window
from csi_helpers.errors import RunFolderError
from csi_helpers.kpis import get_definition
from csi_helpers.params import Scope
from csi_helpers.runfolder import StepContext
from csi_helpers.streaming import CHUNK_ROWS, ParquetSink, iter_table, read_lean


def build_tables(ctx: StepContext, *, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Type every raw snapshot into ``process/tables/<source>``; quarantine the rest.

    The snapshot is read, typed and written ``chunk_rows`` rows at a time
    (:func:`csi_helpers.canonical.canonical_chunks`), so memory holds one chunk
    whatever the table's size; the tables, quarantine and ledger are those of
    :func:`~csi_helpers.canonical.canonical_table` on the whole snapshot.
    A ticket event log is also rebuilt into one row per ticket
    (``process/tickets/<source>``) and its pause intervals (``process/pauses/<source>``).

    Returns:
        The data-quality ledger (also written as ``process/ledger``).
    """
    from csi_helpers.events import pauses_from_events, tickets_from_events

    ledger: list[dict] = []
    for source in ctx.params.sources:
        raw_path = ctx.ref_path(f"gather/raw/{source.name}", suffix=".parquet")
        if not raw_path.exists():
            raise RunFolderError(
                f"{raw_path}: not found; step {ctx.step.number} needs the snapshot of source "
                f"{source.name!r} from step 3. Run step 3 first."
            )
        ctx.log_input(raw_path)
        tally = Ledger(source)
        chunks = canonical_chunks(iter_table(raw_path, chunk_rows=chunk_rows), source)
        with (
            ParquetSink(ctx.path(f"tables/{source.name}.parquet")) as tables,
            ParquetSink(ctx.path(f"quarantine/{source.name}.parquet"), lazy=True) as quarantine,
        ):
            for raw, table, rejected in chunks:
                tables.write(table)
                if len(rejected):
                    quarantine.write(rejected)
                tally.add(raw, rejected)
        ctx.log_output(tables.path)
        if quarantine.rows:
            ctx.log_output(quarantine.path)
        ledger += tally.rows()
        if source.kind == "ticket_events":
            table = pd.read_parquet(tables.path)
            states = source.state_map()
            tickets = tickets_from_events(
                table, states=states, fill_missing_times=source.fill_missing_times
            )
            ctx.write_table(f"tickets/{source.name}", tickets)
            ctx.write_table(f"pauses/{source.name}", pauses_from_events(table, states=states))
    frame = pd.DataFrame(ledger)
    ctx.write_table("ledger", frame)
    return frame


def table_path(ctx: StepContext, kind: str) -> Path | None:
    """The canonical table of the first source of that kind, if any (logged as an input).

    Tickets rebuilt from an event log count as a tickets table.
    """
    source = _first_source(ctx, kind)
    if source is None:
        return None
    folder = "tickets" if kind == "tickets" and source.kind == "ticket_events" else "tables"
    return ctx.log_input(ctx.ref_path(f"process/{folder}/{source.name}", suffix=".parquet"))


def ticket_table(ctx: StepContext) -> pd.DataFrame | None:
    """The tickets of the first ticket export or event log, if the params have one."""
    source = _first_source(ctx, "tickets")
    return kpi_table(ctx, source.name, "tickets") if source else None


def _first_source(ctx: StepContext, kind: str):
    sources = ctx.params.sources_of_kind(kind)
    if kind == "tickets":
        sources += ctx.params.sources_of_kind("ticket_events")
    return sources[0] if sources else None


def kpi_table(
    ctx: StepContext, source_name: str, kind: str, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """The table a KPI of ``kind`` reads from a source: tickets rebuilt from an event log.

    Read a column at a time (:func:`csi_helpers.streaming.read_lean`): a monitoring
    table of 10M rows then needs about its own size in memory, not twice that.
    ``columns`` reads only those (all by default).
    """
    source = ctx.params.source(source_name)
    folder = "tickets" if kind == "tickets" and source.kind == "ticket_events" else "tables"
    path = ctx.ref_path(f"process/{folder}/{source_name}", suffix=".parquet")
    if not path.exists():
        return ctx.read_table(f"process/{folder}/{source_name}")  # its error names the step
    return read_lean(ctx.log_input(path), columns=columns)


def apply_scope(table: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Keep the rows whose columns hold one of the scope's values (case-insensitive).

    An empty scope returns ``table`` itself; callers must not modify it.

    Example:
        >>> t = pd.DataFrame({"priority": ["1 - Critical", "3 - Moderate"]})
        >>> apply_scope(t, Scope(priority=["1 - critical"]))["priority"].tolist()
        ['1 - Critical']
    """
    filters = scope.filters()
    if not filters:
        return table  # no copy: a monitoring table may hold tens of millions of rows
    keep = pd.Series(True, index=table.index)
    for column, values in filters.items():
        wanted = {v.casefold() for v in values}
        keep &= table[column].astype("string").str.casefold().isin(wanted).fillna(False)
    return table[keep]


def quarantine_notes(ledger: pd.DataFrame) -> dict[str, str]:
    """Per source, one sentence on the rows step 4 left out, for the KPIs it feeds.

    Example:
        >>> ledger = pd.DataFrame({"source": ["t", "t"], "rows_in": [200, None],
        ...     "rows_out": [194, None], "reason": [None, "unparseable resolved_at"],
        ...     "rows": [None, 6], "level": [None, "quarantined"]})
        >>> quarantine_notes(ledger)["t"]
        "3.0 % of rows of source 't' quarantined (unparseable resolved_at: 6); excluded here"
    """
    notes = {}
    for source, rows in ledger.groupby("source", sort=False):
        summary = rows[rows["reason"].isna()].iloc[0]
        dropped = rows[rows["reason"].notna()]
        if "level" in rows:
            dropped = dropped[dropped["level"].fillna("quarantined") == "quarantined"]
        if dropped.empty or not summary["rows_in"]:
            continue
        share = 100 * dropped["rows"].sum() / summary["rows_in"]
        reasons = ", ".join(
            f"{r}: {int(n):,}" for r, n in zip(dropped["reason"], dropped["rows"], strict=True)
        )
        notes[source] = (
            f"{share:.1f} % of rows of source {source!r} quarantined ({reasons}); excluded here"
        )
    return notes


def kpi_values(
    ctx: StepContext, plan: pd.DataFrame, ledger: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Compute every measurable KPI entry over the cycle, as its params entry defines it.

    Each KPI's note says how exclusions bear on it: rows its source lost in
    quarantine (from the ``ledger``), then the records the formula left out.
    """
    quarantined = quarantine_notes(ledger) if ledger is not None else {}
    start, end = cycle_window(ctx.params)
    entries = {k.id: k for _, _, k in ctx.params.strategy.kpis()}
    pauses = _pauses(ctx)
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    uses: dict[tuple[str, str], int] = {}  # entries still to compute per table
    for row in plan.itertuples(index=False):
        if row.measurable != "no":
            key = (row.source, get_definition(entries[row.kpi_id].kpi).source_kind)
            uses[key] = uses.get(key, 0) + 1
    rows = []
    for row in plan.itertuples(index=False):
        k = entries[row.kpi_id]
        d = get_definition(k.kpi)
        if row.measurable == "no":
            rows.append(
                {
                    "kpi_id": k.id,
                    "kpi": k.kpi,
                    "value": None,
                    "n": 0,
                    "excluded": 0,
                    "note": f"not measurable: {row.to_close_gap}",
                    "details": {},
                }
            )
            continue
        key = (row.source, d.source_kind)
        if key not in tables:
            tables[key] = kpi_table(ctx, row.source, d.source_kind)
        reserved = {"calendar": ctx.params.calendar(k.calendar)}
        if k.pause_clock and pauses is not None:
            reserved["pauses"] = pauses
        result = d(
            apply_scope(tables[key], k.scope), start=start, end=end, options=k.options, **reserved
        )
        uses[key] -= 1
        if not uses[key]:
            del tables[key]  # read once, kept while an entry still needs it
        note = "; ".join(filter(None, [quarantined.get(row.source, ""), result.note]))
        if row.measurable == "partly":
            note = "; ".join(filter(None, [note, f"partly measurable: {row.to_close_gap}"]))
        rows.append({"kpi_id": k.id, "kpi": k.kpi} | result.to_dict() | {"note": note})
    frame = pd.DataFrame(rows)
    frame["details"] = frame["details"].map(_json)
    return frame


def _pauses(ctx: StepContext) -> pd.DataFrame | None:
    events = ctx.params.sources_of_kind("ticket_events")
    if not events or not ctx.has(f"process/pauses/{events[0].name}"):
        return None
    return ctx.read_table(f"process/pauses/{events[0].name}")


def _json(value: object) -> str:
    import json

    from csi_helpers.analysis.findings import json_safe

    return json.dumps(json_safe(value or {}), sort_keys=True)
