"""Step 4 orchestration: canonical tables, quarantine, ledger, KPI values and series."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csi_helpers.canonical import canonical_table, cycle_window, ledger_entry
from csi_helpers.kpis import get_definition
from csi_helpers.params import Scope
from csi_helpers.runfolder import StepContext


def build_tables(ctx: StepContext) -> pd.DataFrame:
    """Type every raw snapshot into ``process/tables/<source>``; quarantine the rest.

    A ticket event log is also rebuilt into one row per ticket
    (``process/tickets/<source>``) and its pause intervals (``process/pauses/<source>``).

    Returns:
        The data-quality ledger (also written as ``process/ledger``).
    """
    from csi_helpers.events import pauses_from_events, tickets_from_events

    ledger: list[dict] = []
    for source in ctx.params.sources:
        raw = ctx.read_table(f"gather/raw/{source.name}")
        table, quarantine = canonical_table(raw, source)
        ctx.write_table(f"tables/{source.name}", table)
        if len(quarantine):
            ctx.write_table(f"quarantine/{source.name}", quarantine)
        ledger += ledger_entry(source, raw, quarantine)
        if source.kind == "ticket_events":
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


def kpi_table(ctx: StepContext, source_name: str, kind: str) -> pd.DataFrame:
    """The table a KPI of ``kind`` reads from a source: tickets rebuilt from an event log."""
    source = ctx.params.source(source_name)
    if kind == "tickets" and source.kind == "ticket_events":
        return ctx.read_table(f"process/tickets/{source_name}")
    return ctx.read_table(f"process/tables/{source_name}")


def apply_scope(table: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Keep the rows whose columns hold one of the scope's values (case-insensitive).

    Example:
        >>> t = pd.DataFrame({"priority": ["1 - Critical", "3 - Moderate"]})
        >>> apply_scope(t, Scope(priority=["1 - critical"]))["priority"].tolist()
        ['1 - Critical']
    """
    keep = pd.Series(True, index=table.index)
    for column, values in scope.filters().items():
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
