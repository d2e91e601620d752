"""Anomalies of an hourly series that known events do not explain, with a calibrated p-value.

Step 5's anomaly question: "did the series leave its usual range at a time nothing
known explains?". The usual range is :func:`~csi_helpers.analysis.expected_level.expected_level`,
learned without the known events. Then:

- **Calibrated per series per cycle.** Each hour's z-score gives a two-sided normal
  tail probability; an episode's p-value is the Šidák bound for the largest such
  deviation among the ``n`` scored hours of the cycle, ``1 − (1 − p_hour)^n``: the
  chance that a series of this length, with no anomaly at all, has somewhere an
  hour this far out. An episode is reported when that p-value is at most
  ``alpha``, so across a null cycle the chance of any false episode in one series
  is at most ``alpha`` (the benchmark in ``tests/analysis/test_event_anomaly.py``
  checks it on 100 seeds per null family). The statement turns the p-value into
  "a deviation this large is expected by chance less than once in N cycles".
- **Episodes.** Around each reported hour, the neighbouring hours that lie on the
  same side at more than :data:`HOLD_Z` form the episode; its peak is its largest
  deviation. Its size is the mean over its hours of value minus expected, not the
  peak's: the peak is the hour where the noise happened to add most to the
  deviation, so its size overstates the event (on the benchmark's one-day load
  drop, the peak-hour interval held the planted drop in 70 % of seeds). The
  interval of the mean adds the hours' expected ranges in quadrature, inflated by
  ``(1 + ρ)/(1 − ρ)`` for the lag-1 autocorrelation ``ρ`` of the cycle's z-scores.
- **Known events.** An episode whose peak falls inside a known event (a campaign
  or other calendar window, a change with its after-window, an outage) is not an
  anomaly: it is attributed to that event. The episodes of one event kind make
  one finding of kind ``"event_episode"`` that lists each episode with the
  event's id, name and kind, so step 6 can say "latency spiked on 1 May
  18–22 h during campaign X".

This detector is the batch one for a whole cycle with its calendar. The online
detector of :mod:`csi_helpers.analysis.anomaly` (trailing data only, no calendar)
is kept for the Numenta Anomaly Benchmark (``benchmarks/bench_nab.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csi_helpers.analysis import checks
from csi_helpers.analysis.expected_level import (
    EVENT_COLUMNS,
    PERIOD,
    SEASONAL_WINDOW,
    expected_level,
)
from csi_helpers.analysis.findings import Finding, format_number
from csi_helpers.analysis.question import Question

__all__ = ["HOLD_Z", "cycle_p_values", "episodes", "event_anomalies"]

HOLD_Z = 2.5  # an episode extends over neighbouring hours beyond this z on the same side
EVENT_WORDS = {
    "calendar": "calendar events (campaigns)",
    "changes": "changes and the hours after them",
    "downtime": "outages",
}


def cycle_p_values(z: np.ndarray, n: int) -> np.ndarray:
    """The chance that ``n`` null hours hold one at least as far out as each ``z``.

    Args:
        z: Standardised deviations (NaN allowed, giving NaN).
        n: Number of hours scored in the cycle.

    Returns:
        ``1 − (1 − 2·Φ(−|z|))^n`` for each ``z`` (Šidák's bound for the maximum).

    Example:
        >>> [round(float(p), 3) for p in cycle_p_values(np.array([0.0, 3.0, 4.5]), 2000)]
        [1.0, 0.996, 0.013]
    """
    point = 2.0 * stats.norm.sf(np.abs(z))
    return -np.expm1(n * np.log1p(-np.minimum(point, 1.0 - 1e-16)))


def episodes(fit: pd.DataFrame, *, alpha: float) -> pd.DataFrame:
    """The episodes of a fitted series (:func:`expected_level`) whose peak passes ``alpha``.

    Args:
        fit: The frame of :func:`expected_level`.
        alpha: Largest cycle-level p-value of a reported peak.

    Returns:
        One row per episode in time order: ``start``, ``end``, ``peak_at``,
        ``peak_value``, ``expected``, ``low``, ``high`` (the expected range at the
        peak), ``z``, ``p_value`` (cycle level), ``n_points``, ``event`` (row
        of the events table at the peak, −1 for none), and over the episode's
        hours ``mean_value``, ``mean_expected`` and the 95 % interval of the mean
        deviation, ``ci_low`` and ``ci_high``.
    """
    z = fit["z"].to_numpy()
    if not np.isfinite(z).any():
        return pd.DataFrame(columns=_EPISODE_COLUMNS)
    p = cycle_p_values(z, fit.attrs["n_scored"])
    inflation = _inflation(z)
    sign = np.sign(np.nan_to_num(z))
    held = np.abs(np.nan_to_num(z)) > HOLD_Z
    run = np.r_[0, np.cumsum((held[1:] != held[:-1]) | (sign[1:] != sign[:-1]))]
    rows = []
    for label in np.unique(run[held]):
        at = np.flatnonzero(run == label)
        peak = at[np.argmax(np.abs(z[at]))]
        if p[peak] <= alpha:
            rows.append(_episode_row(fit, at, peak, p[peak], inflation))
    return pd.DataFrame(rows, columns=_EPISODE_COLUMNS)


def _inflation(z: np.ndarray) -> float:
    """Variance factor ``(1 + ρ)/(1 − ρ)`` of a mean of neighbouring hours, ρ ∈ [0, 0.9]."""
    pairs = np.isfinite(z[1:]) & np.isfinite(z[:-1])
    if pairs.sum() < 3:
        return 1.0
    a, b = z[1:][pairs], z[:-1][pairs]
    rho = float(np.clip(np.corrcoef(a, b)[0, 1], 0.0, 0.9)) if a.std() and b.std() else 0.0
    return (1 + rho) / (1 - rho)


_EPISODE_COLUMNS = (
    "start",
    "end",
    "peak_at",
    "peak_value",
    "expected",
    "low",
    "high",
    "z",
    "p_value",
    "n_points",
    "event",
    "mean_value",
    "mean_expected",
    "ci_low",
    "ci_high",
)


def _episode_row(
    fit: pd.DataFrame, at: np.ndarray, peak: int, p: float, inflation: float
) -> dict[str, Any]:
    row, hours = fit.iloc[peak], fit.iloc[at]
    value, expected = hours["value"].to_numpy(float), hours["expected"].to_numpy(float)
    # each hour's 95 % range above and below its expected level (asymmetric on the
    # raw scale), added in quadrature for the mean of the episode's hours
    above = np.sqrt(inflation * np.sum((hours["high"].to_numpy(float) - expected) ** 2))
    below = np.sqrt(inflation * np.sum((expected - hours["low"].to_numpy(float)) ** 2))
    deviation = float(np.mean(value - expected))
    return {
        "start": fit.index[at[0]],
        "end": fit.index[at[-1]],
        "peak_at": fit.index[peak],
        "peak_value": float(row["value"]),
        "expected": float(row["expected"]),
        "low": float(row["low"]),
        "high": float(row["high"]),
        "z": float(row["z"]),
        "p_value": float(p),
        "n_points": len(at),
        "event": int(row["event"]),
        "mean_value": float(np.mean(value)),
        "mean_expected": float(np.mean(expected)),
        "ci_low": deviation - above / len(at),
        "ci_high": deviation + below / len(at),
    }


def event_anomalies(
    series: pd.Series,
    events: pd.DataFrame | None = None,
    *,
    metric: str,
    unit: str,
    alpha: float = 0.05,
    scope: Mapping[str, Any] | None = None,
    max_findings: int = 5,
) -> list[Finding]:
    """Report the episodes of an hourly series: anomalies, and those known events explain.

    Args:
        series: Hourly values indexed by timestamps.
        events: Known events with the columns of
            :data:`~csi_helpers.analysis.expected_level.EVENT_COLUMNS` (``start``,
            ``end``, ``event_id``, ``name``, ``kind``: ``"calendar"``,
            ``"changes"`` or ``"downtime"``); None for none.
        metric: Metric name, used in the statements and ids.
        unit: Unit of the values.
        alpha: Largest cycle-level p-value of a reported episode.
        scope: Where the series comes from, copied to the findings.
        max_findings: Largest number of anomaly findings (the smallest p-values).

    Returns:
        One Finding of kind ``"anomaly"`` per episode outside events (at most
        ``max_findings``), whose ``effect`` is the episode's mean value minus
        its mean expected level with a 95 % interval, and ``p_value`` the
        cycle-level p-value;
        one Finding of kind ``"event_episode"`` per event kind with episodes, its
        ``evidence["episodes"]`` listing each with ``event_id``, ``event_name``
        and ``event_kind``. No episode outside events gives one ``"no_finding"``
        with reason ``"no_anomalies"``; a series that cannot be fitted one with
        reason ``"too_short"`` or ``"constant"``.

    Raises:
        TypeError, ValueError: A wrong series, events table or option.

    Example:
        >>> t = pd.date_range("2026-04-06", periods=24 * 7 * 10, freq="h", tz="UTC")
        >>> rng = np.random.default_rng(3)
        >>> shape = 100 + 50 * np.sin(2 * np.pi * t.hour.to_numpy() / 24)
        >>> y = shape * rng.lognormal(0, 0.05, len(t))
        >>> y[600:606] *= 0.5
        >>> [f] = event_anomalies(pd.Series(y, index=t), metric="load", unit="requests")
        >>> f.kind, f.evidence["start"], f.p_value < 0.001
        ('anomaly', '2026-05-01T00:00:00+00:00', True)
        >>> f.statement.split("; ")[1]
        'a deviation this large is expected by chance less than once in a million cycles'

    """
    checks.alpha(alpha)
    checks.integer("max_findings", max_findings, low=1)
    checks.label("metric", metric)
    checks.label("unit", unit, blank=True)
    scope = checks.scope(scope)
    events = _checked_events(events)
    fit = expected_level(series, events)
    method = (
        f"event_masked_stl(period={PERIOD}, seasonal={SEASONAL_WINDOW}, "
        f"power={fit.attrs.get('power')}, hold_z={HOLD_Z}, alpha={alpha}, sidak over the cycle)"
    )
    asked = Question("anomaly", metric, method, unit, scope)
    if "reason" in fit.attrs:
        return [asked.no_finding(fit.attrs["reason"], f"{metric}: {fit.attrs['detail']}")]
    found = episodes(fit, alpha=alpha)
    keys = ("power", "scale", "held_out_scale", "n_scored", "n_event_hours")
    counts = {k: fit.attrs[k] for k in keys}
    outside = found[found["event"] < 0].sort_values(["p_value", "start"]).head(max_findings)
    results = [_anomaly(asked, row, counts, alpha) for row in outside.itertuples(index=False)]
    if not results:
        detail = (
            f"no anomalies in {metric}: no hour outside known events of the "
            f"{counts['n_scored']:,} scored passed the cycle-level p-value of {alpha}"
        )
        results.append(asked.no_finding("no_anomalies", detail, evidence=counts))
    inside = found[found["event"] >= 0]
    if not inside.empty:
        explained = Question("event_episode", metric, method, unit, scope)
        for kind, part in inside.groupby(events["kind"].to_numpy()[inside["event"]], sort=True):
            results.append(_explained(explained, part, events, str(kind), counts))
    return results


def _checked_events(events: pd.DataFrame | None) -> pd.DataFrame:
    if events is None:
        return pd.DataFrame({c: [] for c in EVENT_COLUMNS})
    checks.frame(events, function="event_anomalies", what="an events table")
    checks.columns(events, [(c, c) for c in EVENT_COLUMNS], table="the events table")
    return events.reset_index(drop=True)


def _rarity(p: float) -> str:
    """How often chance alone gives a deviation this large, in cycles."""
    if p >= 0.01:
        return f"about once in {format_number(round(1 / p))} cycles"
    if p < 1e-6:
        return "less than once in a million cycles"
    return f"less than once in {10 ** int(np.floor(-np.log10(p))):,} cycles"


def _when(start: pd.Timestamp, end: pd.Timestamp) -> str:
    zone = f" {start.tzname()}" if start.tzinfo is not None else ""
    first = start.strftime("%Y-%m-%d %H:%M")
    if start == end:
        return f"at {first}{zone}"
    last = end.strftime("%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M")
    return f"from {first} to {last}{zone}"


def _moved(row: Any, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    verb = "rose to" if row.mean_value >= row.mean_expected else "fell to"
    mean = "" if row.n_points == 1 else "a mean of "
    return (
        f"{verb} {mean}{format_number(row.mean_value)}{suffix} against an expected "
        f"{format_number(row.mean_expected)}{suffix}"
    )


def _record(row: Any) -> dict[str, Any]:
    return {
        "start": row.start,
        "end": row.end,
        "peak_at": row.peak_at,
        "peak_value": row.peak_value,
        "expected": row.expected,
        "expected_low": row.low,
        "expected_high": row.high,
        "z": row.z,
        "p_value": row.p_value,
        "n_points": row.n_points,
        "mean_value": row.mean_value,
        "mean_expected": row.mean_expected,
        "direction": "above" if row.mean_value >= row.mean_expected else "below",
    }


def _anomaly(asked: Question, row: Any, counts: dict[str, Any], alpha: float) -> Finding:
    statement = (
        f"{asked.metric} {_moved(row, asked.unit)} {_when(row.start, row.end)}, outside "
        f"any known event; a deviation this large is expected by chance {_rarity(row.p_value)}"
    )
    return asked.finding(
        statement,
        severity="high" if row.p_value <= alpha / 10 else "medium",
        effect=row.mean_value - row.mean_expected,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        p_value=row.p_value,
        evidence={**counts, **_record(row)},
        id=f"{asked.id}#{row.start.isoformat()}",
    )


def _explained(
    asked: Question, part: pd.DataFrame, events: pd.DataFrame, kind: str, counts: dict[str, Any]
) -> Finding:
    listed = []
    for row in part.itertuples(index=False):
        event = events.iloc[row.event]
        listed.append(
            {
                **_record(row),
                "event_id": str(event["event_id"]),
                "event_name": str(event["name"]),
                "event_kind": kind,
            }
        )
    top = part.loc[part["p_value"].idxmin()]
    worst = next(e for e in listed if e["peak_at"] == top["peak_at"])
    statement = (
        f"{asked.metric} left its expected range in {len(listed)} episode(s) during "
        f"{EVENT_WORDS.get(kind, kind)}, attributed to those events rather than reported as "
        f"anomalies; the largest, {_when(top['start'], top['end'])} during "
        f"{worst['event_name']}, {_moved(top, asked.unit)}"
    )
    return asked.finding(
        statement,
        severity="low",
        effect=float(top["mean_value"] - top["mean_expected"]),
        ci_low=float(top["ci_low"]),
        ci_high=float(top["ci_high"]),
        p_value=float(top["p_value"]),
        evidence={**counts, "event_kind": kind, "episodes": listed, **worst},
        id=f"{asked.id}#{kind}",
    )
