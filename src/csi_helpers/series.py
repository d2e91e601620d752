"""Step 4, second half: KPI series aggregated with DuckDB over the Parquet tables.

Aggregations run as SQL over the canonical tables in the run folder, never as
Python loops, so the same code serves the demo and tens of millions of rows.
Days and hours are those of the service's time zone.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


def daily_series(
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    monitoring: Path | None = None,
    tickets: Path | None = None,
    downtime: Path | None = None,
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
    )
    return frame.rename(columns={"period": "day"}).drop(columns="capacity", errors="ignore")


def hourly_series(
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    monitoring: Path | None = None,
    tickets: Path | None = None,
    downtime: Path | None = None,
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
    )
    frame["period"] = frame["period"].dt.tz_localize("UTC")
    return frame.set_index("period").rename_axis("hour")


def period_series(
    *,
    grain: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    monitoring: Path | None = None,
    tickets: Path | None = None,
    downtime: Path | None = None,
) -> pd.DataFrame:
    """One row per hour or day of [start, end): load, latency, utilisation, incidents, downtime.

    Each source is optional; its columns are missing (NaN) when not given. Load,
    capacity, latency, utilisation and error rate are :func:`monitoring_series`
    (one definition for every grain); incidents are :func:`ticket_series`' opened
    count; downtime minutes are the minutes of each outage that fall inside the
    period (an outage over midnight counts on both days).
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
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
    parts = []
    if monitoring is not None:  # the same definitions as monitoring_series
        parts.append(monitoring_series(monitoring, **window).drop(columns="samples"))
    if tickets is not None:
        opened = ticket_series(tickets, **window)[["period", "opened"]]
        parts.append(opened.rename(columns={"opened": "incidents"}))
    if downtime is not None:
        parts.append(
            con.execute(
                f"""
            WITH o AS (
                SELECT greatest(start, $start::TIMESTAMPTZ) AS s,
                       least("end", $end::TIMESTAMPTZ) AS e
                FROM read_parquet('{_sql_path(downtime)}')
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
        )
    frame["period"] = pd.to_datetime(frame["period"])
    for part in parts:
        part["period"] = pd.to_datetime(part["period"]).dt.tz_localize(None)
        frame = frame.merge(part, on="period", how="left")
    for col in ("incidents", "downtime_min"):
        if col in frame:
            frame[col] = frame[col].fillna(0)
    return frame


def weekday_hour_profile(
    monitoring: Path | None, *, start: pd.Timestamp, end: pd.Timestamp, timezone: str
) -> pd.DataFrame | None:
    """Mean load, p95 latency and utilisation per weekday (Mon=0) and hour of day.

    None when there is no monitoring table.
    """
    if monitoring is None:
        return None
    con = _connect()
    frame = con.execute(
        f"""
        SELECT isodow(timezone($tz, timestamp)) - 1 AS weekday,
               hour(timezone($tz, timestamp)) AS hour,
               AVG(requests) AS requests,
               AVG(latency_p95_ms) AS latency_p95_ms,
               AVG(utilisation) AS utilisation,
               COUNT(*) AS samples
        FROM read_parquet('{_sql_path(monitoring)}')
        WHERE timestamp >= $start AND timestamp < $end
        GROUP BY 1, 2
        ORDER BY 1, 2
        """,
        {"start": start.to_pydatetime(), "end": end.to_pydatetime(), "tz": timezone},
    ).df()
    return frame


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


GRAINS = {"hour": "hour", "day": "day", "week": "week"}
TICKET_DIMENSIONS = ("service", "priority", "category", "assignment_group")


def ticket_series(
    tickets: Path | None,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    grain: str = "day",
    by: tuple[str, ...] = (),
) -> pd.DataFrame | None:
    """Tickets opened and resolved, and hours to resolve, per period and group.

    One SQL aggregation over the Parquet table: ``grain`` is hour, day or week (weeks
    start on Monday, in the service's time zone); ``by`` names canonical columns
    (service, priority, category, assignment_group). Missing group values show as
    ``(none)`` so that no ticket drops out of a total.

    Columns: period, the ``by`` columns, opened, resolved, mean_hours_to_resolve,
    median_hours_to_resolve, p90_hours_to_resolve (resolution measured on tickets
    resolved in that period). None when there is no tickets table.
    """
    if tickets is None:
        return None
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
    unknown = [c for c in by if c not in TICKET_DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group tickets by {unknown}; use {', '.join(TICKET_DIMENSIONS)}")
    groups = "".join(f", coalesce(CAST({c} AS VARCHAR), '(none)') AS {c}" for c in by)
    keys = "".join(f", {c}" for c in by)
    sql = f"""
        WITH t AS (SELECT * FROM read_parquet('{_sql_path(tickets)}')),
        opened AS (
            SELECT date_trunc('{grain}', timezone($tz, opened_at)) AS period{groups},
                   COUNT(*) AS opened
            FROM t WHERE opened_at >= $start AND opened_at < $end GROUP BY ALL),
        resolved AS (
            SELECT date_trunc('{grain}', timezone($tz, resolved_at)) AS period{groups},
                   COUNT(*) AS resolved,
                   AVG(epoch(resolved_at - opened_at) / 3600) AS mean_hours_to_resolve,
                   quantile_cont(epoch(resolved_at - opened_at) / 3600, 0.5)
                       AS median_hours_to_resolve,
                   quantile_cont(epoch(resolved_at - opened_at) / 3600, 0.9)
                       AS p90_hours_to_resolve
            FROM t WHERE resolved_at >= $start AND resolved_at < $end
                   AND resolved_at >= opened_at GROUP BY ALL)
        SELECT period{keys}, coalesce(opened, 0) AS opened, coalesce(resolved, 0) AS resolved,
               mean_hours_to_resolve, median_hours_to_resolve, p90_hours_to_resolve
        FROM opened FULL OUTER JOIN resolved USING (period{keys})
        ORDER BY period{keys}
    """
    params = {"start": start.to_pydatetime(), "end": end.to_pydatetime(), "tz": timezone}
    return _connect().execute(sql, params).df()


def monitoring_series(
    monitoring: Path | None,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
    grain: str = "day",
    by_service: bool = False,
) -> pd.DataFrame | None:
    """Load, p95 latency, utilisation, capacity and error rate per period (and service).

    ``requests`` is the sum; ``capacity`` the maximum; ``latency_p95_ms`` the 95th
    percentile of the samples' p95 values; ``peak_utilisation`` the maximum;
    ``error_rate`` request-weighted when request counts exist. None when there is
    no monitoring table.
    """
    if monitoring is None:
        return None
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, got {grain!r}")
    service = ", coalesce(service, '(none)') AS service" if by_service else ""
    key = ", service" if by_service else ""
    sql = f"""
        SELECT date_trunc('{grain}', timezone($tz, timestamp)) AS period{service},
               SUM(requests) AS requests,
               quantile_cont(latency_p95_ms, 0.95) AS latency_p95_ms,
               MAX(utilisation) AS peak_utilisation,
               MAX(capacity) AS capacity,
               coalesce(SUM(error_rate * requests) / nullif(SUM(requests), 0), AVG(error_rate))
                   AS error_rate,
               COUNT(*) AS samples
        FROM read_parquet('{_sql_path(monitoring)}')
        WHERE timestamp >= $start AND timestamp < $end
        GROUP BY ALL ORDER BY period{key}
    """
    params = {"start": start.to_pydatetime(), "end": end.to_pydatetime(), "tz": timezone}
    return _connect().execute(sql, params).df()
