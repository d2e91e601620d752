"""Anomaly episodes in a monitoring series: robust seasonal forecast, trailing robust scale.

This is the online detector, for a series without a calendar of known events
(the Numenta Anomaly Benchmark, ``benchmarks/bench_nab.py``). Step 5 reports a
cycle's anomalies with :mod:`csi_helpers.analysis.event_anomaly`, which learns the
expected level without the known events and gives each episode a calibrated
p-value.

Built for operational metrics (latency, CPU, request counts, error rates): few
false alarms, no crash on gaps, repeated timestamps or NaN, and every score uses
past data only, as an online monitor would (the one batch step is the choice of
season, made once from the whole series).

Every point of the series, put on a regular grid, gets a robust z-score: its
distance from a robust seasonal forecast (season plus trailing level) over a
trailing robust scale, or, for drifts and plateaus, the shift of the recent median
against the median before it. Steps 1 to 5 (grid, forecast, point score, sustained
shifts, second pass) are described with their references in
:mod:`csi_helpers.analysis._robust_scoring`; then:

6. **Episodes.** A flag is held while the score stays above 0.75 of the threshold
   (and, for points, the residual above 0.75 of the envelope), the hysteresis of
   alerting systems; flagged points at most ``merge_gap`` apart (default one hour,
   at least two steps) form one episode. Its peak is the point of largest point
   score; its score is the highest score in it.

Calibration (``threshold`` is a robust z-score). On seasonal Gaussian noise the
rate of false anomalous points tracks the Gaussian tail ``2·Φ(−threshold)``;
measured over 300 simulated 8-week hourly series (tests re-check it on 100):

=========  =======================  =========================  ================
threshold  false points per 10,000  false episodes per 10,000  Gaussian 2·Φ(−k)
=========  =======================  =========================  ================
3.0        37                       28                         27
3.5        5.9                      5.0                        4.7
4.0        0.9                      0.8                        0.6
5.0        0                        0                          0.006
=========  =======================  =========================  ================

The default 3.5 means about one false episode per 2,000 hourly points (three
months) on Gaussian noise; raise it for quieter alerting. Real metrics have
heavier tails, which the two-day envelope absorbs: on the 24 Numenta Anomaly
Benchmark series (``benchmarks/bench_nab.py``) the detector finds 44 of the 49
labelled windows with 396 false-alarm episodes, where a rolling 3-sigma rule finds
41 with 797, and raising the rule to 4 sigma brings it to 405 false alarms but
only 34 windows (``python benchmarks/bench_nab.py --sweep``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis._robust_scoring import (
    HORIZONS,
    LEVEL_WINDOW,
    SCALE_WINDOW,
    score_series,
)
from csi_helpers.analysis.findings import Finding, format_number
from csi_helpers.analysis.question import Question

ANALYSIS = "anomaly"
THRESHOLD = 3.5
MERGE_GAP = "1h"
NULL_FALSE_POINTS_PER_10K = 5.9  # at the default threshold, see the calibration table
EPISODE_COLUMNS = ("start", "end", "peak_at", "peak_value", "expected", "score", "n_points")


def _check_inputs(series: object, period: object, threshold: object) -> None:
    checks.series(series, function="anomaly detection")
    if period is not None:
        checks.integer(
            "period",
            period,
            low=1,
            meaning="a whole number of steps ≥ 1 (1 for no season, 24 for daily in hourly "
            "data) or None to infer it",
        )
    checks.number(
        "threshold",
        threshold,
        meaning="a positive number (a robust z-score)",
        valid=lambda t: bool(np.isfinite(t)) and t > 0,
    )


def _merge_gap(merge_gap: object) -> pd.Timedelta | None:
    """The checked merge gap (None: the default, known once the grid's step is)."""
    if merge_gap is None:
        return None
    message = f"merge_gap must be a duration ≥ 0 such as '1h', got {merge_gap!r}"
    if not isinstance(merge_gap, (str, timedelta, np.timedelta64)):
        raise TypeError(message)
    try:
        gap = pd.Timedelta(merge_gap)
    except ValueError as exc:
        raise ValueError(message) from exc
    if pd.isna(gap) or gap < pd.Timedelta(0):
        raise ValueError(message)
    return gap


def merge_episodes(frame: pd.DataFrame, *, merge_gap: str | pd.Timedelta) -> pd.DataFrame:
    """Merge anomalous points no more than ``merge_gap`` apart into episodes.

    Shared by the detector and by the benchmark's baseline, so both are counted alike.

    Args:
        frame: One row per grid point, indexed by time, with columns ``value``,
            ``expected``, ``score``, boolean ``anomalous`` and optionally
            ``point_score`` (the deviation of the point itself).
        merge_gap: Largest time between two anomalous points of one episode.

    Returns:
        One row per episode with the columns of :data:`EPISODE_COLUMNS`: the peak is
        the point of highest ``point_score`` (``score`` if there is none), and
        ``score`` is the episode's highest score.

    Example:
        >>> t = pd.date_range("2026-05-08", periods=6, freq="h")
        >>> f = pd.DataFrame({"value": [1, 9, 1, 8, 1, 1], "expected": 1.0,
        ...                   "score": [0, 8, 0, 7, 0, 0],
        ...                   "anomalous": [False, True, False, True, False, False]}, index=t)
        >>> merge_episodes(f, merge_gap="2h")[["start", "end", "peak_value", "n_points"]]
                        start                 end  peak_value  n_points
        0 2026-05-08 01:00:00 2026-05-08 03:00:00         9.0         2
    """
    flagged = frame.loc[frame["anomalous"].to_numpy(dtype=bool)]
    if flagged.empty:
        empty = pd.DataFrame({c: [] for c in EPISODE_COLUMNS})
        return empty.astype({c: "float64" for c in ("peak_value", "expected", "score")}).astype(
            {"n_points": "int64"}
        )
    times = flagged.index
    gaps = np.diff(times.as_unit("ns").asi8) > pd.Timedelta(merge_gap).value
    label = np.r_[0, np.cumsum(gaps)]
    rows = []
    by = "point_score" if "point_score" in flagged.columns else "score"
    for _, part in flagged.groupby(label, sort=True):
        peak = int(np.argmax(part[by].to_numpy()))
        rows.append(
            {
                "start": part.index[0],
                "end": part.index[-1],
                "peak_at": part.index[peak],
                "peak_value": float(part["value"].iloc[peak]),
                "expected": float(part["expected"].iloc[peak]),
                "score": float(part["score"].max()),
                "n_points": len(part),
            }
        )
    return pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))


def _default_gap(step: pd.Timedelta) -> pd.Timedelta:
    return max(pd.Timedelta(MERGE_GAP), 2 * step)


def anomaly_scores(
    series: pd.Series, *, period: int | None = None, threshold: float = THRESHOLD
) -> pd.DataFrame:
    """Score every point of a monitoring series against its robust seasonal forecast.

    Args:
        series: Numeric values indexed by timestamps (a regular-ish step; gaps, NaN
            and repeated timestamps are allowed).
        period: Season length in steps (24 for daily in hourly data, 1 for none);
            ``None`` infers none, daily or weekly from the data.
        threshold: Robust z-score above which a point is anomalous.

    Returns:
        One row per step of the regular grid with ``value`` (NaN where missing),
        ``expected``, ``scale`` (robust standard deviation of the point residual),
        ``point_score`` (the point's robust z), ``score`` (the larger of that and the
        sustained-shift score; 0 before enough history) and ``anomalous``. ``attrs``
        holds ``period`` (the season used) and the counts of the data preparation or,
        when the data cannot be scored, ``reason`` and ``detail`` (the frame is then
        empty).

    Raises:
        TypeError: If ``series`` is not a numeric Series with a DatetimeIndex, or an
            option is of the wrong type.
        ValueError: If an option is out of range.

    Example:
        >>> t = pd.date_range("2026-05-01", periods=24 * 14, freq="h")
        >>> y = 100 + 20 * np.sin(2 * np.pi * np.arange(len(t)) / 24)
        >>> y = y + np.random.default_rng(0).normal(0, 2, len(t))
        >>> y[200] += 40
        >>> s = anomaly_scores(pd.Series(y, index=t))
        >>> s.attrs["period"], s["score"].idxmax() == t[200], bool(s["anomalous"].iloc[200])
        (24, True, True)
    """
    _check_inputs(series, period, threshold)
    return score_series(series, period=period, threshold=float(threshold))


def anomaly_episodes(
    series: pd.Series,
    *,
    period: int | None = None,
    threshold: float = THRESHOLD,
    merge_gap: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Find the anomalous episodes of a monitoring series.

    See the module docstring for the method. Data that cannot be scored (too short,
    constant, mostly missing) give an empty table whose ``attrs`` say why; this
    function raises only for programming errors.

    Args:
        series: Numeric values indexed by timestamps (regular-ish step; gaps, NaN and
            repeated timestamps are allowed).
        period: Season length in steps (24 for daily in hourly data, 1 for none);
            ``None`` infers none, daily or weekly from the data.
        threshold: Robust z-score that starts an episode (3.5 by default; the flag
            is held while the score stays above 0.75 of it).
        merge_gap: Anomalous points at most this far apart form one episode; default
            one hour, or two steps if that is longer.

    Returns:
        One row per episode, in time order, with ``start``, ``end`` (first and last
        anomalous point), ``peak_at``, ``peak_value``, ``expected`` (the forecast at
        the peak), ``score`` (the episode's highest score) and ``n_points``. ``attrs``
        holds ``period``, ``merge_gap`` and the counts of the data preparation (and
        ``reason``/``detail`` when nothing could be scored).

    Raises:
        TypeError, ValueError: As :func:`anomaly_scores` (a wrong series or option).

    Example:
        >>> t = pd.date_range("2026-05-01", periods=24 * 14, freq="h")
        >>> y = 100 + 20 * np.sin(2 * np.pi * np.arange(len(t)) / 24)
        >>> y = y + np.random.default_rng(0).normal(0, 2, len(t))
        >>> y[200:203] += 40
        >>> e = anomaly_episodes(pd.Series(y, index=t))
        >>> e[["start", "end", "n_points"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
        [{'start': Timestamp('2026-05-09 08:00:00'), 'end': Timestamp('2026-05-09 10:00:00'),
          'n_points': 3}]
    """
    _check_inputs(series, period, threshold)
    gap = _merge_gap(merge_gap)
    scores = anomaly_scores(series, period=period, threshold=threshold)
    if scores.empty:
        episodes = merge_episodes(scores.assign(anomalous=False), merge_gap=gap or "0s")
        episodes.attrs.update(scores.attrs, merge_gap=None if gap is None else str(gap))
        return episodes
    step = pd.Timedelta(scores.attrs["step"])
    gap = _default_gap(step) if gap is None else gap
    episodes = merge_episodes(scores, merge_gap=gap)
    episodes.attrs.update(scores.attrs, merge_gap=str(gap))
    return episodes


def _when(start: pd.Timestamp, end: pd.Timestamp) -> str:
    zone = f" {start.tzname()}" if start.tzinfo is not None else ""
    first = start.strftime("%Y-%m-%d %H:%M")
    if start == end:
        return f"at {first}{zone}"
    last = end.strftime("%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M")
    return f"from {first} to {last}{zone}"


def detect_anomalies(
    series: pd.Series,
    *,
    metric: str,
    unit: str,
    scope: Mapping[str, Any] | None = None,
    period: int | None = None,
    threshold: float = THRESHOLD,
    merge_gap: str | pd.Timedelta | None = None,
    max_findings: int = 10,
) -> list[Finding]:
    """Report the anomalous episodes of a monitoring series as findings, worst first.

    Args:
        series: Numeric values indexed by timestamps.
        metric: Metric name or KPI id, used in the statements and ids.
        unit: Unit of the values (``"ms"``, ``"requests"``).
        scope: Where the series comes from (service, host, ...), copied to the findings.
        period: Season length in steps, 1 for none, ``None`` to infer.
        threshold: Robust z-score that starts an episode.
        merge_gap: Anomalous points at most this far apart form one episode.
        max_findings: Largest number of findings returned (the highest scores).

    Returns:
        One Finding of kind ``"anomaly"`` per episode, sorted by score, at most
        ``max_findings``: ``effect`` is peak minus expected in ``unit`` with an
        approximate 95 % interval of ± 1.96 robust standard deviations of the point
        residual, ``p_value`` is None (the threshold sets a false-alarm rate, see the
        module docstring), and ``evidence`` holds the episode (start, end, peak_at,
        score, n_points, ...) and ``n_episodes``, how many there were in all. A
        series with no episode gives one ``"no_finding"`` with reason
        ``"no_anomalies"``; one that cannot be scored gives reason ``"too_short"``,
        ``"constant"`` or ``"too_many_missing"``.

    Raises:
        TypeError, ValueError: As :func:`anomaly_scores` (a wrong series or option).

    Example:
        >>> t = pd.date_range("2026-05-01", periods=24 * 14, freq="h", tz="UTC")
        >>> y = 240 + 40 * np.sin(2 * np.pi * np.arange(len(t)) / 24)
        >>> y = y + np.random.default_rng(0).normal(0, 4, len(t))
        >>> y[200:203] += 300
        >>> [f] = detect_anomalies(pd.Series(y, index=t), metric="p95 latency", unit="ms")
        >>> f.statement[:73]
        'p95 latency was anomalous from 2026-05-09 08:00 to 10:00 UTC, peaking at '
        >>> f.id, f.ci_low < f.effect < f.ci_high, f.p_value is None
        ('anomaly:p95 latency#2026-05-09T08:00:00+00:00', True, True)
    """
    _check_inputs(series, period, threshold)
    gap = _merge_gap(merge_gap)
    checks.integer("max_findings", max_findings, low=1)
    checks.label("metric", metric)
    checks.label("unit", unit, blank=True)
    scope = checks.scope(scope)
    scores = anomaly_scores(series, period=period, threshold=threshold)
    counts = {k: v for k, v in scores.attrs.items() if k not in ("reason", "detail")}
    gap = gap if gap is not None or scores.empty else _default_gap(pd.Timedelta(counts["step"]))
    method = (
        f"robust_seasonal_anomaly(period={counts.get('period')}, threshold={threshold}, "
        f"level={LEVEL_WINDOW}, scale_window={SCALE_WINDOW}, horizons={'/'.join(HORIZONS)}, "
        f"merge_gap={gap})"
    )
    asked = Question(ANALYSIS, metric, method, unit, scope)
    tried = {"threshold": threshold}
    if scores.empty:
        detail = f"{metric}: {scores.attrs['detail']}"
        return [asked.no_finding(scores.attrs["reason"], detail, evidence=counts | tried)]
    episodes = merge_episodes(scores, merge_gap=gap)
    n_scored = int(np.count_nonzero(scores["scale"].notna()))
    if episodes.empty:
        detail = (
            f"no anomalies in {metric}: none of {n_scored:,} scored points passed a robust "
            f"z-score of {format_number(threshold)}"
        )
        return [asked.no_finding("no_anomalies", detail, evidence=counts | tried)]
    ranked = episodes.sort_values(["score", "start"], ascending=[False, True]).head(max_findings)
    tally = {"n_episodes": len(episodes), "n_scored": n_scored}
    return [
        _episode(asked, row, scores["scale"], counts, {**tried, "rank": rank, **tally})
        for rank, row in enumerate(ranked.itertuples(index=False), start=1)
    ]


def _episode(
    asked: Question, row: Any, scale: pd.Series, counts: dict[str, Any], rank: dict[str, Any]
) -> Finding:
    """The finding of one episode: how far its peak lay from the expected value.

    ``rank`` holds the threshold, the episode's rank, and how many episodes and
    scored points there were.
    """
    suffix = f" {asked.unit}" if asked.unit else ""
    effect = row.peak_value - row.expected
    half = 1.96 * float(scale.loc[row.peak_at])
    verb = "peaking at" if effect >= 0 else "falling to"
    statement = (
        f"{asked.metric} was anomalous {_when(row.start, row.end)}, {verb} "
        f"{format_number(row.peak_value)}{suffix} against an expected "
        f"{format_number(row.expected)}{suffix} (score {row.score:,.1f})"
    )
    evidence = {
        **counts,
        "start": row.start,
        "end": row.end,
        "peak_at": row.peak_at,
        "peak_value": row.peak_value,
        "expected": row.expected,
        "score": row.score,
        "n_points": row.n_points,
        "scale_at_peak": half / 1.96,
        "direction": "above" if effect >= 0 else "below",
        **rank,
    }
    return asked.finding(
        statement,
        severity="high" if row.score >= 2 * rank["threshold"] else "medium",
        effect=effect,
        ci_low=effect - half,
        ci_high=effect + half,
        evidence=evidence,
        id=f"{asked.id}#{row.start.isoformat()}",
    )
