"""Step 4 (process): validate, clean, reconstruct, aggregate.

Every raw snapshot is typed into its canonical table, the rows that cannot be
used are quarantined with the reason and counted in the ledger
(:func:`build_tables`); every measurable KPI entry is computed over the cycle
(:func:`kpi_values`); the span of the cycle each source's records cover is recorded
(:func:`data_coverage`), and a ticket, monitoring or survey source without a record
in the cycle stops the run;
the hourly, daily and weekly series the analyses need are aggregated on the
configured engine, missing outside the span their source covers
(:func:`daily_series`, :func:`hourly_series`, :func:`ticket_series`,
:func:`weekday_hour_profile`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd

from csi_helpers.errors import NoRecordsInCycle, RunFolderError
from csi_helpers.kpis import KpiResult, get_definition
from csi_helpers.params import Source
from csi_helpers.processing import coverage, events, series
from csi_helpers.processing.ledger import Ledger, quarantine_notes
from csi_helpers.processing.validate import canonical_chunks
from csi_helpers.runfolder.context import StepContext
from csi_helpers.runfolder.parquet import CHUNK_ROWS, ParquetSink, iter_table, read_frame
from csi_helpers.steps.common import (
    engine_tables,
    first_source,
    kpi_table,
    measure_entry,
    pauses_table,
    ticket_table,
)
from csi_helpers.tables import catalogue

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "build_tables",
    "daily_series",
    "data_coverage",
    "hourly_series",
    "kpi_values",
    "ticket_series",
    "ticket_summaries",
    "ticket_table",
    "weekday_hour_profile",
]

SERIES_KINDS = ("monitoring", "tickets", "downtime")


def build_tables(ctx: StepContext, *, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Type every raw snapshot into ``process/tables/<source>``; quarantine the rest.

    The snapshot is read, typed and written ``chunk_rows`` rows at a time
    (:func:`csi_helpers.processing.validate.canonical_chunks`), so memory holds one
    chunk whatever the table's size; the tables, quarantine and ledger are those of
    :func:`~csi_helpers.processing.validate.canonical_table` on the whole snapshot. A
    timestamp more than a year after the cycle's end is out of range.
    A ticket event log is also rebuilt into one row per ticket
    (``process/tickets/<source>``) and its pause intervals (``process/pauses/<source>``).

    Returns:
        The data-quality ledger (also written as ``process/ledger``).
    """
    ledger: list[dict] = []
    _, cycle_end = ctx.params.cycle_window()
    for source in ctx.params.sources:
        raw_path = ctx.ref_path(catalogue.raw_snapshot(source.name), suffix=".parquet")
        if not raw_path.exists():
            raise RunFolderError(
                f"{raw_path}: not found; step {ctx.step.number} needs the snapshot of source "
                f"{source.name!r} from step 3. Run step 3 first."
            )
        ctx.log_input(raw_path)
        tally = Ledger(source)
        chunks = canonical_chunks(
            iter_table(raw_path, chunk_rows=chunk_rows), source, cycle_end=cycle_end
        )
        with (
            ParquetSink(ctx.path(f"{catalogue.canonical_table(source.name)}.parquet")) as tables,
            ParquetSink(
                ctx.path(f"{catalogue.quarantine(source.name)}.parquet"), lazy=True
            ) as quarantine,
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
            table = read_frame(tables.path)
            states = events.state_map(source.states)
            tickets = events.tickets_from_events(
                table, states=states, fill_missing_times=source.fill_missing_times
            )
            ctx.write_table(catalogue.rebuilt_tickets(source.name), tickets)
            pauses = events.pauses_from_events(table, states=states)
            ctx.write_table(catalogue.pauses(source.name), pauses)
    frame = pd.DataFrame(ledger)
    ctx.write_table(catalogue.LEDGER, frame)
    return frame


def kpi_values(
    ctx: StepContext, plan: pd.DataFrame, ledger: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Compute every measurable KPI entry over the cycle, as its params entry defines it.

    Each KPI's note says how exclusions bear on it: rows its source lost in
    quarantine (from the ``ledger``), then the records the formula left out.
    """
    quarantined = quarantine_notes(ledger) if ledger is not None else {}
    start, end = ctx.params.cycle_window()
    unobserved = _unobserved_note(ctx)
    entries = {k.id: k for _, _, k in ctx.params.strategy.kpis()}
    pauses = pauses_table(ctx)
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
                    "revision": d.revision,
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
        result = measure_entry(ctx, k, tables[key], start=start, end=end, pauses=pauses)
        if unobserved:
            result = KpiResult(value=None, n=0, excluded=result.excluded, note=unobserved)
        uses[key] -= 1
        if not uses[key]:
            del tables[key]  # read once, kept while an entry still needs it
        note = "; ".join(filter(None, [quarantined.get(row.source, ""), result.note]))
        if row.measurable == "partly":
            note = "; ".join(filter(None, [note, f"partly measurable: {row.to_close_gap}"]))
        rows.append(
            {"kpi_id": k.id, "kpi": k.kpi, "revision": d.revision}
            | result.to_dict()
            | {"note": note}
        )
    frame = pd.DataFrame(rows)
    frame["details"] = frame["details"].map(_json)
    ctx.write_table(catalogue.KPI_VALUES, frame)
    return frame


def _unobserved_note(ctx: StepContext) -> str | None:
    """Why no KPI has a value when no source has a record inside the cycle, else None.

    Outage, change and calendar sources may have no record in a cycle (none happened),
    so their KPIs stand on zero records (100 % availability) while another source shows
    the cycle was observed; when none does, nothing was: every KPI is "no data" (grey).
    """
    if not ctx.has(catalogue.COVERAGE) or ctx.read_table(catalogue.COVERAGE)["records"].sum():
        return None
    cycle = ctx.params.cycle
    return (
        f"no data: no source has a record in the cycle ({cycle.start} to {cycle.end}), so "
        "no outage, ticket or sample can be counted"
    )


def _json(value: object) -> str:
    from csi_helpers.analysis.findings import json_safe

    return json.dumps(json_safe(value or {}), sort_keys=True)


def data_coverage(ctx: StepContext, ledger: pd.DataFrame) -> pd.DataFrame:
    """Per source: its records inside the cycle and the span they cover; written for steps 5-6.

    Columns: source, kind, series (the columns of the daily and hourly series it
    feeds, comma-separated), records, first and last (record times inside the cycle),
    covered_from and covered_to (the covered span, UTC, ``covered_to`` exclusive),
    covered_share of the cycle's days and continuous (see
    :mod:`csi_helpers.processing.coverage`). The series are missing outside that span.

    Raises:
        NoRecordsInCycle: a continuous source (tickets, monitoring, surveys) has no record
            inside the cycle. An outage, change or calendar source without one is a warning:
            a cycle may have no such event.
    """
    from csi_helpers.processing import engines

    start, end = ctx.params.cycle_window()
    con = engines.connect(ctx.params.engine)
    feeds = {s.name: k for k in SERIES_KINDS if (s := first_source(ctx.params, k)) is not None}
    rows = []
    for source in ctx.params.sources:
        path = ctx.ref_path(catalogue.canonical_table(source.name), suffix=".parquet")
        table = con.read_parquet(str(ctx.log_input(path)))
        row = coverage.source_coverage(
            table, kind=source.kind, start=start, end=end, timezone=ctx.params.service.timezone
        )
        read = int(ledger.loc[ledger["source"] == source.name, "rows_in"].max())
        if not row["records"]:
            error = _no_records(ctx, source, table, read)
            if row["continuous"]:
                raise error
            ctx.warn(f"{error} A {source.kind} source records events; a cycle may have none.")
        fed = coverage.SERIES_COLUMNS.get(feeds.get(source.name, ""), ())
        rows.append({"source": source.name, "kind": source.kind, "series": ", ".join(fed)} | row)
    frame = pd.DataFrame(rows)
    ctx.write_table(catalogue.COVERAGE, frame)
    return frame


def _no_records(ctx: StepContext, source: Source, table: ir.Table, read: int) -> NoRecordsInCycle:
    """The error naming a source without record in the cycle, with its own date span."""
    from csi_helpers.processing import engines

    stamp = coverage.record_time(table, source.kind)
    span = engines.to_pandas(
        table.aggregate(n=table.count(), first=stamp.min(), last=stamp.max())
    ).iloc[0]
    cycle = ctx.params.cycle
    return coverage.no_records_error(
        source=source.name,
        kind=source.kind,
        where=str(source.path) if source.path is not None else f"{source.connector} query",
        cycle=(cycle.start.isoformat(), cycle.end.isoformat()),
        usable=int(span["n"]),
        read=read,
        span=None
        if pd.isna(span["first"])
        else (pd.Timestamp(span["first"], tz="UTC"), pd.Timestamp(span["last"], tz="UTC")),
    )


def _series_tables(ctx: StepContext) -> dict:
    """The series' tables and, per kind, the span step 4 found its source covers."""
    tables = engine_tables(ctx, *SERIES_KINDS)
    if not ctx.has(catalogue.COVERAGE):  # a step 4 notebook of 0.1: spans from the tables
        return tables
    found = ctx.read_table(catalogue.COVERAGE).set_index("source")
    spans = {}
    for kind in SERIES_KINDS:
        source = first_source(ctx.params, kind)
        if source is not None:
            row = found.loc[source.name]
            covered = not pd.isna(row["covered_from"])
            spans[kind] = (row["covered_from"], row["covered_to"]) if covered else None
    return tables | {"spans": spans}


def daily_series(ctx: StepContext) -> pd.DataFrame:
    """One row per local day of the cycle: load, latency, utilisation, incidents, downtime.

    Missing outside the span each column's source covers (:func:`data_coverage`).
    """
    start, end = ctx.params.cycle_window()
    daily = series.daily_series(
        start=start, end=end, timezone=ctx.params.service.timezone, **_series_tables(ctx)
    )
    ctx.write_table(catalogue.DAILY, daily)
    return daily


def hourly_series(ctx: StepContext) -> pd.DataFrame:
    """One row per UTC hour of the cycle (the column ``hour``), the daily series' columns."""
    start, end = ctx.params.cycle_window()
    hourly = series.hourly_series(start=start, end=end, **_series_tables(ctx)).reset_index()
    ctx.write_table(catalogue.HOURLY, hourly)
    return hourly


def ticket_series(
    ctx: StepContext, *, grain: str = "day", by: tuple[str, ...] = ()
) -> pd.DataFrame | None:
    """Tickets opened and resolved and hours to resolve, per period and group (None: no tickets)."""
    start, end = ctx.params.cycle_window()
    (tickets,) = engine_tables(ctx, "tickets").values()
    return series.ticket_series(
        tickets, start=start, end=end, timezone=ctx.params.service.timezone, grain=grain, by=by
    )


def ticket_summaries(ctx: StepContext) -> None:
    """Tickets per week and priority, and per day and assignment group; written for reports."""
    weekly = ticket_series(ctx, grain="week", by=("priority",))
    ctx.write_table(catalogue.TICKETS_WEEKLY_BY_PRIORITY, weekly)
    daily = ticket_series(ctx, grain="day", by=("assignment_group",))
    ctx.write_table(catalogue.TICKETS_DAILY_BY_GROUP, daily)


def weekday_hour_profile(ctx: StepContext) -> pd.DataFrame | None:
    """Mean load, latency and utilisation per local weekday and hour (None: no monitoring)."""
    start, end = ctx.params.cycle_window()
    (monitoring,) = engine_tables(ctx, "monitoring").values()
    profile = series.weekday_hour_profile(
        monitoring, start=start, end=end, timezone=ctx.params.service.timezone
    )
    ctx.write_table(catalogue.WEEKDAY_HOUR, profile)
    return profile
