"""KPI series: the canonical tables aggregated per hour, day or week (step 4).

Every function is a pure function of tables: it takes canonical tables as ibis
tables (step 4 opens the run folder's Parquet tables on the configured engine,
:mod:`csi_helpers.processing.engines`; a test can pass ``ibis.memtable(frame)``)
and returns pandas. Aggregations run in the tables' engine, never as Python
loops, so the same code serves the demo and hundreds of millions of rows. The
heavy ones (:func:`monitoring_series`, :func:`ticket_series`,
:func:`weekday_hour_profile`) are ibis expressions written once and run on DuckDB
by default or on Apache Spark when the params say ``engine: {backend: spark}``.
The calendar of periods and the split of outages over hours stay DuckDB SQL:
they work on a few thousand rows at most and have no portable ibis form
(``generate_series``, a join on overlapping intervals). Days and hours are those
of the service's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

# ibis and the engines module are imported inside the functions that aggregate: importing
# ibis takes a second or more.
if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "GRAINS",
    "TICKET_DIMENSIONS",
    "daily_series",
    "hourly_series",
    "monitoring_series",
    "period_series",
    "ticket_series",
    "weekday_hour_profile",
]

GRAINS = {"hour": "h", "day": "D", "week": "W"}  # grain -> ibis truncation unit
TICKET_DIMENSIONS = ("service", "priority", "category", "assignment_group")
COUNT_COLUMNS = ("incidents", "downtime_min")  # 0 in a covered period without records


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def daily_series(
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    monitoring: ir.Table | None = None,
    tickets: ir.Table | None = None,
    downtime: ir.Table | None = None,
    spans: Mapping[str, tuple[pd.Timestamp, pd.Timestamp] | None] | None = None,
) -> pd.DataFrame:
    """One row per day of [start, end): load, latency, utilisation, incidents, downtime.

    Days are those of ``timezone``; the columns are those of :func:`period_series`,
    with the period column named ``day`` (naive local dates).
    """
    frame = period_series(
        grain="day",
        start=start,
        end=end,
        timezone=timezone,
        monitoring=monitoring,
        tickets=tickets,
        downtime=downtime,
        spans=spans,
    )
    return frame.rename(columns={"period": "day"}).drop(columns="capacity", errors="ignore")


def hourly_series(
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    monitoring: ir.Table | None = None,
    tickets: ir.Table | None = None,
    downtime: ir.Table | None = None,
    spans: Mapping[str, tuple[pd.Timestamp, pd.Timestamp] | None] | None = None,
) -> pd.DataFrame:
    """One row per UTC hour of [start, end), indexed by tz-aware UTC timestamps.

    The columns of :func:`period_series`; UTC hours are used so that every hour
    exists exactly once (no daylight-saving gaps or repeats) for the analyses
    that match hours across weeks.
    """
    frame = period_series(
        grain="hour",
        start=start,
        end=end,
        timezone="UTC",
        monitoring=monitoring,
        tickets=tickets,
        downtime=downtime,
        spans=spans,
    )
    frame["period"] = frame["period"].dt.tz_localize("UTC")
    return frame.set_index("period").rename_axis("hour")


def period_series(
    *,
    grain: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    monitoring: ir.Table | None = None,
    tickets: ir.Table | None = None,
    downtime: ir.Table | None = None,
    spans: Mapping[str, tuple[pd.Timestamp, pd.Timestamp] | None] | None = None,
) -> pd.DataFrame:
    """One row per hour or day of [start, end): load, latency, utilisation, incidents, downtime.

    Each table is optional; its columns are missing (NaN) when not given. Load,
    capacity, latency, utilisation and error rate are :func:`monitoring_series`
    (one definition for every grain); incidents are :func:`ticket_series`' opened
    count; downtime minutes are the minutes of each outage that fall inside the
    period (an outage over midnight counts on both days). The monitoring and
    ticket aggregations run in their tables' engine; the calendar of periods and
    the outage split (small tables) always run in DuckDB.

    A table's columns are missing (NaN), never 0, in the periods outside the span
    its records cover (:mod:`csi_helpers.processing.coverage`): ``spans`` gives that
    span per table (``monitoring``, ``tickets``, ``downtime``) as UTC instants
    [from, to), None for a table without record in the window; by default it is
    worked out from the tables.
    """
    _check_grain(grain)
    con = _connect()
    params = {"start": start.to_pydatetime(), "end": end.to_pydatetime(), "tz": timezone}
    step = f"INTERVAL 1 {grain.upper()}"
    frame = con.execute(
        f"""
        SELECT p AS period
        FROM generate_series(date_trunc('{grain}', timezone($tz, $start::TIMESTAMPTZ)),
                             timezone($tz, $end::TIMESTAMPTZ) - INTERVAL 1 MICROSECOND,
                             {step}) AS t(p)
        """,
        params,
    ).df()
    window = {"start": start, "end": end, "timezone": timezone, "grain": grain}
    parts = {}
    if monitoring is not None:  # the same definitions as monitoring_series
        parts["monitoring"] = monitoring_series(monitoring, **window).drop(columns="samples")
    if tickets is not None:
        opened = ticket_series(tickets, **window)[["period", "opened"]]
        parts["tickets"] = opened.rename(columns={"opened": "incidents"})
    if downtime is not None:
        con.register("downtime", downtime.to_pyarrow())  # a few hundred outages at most
        parts["downtime"] = con.execute(
            f"""
            WITH o AS (
                SELECT greatest(start, $start::TIMESTAMPTZ) AS s,
                       least("end", $end::TIMESTAMPTZ) AS e
                FROM downtime
                WHERE start < $end AND "end" > $start),
            p AS (
                SELECT DISTINCT date_trunc('{grain}', timezone($tz, s)) + i * {step} AS period
                FROM o, range(0, 1 + CAST(ceil(epoch(e - s) / 3600 / 24) AS BIGINT)
                                  * CASE WHEN '{grain}' = 'hour' THEN 24 ELSE 1 END) AS r(i))
            SELECT p.period,
                   SUM(greatest(0, epoch(least(timezone($tz, o.e), p.period + {step})
                                       - greatest(timezone($tz, o.s), p.period)))) / 60.0
                       AS downtime_min
            FROM p JOIN o ON timezone($tz, o.s) < p.period + {step}
                         AND timezone($tz, o.e) > p.period
            GROUP BY 1
            """,
            params,
        ).df()
    frame["period"] = pd.to_datetime(frame["period"])
    tables = {"monitoring": monitoring, "tickets": tickets, "downtime": downtime}
    for kind, part in parts.items():
        part["period"] = pd.to_datetime(part["period"]).dt.tz_localize(None)
        frame = frame.merge(part, on="period", how="left")
        span = spans.get(kind) if spans is not None else _span(tables[kind], kind, window)
        frame = _mask_uncovered(frame, list(part.columns.drop("period")), span, timezone)
    return frame


def _span(table: ir.Table, kind: str, window: dict) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The span [from, to) a table covers of the window (UTC instants; None: no record)."""
    from csi_helpers.processing.coverage import source_coverage

    row = source_coverage(
        table, kind=kind, start=window["start"], end=window["end"], timezone=window["timezone"]
    )
    return None if pd.isna(row["covered_from"]) else (row["covered_from"], row["covered_to"])


def _mask_uncovered(
    frame: pd.DataFrame,
    columns: list[str],
    span: tuple[pd.Timestamp, pd.Timestamp] | None,
    timezone: str,
) -> pd.DataFrame:
    """Missing (NaN) outside the covered span; inside it, a period without records counts 0.

    Counts (incidents, downtime minutes) are 0 in a covered period without records;
    measurements (load, latency) stay missing there, as no sample measured them.
    """
    if span is None:
        inside = pd.Series(False, index=frame.index)
    else:
        lo, hi = (t.tz_convert(timezone).tz_localize(None) for t in span)
        inside = (frame["period"] >= lo) & (frame["period"] < hi)
    counts = [c for c in columns if c in COUNT_COLUMNS]
    frame[counts] = frame[counts].fillna(0)
    frame.loc[~inside, columns] = float("nan")
    return frame


def weekday_hour_profile(
    monitoring: ir.Table | None,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
) -> pd.DataFrame | None:
    """Mean load, p95 latency and utilisation per weekday (Mon=0) and hour of day.

    Weekdays and hours are those of ``timezone``. None when there is no
    monitoring table.
    """
    if monitoring is None:
        return None
    from csi_helpers.processing import engines

    t = _within(monitoring, "timestamp", start, end)
    local = engines.local_time(t.timestamp, timezone, start=start, end=end)
    expr = (
        t.group_by(
            weekday=local.day_of_week.index().cast("int64"),  # Monday = 0
            hour=local.hour().cast("int64"),
        )
        .aggregate(
            requests=t.requests.mean(),
            latency_p95_ms=t.latency_p95_ms.mean(),
            utilisation=t.utilisation.mean(),
            samples=t.count(),
        )
        .order_by(["weekday", "hour"])
    )
    return engines.to_pandas(expr)


def ticket_series(
    tickets: ir.Table | None,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    grain: str = "day",
    by: tuple[str, ...] = (),
) -> pd.DataFrame | None:
    """Tickets opened and resolved, and hours to resolve, per period and group.

    One aggregation over the tickets table: ``grain`` is hour, day or week (weeks
    start on Monday, in the service's time zone); ``by`` names canonical columns
    (service, priority, category, assignment_group). Missing group values show as
    ``(none)`` so that no ticket drops out of a total.

    Columns: period, the ``by`` columns, opened, resolved, mean_hours_to_resolve,
    median_hours_to_resolve, p90_hours_to_resolve (resolution measured on tickets
    resolved in that period; percentiles interpolate linearly, as numpy's
    default). None when there is no tickets table.
    """
    if tickets is None:
        return None
    _check_grain(grain)
    unknown = [c for c in by if c not in TICKET_DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group tickets by {unknown}; use {', '.join(TICKET_DIMENSIONS)}")
    import ibis

    from csi_helpers.processing import engines

    t = tickets
    keys = ["period", *by]

    def periods(rows: ir.Table, stamp: str) -> ir.Table:
        local = engines.local_time(rows[stamp], timezone, start=start, end=end)
        groups = {c: rows[c].cast("string").fill_null("(none)") for c in by}
        return rows.mutate(period=local.truncate(GRAINS[grain]), **groups)

    opened = (
        periods(_within(t, "opened_at", start, end), "opened_at")
        .group_by(keys)
        .aggregate(opened=lambda r: r.count())
    )
    done = _within(t, "resolved_at", start, end)
    done = done.filter(done.resolved_at >= done.opened_at)
    hours = done.resolved_at.delta(done.opened_at, unit="microsecond") / 1e6 / 3600
    resolved = (
        periods(done.mutate(hours=hours), "resolved_at")
        .group_by(keys)
        .aggregate(
            resolved=lambda r: r.count(),
            mean_hours_to_resolve=lambda r: r.hours.mean(),
            median_hours_to_resolve=lambda r: r.hours.quantile(0.5),
            p90_hours_to_resolve=lambda r: r.hours.quantile(0.9),
        )
    )
    joined = opened.outer_join(resolved, keys)
    expr = joined.select(
        **{k: ibis.coalesce(joined[k], joined[f"{k}_right"]) for k in keys},
        opened=joined.opened.fill_null(0),
        resolved=joined.resolved.fill_null(0),
        mean_hours_to_resolve=joined.mean_hours_to_resolve,
        median_hours_to_resolve=joined.median_hours_to_resolve,
        p90_hours_to_resolve=joined.p90_hours_to_resolve,
    ).order_by(keys)
    return engines.to_pandas(expr)


def monitoring_series(
    monitoring: ir.Table | None,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    grain: str = "day",
    by_service: bool = False,
) -> pd.DataFrame | None:
    """Load, p95 latency, utilisation, capacity and error rate per period (and service).

    ``requests`` is the sum; ``capacity`` the maximum; ``latency_p95_ms`` the 95th
    percentile of the samples' p95 values (linear interpolation, as numpy's
    default); ``peak_utilisation`` the maximum; ``error_rate`` request-weighted
    when request counts exist, else the mean. Periods are naive wall-clock times
    of ``timezone``. None when there is no monitoring table.

    Example:
        >>> import ibis
        >>> samples = ibis.memtable(pd.DataFrame({
        ...     "timestamp": pd.date_range("2026-01-05", periods=4, freq="15min", tz="UTC"),
        ...     "service": "web", "requests": [10.0, 30.0, 20.0, 40.0],
        ...     "capacity": 100.0, "utilisation": [0.1, 0.3, 0.2, 0.4],
        ...     "latency_p95_ms": [100.0, 200.0, 300.0, 400.0],
        ...     "error_rate": [0.0, 0.1, 0.0, 0.0],
        ... }))
        >>> day = monitoring_series(samples, start=pd.Timestamp("2026-01-05", tz="UTC"),
        ...                         end=pd.Timestamp("2026-01-06", tz="UTC"), timezone="UTC")
        >>> day[["requests", "latency_p95_ms", "peak_utilisation", "error_rate"]].iloc[0].tolist()
        [100.0, 385.0, 0.4, 0.03]
    """
    if monitoring is None:
        return None
    _check_grain(grain)
    import ibis

    from csi_helpers.processing import engines

    t = _within(monitoring, "timestamp", start, end)
    local = engines.local_time(t.timestamp, timezone, start=start, end=end)
    groups = {"period": local.truncate(GRAINS[grain])}
    if by_service:
        groups["service"] = t.service.fill_null("(none)")
    weighted = (t.error_rate * t.requests).sum() / t.requests.sum().nullif(0)
    expr = (
        t.group_by(**groups)
        .aggregate(
            requests=t.requests.sum(),
            latency_p95_ms=t.latency_p95_ms.quantile(0.95),
            peak_utilisation=t.utilisation.max(),
            capacity=t.capacity.max(),
            error_rate=ibis.coalesce(weighted, t.error_rate.mean()),
            samples=t.count(),
        )
        .order_by(list(groups))
    )
    return engines.to_pandas(expr)


def _within(table: ir.Table, column: str, start: pd.Timestamp, end: pd.Timestamp) -> ir.Table:
    """Rows whose ``column`` lies in [start, end)."""
    return table.filter((table[column] >= start) & (table[column] < end))


def _check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
