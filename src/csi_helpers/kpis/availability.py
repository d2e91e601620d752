"""Availability KPIs, computed on the canonical downtime table."""

from __future__ import annotations

import pandas as pd

from csi_helpers.kpis.base import KpiResult


def downtime_minutes(
    downtime: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Minutes of downtime inside the period, overlapping outages counted once.

    Formula: length of the union of [start, end) outage intervals clipped to the period.

    Example:
        >>> day = "2026-01-01 "
        >>> d = pd.DataFrame({"start": pd.to_datetime([day + "10:00", day + "10:30"], utc=True),
        ...                   "end": pd.to_datetime([day + "11:00", day + "11:30"], utc=True)})
        >>> downtime_minutes(d, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                  end=pd.Timestamp("2026-01-02", tz="UTC")).value
        90.0
    """
    clipped = downtime.assign(
        start=downtime["start"].clip(lower=start, upper=end),
        end=downtime["end"].clip(lower=start, upper=end),
    )
    clipped = clipped[clipped["end"] > clipped["start"]].sort_values("start")
    if clipped.empty:
        return KpiResult(value=0.0, n=0)
    # Union of intervals: a new block starts where an outage begins after all earlier ones ended.
    running_end = clipped["end"].cummax().shift()
    block = (clipped["start"] > running_end).cumsum()
    merged = clipped.groupby(block).agg(start=("start", "min"), end=("end", "max"))
    minutes = (merged["end"] - merged["start"]).dt.total_seconds().sum() / 60
    return KpiResult(value=float(minutes), n=len(clipped))


def availability(downtime: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """Percentage of the period (24×7) during which the service was up.

    Formula: 100 × (1 − downtime minutes / minutes in the period).

    Example:
        >>> d = pd.DataFrame({"start": pd.to_datetime(["2026-01-01 10:00"], utc=True),
        ...                   "end": pd.to_datetime(["2026-01-01 10:36"], utc=True)})
        >>> availability(d, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...              end=pd.Timestamp("2026-01-02", tz="UTC")).value
        97.5
    """
    down = downtime_minutes(downtime, start=start, end=end)
    period = (end - start).total_seconds() / 60
    return KpiResult(value=100.0 * (1 - down.value / period), n=down.n)
