"""Performance KPIs, computed on the canonical monitoring table (hourly samples)."""

from __future__ import annotations

import pandas as pd

from csi_helpers.kpis.base import KpiResult, empty, in_period


def _samples(monitoring: pd.DataFrame, column: str, start: pd.Timestamp, end: pd.Timestamp):
    scoped = monitoring.loc[in_period(monitoring["timestamp"], start, end), column]
    return scoped.dropna(), int(scoped.isna().sum())


def latency_p95(monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """The level that the hourly p95 latency stays under in 95 % of the period's hours (ms).

    Formula: 95th percentile (linear interpolation) of the hourly ``latency_p95_ms``
    samples with start ≤ timestamp < end. Hours without a sample are excluded and counted.

    Example:
        >>> hours = pd.date_range("2026-01-01", periods=21, freq="h", tz="UTC")
        >>> m = pd.DataFrame({"timestamp": hours, "latency_p95_ms": [100.0] * 20 + [500.0]})
        >>> latency_p95(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...             end=pd.Timestamp("2026-01-02", tz="UTC")).value
        100.0
    """
    values, missing = _samples(monitoring, "latency_p95_ms", start, end)
    if values.empty:
        return empty("no latency sample in the period")
    return KpiResult(value=float(values.quantile(0.95)), n=len(values), excluded=missing)


def peak_utilisation(
    monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Utilisation of capacity (%) that only 1 % of the period's hours exceed.

    Formula: 100 × 99th percentile of hourly ``utilisation`` (requests / capacity).

    Example:
        >>> hours = pd.date_range("2026-01-01", periods=101, freq="h", tz="UTC")
        >>> m = pd.DataFrame({"timestamp": hours, "utilisation": [i / 100 for i in range(101)]})
        >>> peak_utilisation(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                  end=pd.Timestamp("2026-02-01", tz="UTC")).value
        99.0
    """
    values, missing = _samples(monitoring, "utilisation", start, end)
    if values.empty:
        return empty("no utilisation sample in the period")
    return KpiResult(value=100.0 * float(values.quantile(0.99)), n=len(values), excluded=missing)
