"""Performance KPIs, computed on the canonical monitoring table (hourly samples).

Every KPI takes the samples with start ≤ timestamp < end; samples without the
value it needs are excluded and counted. Percentiles interpolate linearly
between samples (numpy's and pandas' default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import pandas as pd

from csi_helpers.kpis.base import (
    KpiDefinition,
    KpiResult,
    define,
    empty,
    in_period,
    named_after,
)

LatencyColumn = Literal["latency_ms", "latency_p95_ms"]


def _samples(
    monitoring: pd.DataFrame, column: str, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[pd.Series, int]:
    """The period's non-missing float values of ``column`` and how many were missing."""
    scoped = monitoring.loc[in_period(monitoring["timestamp"], start, end), column]
    return scoped.dropna().astype(float), int(scoped.isna().sum())


def _missing_note(missing: int, column: str) -> str:
    return f"{missing} sample(s) without {column} are left out" if missing else ""


@dataclass(frozen=True)
class FailedRequests:
    """Failed requests over the monitoring samples that carry an error rate and a request count."""

    failed: float  # Σ error_rate × requests
    requests: float  # Σ requests
    samples: int  # samples with both
    left_out: int  # samples lacking either


def failed_requests(samples: pd.DataFrame) -> FailedRequests | None:
    """Σ error_rate × requests and Σ requests over the samples carrying both.

    None when no sample carries both or their requests sum to zero: then there is
    nothing to weight by. A table without a ``requests`` column has no counts.

    Example:
        >>> m = pd.DataFrame({"error_rate": [0.25, 0.5, None], "requests": [300.0, 100.0, 50.0]})
        >>> failed_requests(m)
        FailedRequests(failed=125.0, requests=400.0, samples=2, left_out=1)
        >>> failed_requests(m.drop(columns="requests")) is None
        True
    """
    rate = samples["error_rate"].astype("Float64")
    no_counts = pd.Series(pd.NA, index=samples.index)
    requests = samples.get("requests", no_counts).astype("Float64")
    both = rate.notna() & requests.notna()
    if not both.any() or float(requests[both].sum()) <= 0:
        return None
    return FailedRequests(
        failed=float((rate[both] * requests[both]).sum()),
        requests=float(requests[both].sum()),
        samples=int(both.sum()),
        left_out=int((~both).sum()),
    )


def _over_samples(
    monitoring: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    column: str,
    summarise: Callable[[pd.Series], tuple[float, dict[str, Any]]],
) -> KpiResult:
    """A KPI of the period's ``column`` samples: ``summarise(values)`` gives value and details."""
    values, missing = _samples(monitoring, column, start, end)
    if values.empty:
        return empty(f"no {column} sample in the period", excluded=missing)
    value, details = summarise(values)
    return KpiResult(value, len(values), missing, _missing_note(missing, column), details)


def _on_latency(
    default: LatencyColumn,
) -> Callable[[Callable[[pd.Series], float]], Callable[..., KpiResult]]:
    """A latency KPI: the decorated statistic of the period's samples, under its name and docstring.

    The KPI takes the canonical monitoring table, the period [start, end) and option
    ``column``, the latency column to read (default ``default``); its details name
    the column read.
    """

    def decorate(statistic: Callable[[pd.Series], float]) -> Callable[..., KpiResult]:
        def kpi(
            monitoring: pd.DataFrame,
            *,
            start: pd.Timestamp,
            end: pd.Timestamp,
            column: LatencyColumn = default,
        ) -> KpiResult:
            return _over_samples(
                monitoring, start, end, column, lambda v: (statistic(v), {"column": column})
            )

        return named_after(kpi, statistic)

    return decorate


@_on_latency(default="latency_ms")
def latency_p50(latency: pd.Series) -> float:
    """Median latency of the period's samples (ms).

    Option ``column`` (default "latency_ms"): the latency column to read;
    "latency_p95_ms" gives the median of per-interval p95s.

    Formula: 50th percentile (linear interpolation) of ``column`` over the period's samples.

    Example:
        >>> m = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=4, freq="h",
        ...                                              tz="UTC"),
        ...                   "latency_ms": [100.0, 200.0, 300.0, None]})
        >>> r = latency_p50(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                 end=pd.Timestamp("2026-01-02", tz="UTC"))
        >>> (r.value, r.n, r.excluded)
        (200.0, 3, 1)
    """
    return float(latency.quantile(0.50))


def latency_p95(monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """The level that 95 % of the period's latency samples stay under (ms).

    Reads the raw samples (``latency_ms``, one per request or per probe), so the
    value is the p95 of the cycle's response times. A table that carries only one
    p95 per interval (``latency_p95_ms``, as most monitoring tools export) cannot
    give it: a percentile of per-interval percentiles is not the percentile of the
    samples (a few slow hours barely move it). Such a table measures
    :func:`latency_p95_of_interval_p95` instead, under its own id and name.

    Revision 2: revision 1 read the per-interval p95s by default (option
    ``column``); that definition is now ``latency_p95_of_interval_p95``.

    Formula: 95th percentile (linear interpolation) of ``latency_ms`` over the period's samples.

    Example:
        >>> hours = pd.date_range("2026-01-01", periods=21, freq="h", tz="UTC")
        >>> m = pd.DataFrame({"timestamp": hours, "latency_ms": [100.0] * 19 + [500.0] * 2})
        >>> latency_p95(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...             end=pd.Timestamp("2026-01-02", tz="UTC")).value
        500.0
    """
    return _over_samples(
        monitoring, start, end, "latency_ms", lambda v: (float(v.quantile(0.95)), {})
    )


def latency_p95_of_interval_p95(
    monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """The 95th percentile, over the period's intervals, of each interval's p95 response time (ms).

    For tables that carry one p95 per interval (``latency_p95_ms``, hourly in the
    demo) and no raw samples. It says how slow the 5 % slowest intervals' p95 is,
    not how slow the 5 % slowest requests are: 95 % of the intervals had their own
    p95 below this value, so a twentieth of the hours may be far above it. Count
    those hours with an error budget on ``sli: latency_p95`` (share of intervals
    whose p95 is over a threshold). The details give the largest interval p95.

    Formula: 95th percentile (linear interpolation) of ``latency_p95_ms`` over the period's rows.

    Example:
        >>> hours = pd.date_range("2026-01-01", periods=21, freq="h", tz="UTC")
        >>> m = pd.DataFrame({"timestamp": hours, "latency_p95_ms": [100.0] * 20 + [500.0]})
        >>> r = latency_p95_of_interval_p95(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                                 end=pd.Timestamp("2026-01-02", tz="UTC"))
        >>> r.value, r.details["max_interval_p95_ms"]
        (100.0, 500.0)
    """
    return _over_samples(
        monitoring,
        start,
        end,
        "latency_p95_ms",
        lambda v: (float(v.quantile(0.95)), {"max_interval_p95_ms": float(v.max())}),
    )


@_on_latency(default="latency_ms")
def latency_p99(latency: pd.Series) -> float:
    """The level that latency stays under in 99 % of the period's samples (ms).

    Option ``column`` (default "latency_ms"): the latency column to read.

    Formula: 99th percentile (linear interpolation) of ``column`` over the period's samples.

    Example:
        >>> hours = pd.date_range("2026-01-01", periods=101, freq="h", tz="UTC")
        >>> m = pd.DataFrame({"timestamp": hours, "latency_ms": [float(i) for i in range(101)]})
        >>> latency_p99(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...             end=pd.Timestamp("2026-02-01", tz="UTC")).value
        99.0
    """
    return float(latency.quantile(0.99))


def error_rate(monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """Share of the period's requests that failed (%), request-weighted when counts exist.

    ``error_rate`` is a fraction per sample. When any sample of the period carries
    both an error rate and a request count, samples are weighted by requests and
    those lacking either are excluded and counted; otherwise it is the plain mean
    of the samples' error rates. The note says which.

    Formula: 100 × Σ(error_rate × requests) / Σ requests, else 100 × mean(error_rate).

    Example:
        >>> m = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=2, freq="h",
        ...                                              tz="UTC"),
        ...                   "error_rate": [0.25, 0.5], "requests": [300.0, 100.0]})
        >>> error_rate(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...            end=pd.Timestamp("2026-01-02", tz="UTC")).value
        31.25
    """
    scoped = monitoring[in_period(monitoring["timestamp"], start, end)]
    weighted = failed_requests(scoped)
    if weighted is not None:
        note = "request-weighted: failed requests / requests"
        if weighted.left_out:
            note += f"; {weighted.left_out} sample(s) without error_rate or requests are left out"
        return KpiResult(
            value=100.0 * weighted.failed / weighted.requests,
            n=weighted.samples,
            excluded=weighted.left_out,
            note=note,
            details={
                "weighting": "requests",
                "requests": weighted.requests,
                "failed": weighted.failed,
            },
        )
    rate = scoped["error_rate"].astype("Float64")
    values = rate.dropna().astype(float)
    missing = len(rate) - len(values)
    if values.empty:
        return empty("no error_rate sample in the period", excluded=missing)
    note = "mean of sample error rates (no request counts to weight by)"
    if missing:
        note += f"; {_missing_note(missing, 'error_rate')}"
    return KpiResult(
        value=100.0 * float(values.mean()),
        n=len(values),
        excluded=missing,
        note=note,
        details={"weighting": "samples"},
    )


def mean_utilisation(
    monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Mean utilisation of capacity over the period's samples (%).

    Formula: 100 × mean(``utilisation``), utilisation being requests / capacity.

    Example:
        >>> m = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=3, freq="h",
        ...                                              tz="UTC"),
        ...                   "utilisation": [0.25, 0.5, None]})
        >>> mean_utilisation(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                  end=pd.Timestamp("2026-01-02", tz="UTC")).value
        37.5
    """
    return _over_samples(
        monitoring, start, end, "utilisation", lambda v: (100.0 * float(v.mean()), {})
    )


def peak_utilisation(
    monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Highest utilisation of capacity (%) in any of the period's hours: the busiest hour.

    The details give the hour of the peak.

    Revision 2: revision 1 was the 99th percentile, now ``utilisation_p99``.

    Formula: 100 × maximum of hourly ``utilisation`` (requests / capacity).

    Example:
        >>> hours = pd.date_range("2026-01-01", periods=101, freq="h", tz="UTC")
        >>> m = pd.DataFrame({"timestamp": hours, "utilisation": [i / 100 for i in range(101)]})
        >>> peak_utilisation(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                  end=pd.Timestamp("2026-02-01", tz="UTC")).value
        100.0
    """
    scoped = monitoring[in_period(monitoring["timestamp"], start, end)]

    def busiest(values: pd.Series) -> tuple[float, dict[str, Any]]:
        at = scoped.loc[values.idxmax(), "timestamp"]
        return 100.0 * float(values.max()), {"at": f"{at:%Y-%m-%d %H:%M}"}

    return _over_samples(scoped, start, end, "utilisation", busiest)


def utilisation_p99(
    monitoring: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """99th percentile of hourly utilisation of capacity (%): 1 % of the period's hours exceed it.

    Unlike :func:`peak_utilisation`, a few exceptional hours (about 22 in a
    quarter) do not move it.

    Formula: 100 × 99th percentile (linear interpolation) of hourly ``utilisation``.

    Example:
        >>> hours = pd.date_range("2026-01-01", periods=101, freq="h", tz="UTC")
        >>> m = pd.DataFrame({"timestamp": hours, "utilisation": [i / 100 for i in range(101)]})
        >>> utilisation_p99(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                 end=pd.Timestamp("2026-02-01", tz="UTC")).value
        99.0
    """
    return _over_samples(
        monitoring, start, end, "utilisation", lambda v: (100.0 * float(v.quantile(0.99)), {})
    )


def hours_above_utilisation(
    monitoring: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    threshold: float = 0.75,
) -> KpiResult:
    """Hours of the period in which utilisation exceeded a threshold (count of hourly samples).

    Option ``threshold`` (default 0.75): a fraction of capacity, 0.75 = 75 %.
    The details give the share of samples above it.

    Formula: count of the period's samples with ``utilisation`` > threshold.

    Example:
        >>> m = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=4, freq="h",
        ...                                              tz="UTC"),
        ...                   "utilisation": [0.5, 0.75, 0.8, 1.2]})
        >>> r = hours_above_utilisation(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                             end=pd.Timestamp("2026-01-02", tz="UTC"))
        >>> (r.value, r.details["share_pct"])
        (2.0, 50.0)
    """

    def above(values: pd.Series) -> tuple[float, dict[str, Any]]:
        hours = int((values > threshold).sum())
        return float(hours), {"threshold": threshold, "share_pct": 100.0 * hours / len(values)}

    return _over_samples(monitoring, start, end, "utilisation", above)


_LATENCY_FIELDS = {"column": {"latency_ms": ("latency_ms",), "latency_p95_ms": ("latency_p95_ms",)}}
_SAMPLED, _ERRORS = ("timestamp",), ("timestamp", "error_rate")
_RAW, _INTERVAL_P95 = ("timestamp", "latency_ms"), ("timestamp", "latency_p95_ms")
_UTILISATION = ("timestamp", "utilisation")

_kpi = partial(define, "monitoring")

DEFINITIONS: tuple[KpiDefinition, ...] = (
    _kpi(latency_p50, "Median response time", "ms", _SAMPLED, "lower", _LATENCY_FIELDS),
    _kpi(latency_p95, "p95 response time (all samples)", "ms", _RAW, "lower", revision=2),
    _kpi(
        latency_p95_of_interval_p95,
        "p95 of hourly p95 response times",
        "ms",
        _INTERVAL_P95,
        "lower",
    ),
    _kpi(latency_p99, "p99 response time", "ms", _SAMPLED, "lower", _LATENCY_FIELDS),
    _kpi(error_rate, "Error rate", "%", _ERRORS, "lower"),
    _kpi(mean_utilisation, "Mean utilisation of capacity", "%", _UTILISATION, "lower"),
    _kpi(
        peak_utilisation,
        "Peak utilisation of capacity (busiest hour)",
        "%",
        _UTILISATION,
        "lower",
        revision=2,
    ),
    _kpi(utilisation_p99, "99th percentile of hourly utilisation", "%", _UTILISATION, "lower"),
    _kpi(
        hours_above_utilisation, "Hours above the utilisation threshold", "h", _UTILISATION, "lower"
    ),
)
