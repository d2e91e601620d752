"""Anomaly episodes in a monitoring series: robust seasonal forecast, trailing robust scale.

Built for operational metrics (latency, CPU, request counts, error rates): few
false alarms, no crash on gaps, repeated timestamps or NaN, and every score uses
past data only, as an online monitor would (the one batch step is the choice of
season, made once from the whole series).

1. **Grid.** Repeated timestamps (a clock set back for daylight saving) are
   averaged, points are snapped to a regular grid (its step the most common time
   between points if 15 % of them share it, else the median) and missing steps
   stay NaN (never interpolated).
2. **Forecast.** ``expected = season + level``. The season is the median, over
   the values 1-4 periods earlier, of each value less its trailing one-period
   median (a robust seasonal naive forecast of the detrended series, cf. Hyndman
   & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.2, and
   the seasonal/trend split of STL); the level is the median of the
   deseasonalised values over the trailing :data:`LEVEL_WINDOW` (3 h, at least 12
   steps). With ``period=None`` no season, a daily and a weekly one (periods
   inferred from the step, tried when the series spans three) compete: a season is
   used if it cuts the median absolute forecast error by 10 %, the weekly one if
   it is within 5 % of the daily one.
3. **Point score.** The residual over a robust scale: the larger of
   ``1.4826 × median |r|`` and ``1.2533 × mean |r|`` over the trailing
   :data:`SCALE_WINDOW` (14 days), both σ for Gaussian noise, the second keeping
   the scale from collapsing on quantised or mostly idle metrics; points already
   above the threshold are left out in a second pass. This robust z-score follows
   the median/MAD scoring of Twitter's S-H-ESD (Hochenbaum, Vallis & Kejariwal
   2017) and Rousseeuw & Croux (1993). A point is **anomalous** when its score
   exceeds ``threshold`` *and* its residual exceeds every residual of the last
   :data:`ENVELOPE_WINDOW` (2 days, residuals of sustained shifts excluded): a
   burst that happens daily is the metric's normal behaviour, however large.
4. **Sustained shifts.** For each horizon ``h`` of :data:`HORIZONS` (1 h, 6 h) the
   median of the last ``h`` is compared with the median of the ``4·h`` before it
   and scored by the same robust z (its scale at least half the point scale, so a
   shift must also matter next to the point noise). A point belongs to a shift when
   this score passes the threshold and the point itself lies at least half the
   shift away in the same direction. This finds drifts and plateaus too small for
   any single point, and a level shift is flagged from its start until the level
   has followed it.
5. **Second pass.** Everything is scored again with the first pass's anomalies
   left out of the history that forecasts and shift bases are built from (for at
   most one level window per run, so a lasting shift becomes the new normal): an
   incident neither becomes its own baseline nor leaves an echo after it ends.
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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import Finding, finding_id, format_number, no_finding
from csi_helpers.errors import DataError

ANALYSIS = "anomaly"
THRESHOLD = 3.5
HYSTERESIS = 0.75  # a flag is held while the score stays above this share of the threshold
LEVEL_WINDOW = "3h"  # trailing median of the level, over this and ...
LEVEL_MIN_STEPS = 12  # ... at least this many steps
SCALE_WINDOW = "14D"  # trailing window of the robust scales
ENVELOPE_WINDOW = "2D"  # a point must exceed every calm residual of this window
HORIZONS: tuple[str, ...] = ("1h", "6h")  # sustained shifts: median of the last h ...
HORIZON_BASE = 4  # ... against the median of the 4·h before it
HORIZON_MIN_SHIFT = 0.5  # scale of a shift ≥ this share of the point scale
FLOOR_SHARE = 1e-3  # no scale below 0.1 % of the range of the values seen so far
SEASON_LAGS = 4
WARM_UP = "6h"  # history a scale needs before points are scored (at least 12 steps)
MERGE_GAP = "1h"
MIN_POINTS = 48
MAX_MISSING_SHARE = 0.75
STEP_MODE_SHARE = 0.15  # the grid step is the most common step if this share has it
SEASON_GAIN = 0.9  # a season is kept if it cuts the median absolute error by 10 %
SEASON_TIE = 1.05  # ... and the longer of two seasons within 5 % of each other wins
NULL_FALSE_POINTS_PER_10K = 5.9  # at the default threshold, see the calibration table
EPISODE_COLUMNS = ("start", "end", "peak_at", "peak_value", "expected", "score", "n_points")
_MAD = 1.4826  # σ / MAD for Gaussian noise
_MEAN_AD = 1.2533  # σ / mean absolute deviation for Gaussian noise


@dataclass(frozen=True)
class _Grid:
    """A series on its regular grid, with the counts of what was done to it."""

    index: pd.DatetimeIndex
    values: np.ndarray
    step: pd.Timedelta
    counts: dict[str, Any]


@dataclass(frozen=True)
class _Prepared:
    grid: _Grid | None
    reason: str | None = None
    detail: str = ""


def _check_series(series: object) -> None:
    if not isinstance(series, pd.Series):
        raise DataError(f"anomaly detection expects a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise DataError(
            f"series {series.name!r} must be indexed by timestamps (a DatetimeIndex), "
            f"got {type(series.index).__name__}; set the timestamp column as the index"
        )
    if not (pd.api.types.is_numeric_dtype(series.dtype) or series.dtype == object):
        raise DataError(f"series {series.name!r} has dtype {series.dtype}; expected numbers")


def _check_options(
    period: object, threshold: object, merge_gap: object, max_findings: object = 1
) -> pd.Timedelta | None:
    if period is not None and (
        isinstance(period, bool) or not isinstance(period, int) or period < 1
    ):
        raise DataError(
            f"period must be a whole number of steps ≥ 1 (1 for no season, 24 for daily "
            f"in hourly data) or None to infer it, got {period!r}"
        )
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not np.isfinite(threshold)
        or threshold <= 0
    ):
        raise DataError(
            f"threshold must be a positive number (a robust z-score), got {threshold!r}"
        )
    if isinstance(max_findings, bool) or not isinstance(max_findings, int) or max_findings < 1:
        raise DataError(f"max_findings must be an integer ≥ 1, got {max_findings!r}")
    if merge_gap is None:
        return None
    try:
        gap = pd.Timedelta(merge_gap)
    except (TypeError, ValueError) as exc:
        raise DataError(f"merge_gap must be a duration such as '1h', got {merge_gap!r}") from exc
    if pd.isna(gap) or gap < pd.Timedelta(0):
        raise DataError(f"merge_gap must be a duration ≥ 0 such as '1h', got {merge_gap!r}")
    return gap


def _prepare(series: pd.Series) -> _Prepared:
    """Put the series on its regular grid, or say why the data cannot be scored."""
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values)).dropna()
    n_total = len(series)
    counts: dict[str, Any] = {"n_total": n_total, "n_missing_values": n_total - len(values)}
    if len(values) < MIN_POINTS:
        return _Prepared(
            None, "too_short", f"series too short: {len(values)} values, need ≥ {MIN_POINTS}"
        )
    index = values.index.as_unit("ns")
    ns = index.asi8
    order = np.argsort(ns, kind="stable")
    ns, y = ns[order], values.to_numpy()[order]
    diffs = np.diff(ns)
    positive = diffs[diffs > 0]
    if len(positive) == 0:
        return _Prepared(None, "too_short", "all values share one timestamp")
    steps, counts_of = np.unique(positive, return_counts=True)
    common = int(np.argmax(counts_of))
    # the most common step if it is common (a regular series with holes), else the median
    if counts_of[common] >= STEP_MODE_SHARE * len(positive):
        step = int(steps[common])
    else:
        step = int(np.median(positive))
    position = np.round((ns - ns[0]) / step).astype("int64")
    n_grid = int(position[-1]) + 1
    slots, inverse = np.unique(position, return_inverse=True)
    counts["n_duplicates"] = int(len(position) - len(slots))
    missing_share = 1 - len(slots) / n_grid
    counts.update(n_values=len(slots), n_grid=n_grid, missing_share=missing_share)
    if missing_share > MAX_MISSING_SHARE:
        return _Prepared(
            None,
            "too_many_missing",
            f"series mostly missing: {len(slots):,} of {n_grid:,} expected points at its "
            f"{pd.Timedelta(step)} step are present ({missing_share:.0%} missing, "
            f"allowed ≤ {MAX_MISSING_SHARE:.0%})",
        )
    if len(slots) < MIN_POINTS:
        return _Prepared(
            None, "too_short", f"series too short: {len(slots)} timestamps, need ≥ {MIN_POINTS}"
        )
    if np.ptp(y) == 0:
        return _Prepared(None, "constant", f"series is constant at {format_number(float(y[0]))}")
    grid = np.full(n_grid, np.nan)
    grid[slots] = np.bincount(inverse, weights=y) / np.bincount(inverse)
    start = pd.Timestamp(ns[0], unit="ns")
    full = pd.DatetimeIndex(start + pd.to_timedelta(np.arange(n_grid) * step, unit="ns"))
    if index.tz is not None:
        full = full.tz_localize("UTC").tz_convert(index.tz)
    counts["step"] = str(pd.Timedelta(step))
    return _Prepared(_Grid(full, grid, pd.Timedelta(step), counts))


def _steps(duration: str, step: pd.Timedelta) -> int:
    return max(1, round(pd.Timedelta(duration) / step))


def _trailing(x: np.ndarray, window: int, min_periods: int) -> pd.core.window.Rolling:
    """Rolling window over the values strictly before each point."""
    return pd.Series(x).shift(1).rolling(window, min_periods=min(min_periods, window))


def _seasonal_naive(y: np.ndarray, period: int) -> np.ndarray:
    """Median of the values 1..SEASON_LAGS periods earlier (NaN where none exist)."""
    lagged = np.full((SEASON_LAGS, len(y)), np.nan)
    for k in range(1, SEASON_LAGS + 1):
        if k * period < len(y):
            lagged[k - 1, k * period :] = y[: -k * period]
    present = np.sum(~np.isnan(lagged), axis=0)
    out = np.full(len(y), np.nan)
    some = present > 0
    out[some] = np.nanmedian(lagged[:, some], axis=0)
    return out


def _season(y: np.ndarray, period: int | None) -> np.ndarray:
    """Seasonal component: the seasonal naive forecast of the values less their level.

    The level removed is each value's trailing median over one period, so a level
    shift moves one of the lags at a time and the median over lags ignores it.
    """
    if period is None:
        return np.zeros(len(y))
    cycle = _trailing(y, period, max(1, period // 2)).median().to_numpy()
    return _seasonal_naive(y - cycle, period)


def _forecast(y: np.ndarray, season: np.ndarray, level: int) -> np.ndarray:
    """Season plus the level: the trailing median of the deseasonalised values."""
    return season + _trailing(y - season, level, 3).median().to_numpy()


def _choose_period(y: np.ndarray, step: pd.Timedelta, period: int | None, level: int) -> int | None:
    """The season to use: the given one, or the best of none, daily and weekly."""
    n = len(y)
    if period is not None:
        return period if period >= 2 and 2 * period <= n else None
    candidates: list[int | None] = [None]
    for days in (1, 7):
        per = pd.Timedelta(days=days) / step
        if per >= 2 and abs(per - round(per)) < 1e-9 and 3 * round(per) <= n:
            candidates.append(round(per))
    if len(candidates) == 1:
        return None
    errors = {p: np.abs(y - _forecast(y, _season(y, p), level)) for p in candidates}
    common = np.logical_and.reduce([~np.isnan(e) for e in errors.values()])
    if common.sum() < MIN_POINTS:
        return None
    mae = {p: float(np.median(e[common])) for p, e in errors.items()}
    useful = [p for p in candidates[1:] if mae[p] < SEASON_GAIN * mae[None]]
    if not useful:
        return None
    least = min(mae[p] for p in useful)
    return max(p for p in useful if mae[p] <= SEASON_TIE * least)


def _robust_scale(x: np.ndarray, window: int, warm: int, floor: np.ndarray) -> np.ndarray:
    """Trailing robust standard deviation of ``x`` (a residual, centred on zero).

    The larger of ``1.4826 × median |x|`` and ``1.2533 × mean |x|``: both estimate σ
    for Gaussian noise, and the second does not collapse to zero when most residuals
    are exactly zero (quantised or mostly idle metrics). Floored; NaN until ``warm``
    values have been seen.
    """
    rolling = _trailing(np.abs(x), window, warm)
    scale = np.fmax(_MAD * rolling.median().to_numpy(), _MEAN_AD * rolling.mean().to_numpy())
    return np.where(np.isnan(scale), np.nan, np.fmax(scale, floor))


def _robust_z(
    x: np.ndarray, window: int, warm: int, floor: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Robust z of ``x`` against its trailing scale, flagged points left out (two passes)."""
    scale = _robust_scale(x, window, warm, floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(x) / scale
        masked = np.where(np.nan_to_num(z) > threshold, np.nan, x)
        scale = _robust_scale(masked, window, warm, floor)
        z = np.abs(x) / scale
    return np.nan_to_num(z), scale


def _hold(trigger: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Extend each triggered point over its run of ``held`` points (hysteresis)."""
    held = held | trigger
    run = np.cumsum(np.r_[True, held[1:] != held[:-1]])
    return held & np.isin(run, np.unique(run[trigger]))


@dataclass(frozen=True)
class _Setup:
    """Window lengths in steps, and the floor of every scale."""

    level: int
    window: int
    envelope: int
    warm: int
    floor: np.ndarray


def _with_fallback(clean: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """``clean`` carried forward over its gaps, ``raw`` before it has any value."""
    return np.where(np.isnan(raw), np.nan, pd.Series(clean).ffill().fillna(pd.Series(raw)))


def _score_points(
    y: np.ndarray,
    period: int | None,
    setup: _Setup,
    step: pd.Timedelta,
    threshold: float,
    clean: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Forecast, scores and flags of every grid point.

    With ``clean`` (``y`` less earlier anomalies), the forecast and the bases of the
    sustained scores are built from it, falling back to ``y`` where it has no data.
    """
    n = len(y)
    season = _season(y, period)
    level = _trailing(y - season, setup.level, 3).median().to_numpy()
    if clean is not None:
        clean_season = _season(clean, period)
        season = np.where(np.isnan(clean_season), season, clean_season)
        clean_level = _trailing(clean - season, setup.level, 3).median().to_numpy()
        level = _with_fallback(clean_level, level)
    expected = season + level
    residual = y - expected
    point, scale = _robust_z(residual, setup.window, setup.warm, setup.floor, threshold)

    # Sustained shifts: median of the last h against the median of the 4·h before it.
    deseasonalised = pd.Series(y - season)
    sustained = np.zeros(n)
    for horizon in HORIZONS:
        h = _steps(horizon, step) // 2 * 2 + 1  # odd: the median moves only on a majority
        if h < 3 or 2 * (HORIZON_BASE + 1) * h > n:
            continue
        recent = deseasonalised.rolling(h, min_periods=h).median().to_numpy()
        wide = HORIZON_BASE * h

        def base_of(d: pd.Series, h: int = h, wide: int = wide) -> np.ndarray:
            return d.shift(h).rolling(wide, min_periods=wide // 2).median().to_numpy()

        base = base_of(deseasonalised)
        if clean is not None:
            base = _with_fallback(base_of(pd.Series(clean - season)), base)
        shift = recent - base
        z, _ = _robust_z(
            shift,
            max(setup.window, 4 * wide),
            setup.warm,
            np.fmax(setup.floor, HORIZON_MIN_SHIFT * np.nan_to_num(scale)),
            threshold,
        )
        # ... and a point belongs to the shift only if it is itself shifted that way.
        own = deseasonalised.to_numpy() - base
        with np.errstate(invalid="ignore"):
            along = np.sign(own) == np.sign(shift)
            along &= np.abs(own) >= 0.5 * np.abs(shift)
        sustained = np.fmax(sustained, np.where(along, z, 0.0))
    shifted = sustained > threshold

    # A point counts only if it also exceeds every calm residual of the envelope window.
    size = np.abs(residual)
    record = _trailing(np.where(shifted, np.nan, size), setup.envelope, 1).max().to_numpy()
    point_trigger = (point > threshold) & ~(size <= record)
    point_held = (point > HYSTERESIS * threshold) & ~(size <= HYSTERESIS * record)
    anomalous = _hold(point_trigger, point_held) | _hold(
        shifted, sustained > HYSTERESIS * threshold
    )
    return {
        "expected": expected,
        "scale": scale,
        "point_score": point,
        "score": np.fmax(point, sustained),
        "anomalous": anomalous,
    }


def _fresh(anomalous: np.ndarray, length: int) -> np.ndarray:
    """Anomalous points within the first ``length`` steps of their run."""
    start = np.r_[True, anomalous[1:] != anomalous[:-1]]
    index = np.arange(len(anomalous))
    run_start = np.maximum.accumulate(np.where(start, index, 0))
    return anomalous & (index - run_start < length)


def _score_grid(
    grid: _Grid, *, period: int | None, threshold: float
) -> tuple[pd.DataFrame, int | None]:
    y, step = grid.values, grid.step
    level = max(LEVEL_MIN_STEPS, _steps(LEVEL_WINDOW, step))
    seen = np.r_[np.nan, y[:-1]]
    spread = np.fmax.accumulate(np.nan_to_num(seen, nan=-np.inf)) - np.fmin.accumulate(
        np.nan_to_num(seen, nan=np.inf)
    )
    setup = _Setup(
        level=level,
        window=max(24, _steps(SCALE_WINDOW, step)),
        envelope=max(LEVEL_MIN_STEPS, _steps(ENVELOPE_WINDOW, step)),
        warm=max(12, _steps(WARM_UP, step)),
        floor=np.fmax(FLOOR_SHARE * np.nan_to_num(spread, posinf=0.0, neginf=0.0), 1e-12),
    )
    chosen = _choose_period(y, step, period, level)
    scored = _score_points(y, chosen, setup, step, threshold)
    # Second pass: the first pass's anomalies are left out of the history that the
    # forecast and the shift bases are built from, for at most one level window per
    # run (a shift that lasts longer becomes the new normal), so that an incident
    # neither becomes its own baseline nor leaves an echo behind.
    fresh = _fresh(scored["anomalous"], level)
    scored = _score_points(y, chosen, setup, step, threshold, clean=np.where(fresh, np.nan, y))
    frame = pd.DataFrame({"value": y, **scored}, index=grid.index)
    return frame, chosen


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


def _empty_scores() -> pd.DataFrame:
    return pd.DataFrame(
        {"value": [], "expected": [], "scale": [], "point_score": [], "score": [], "anomalous": []},
        index=pd.DatetimeIndex([]),
    ).astype({"anomalous": "bool"})


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
        DataError: If ``series`` is not a numeric Series with a DatetimeIndex, or an
            option is out of range.

    Example:
        >>> t = pd.date_range("2026-05-01", periods=24 * 14, freq="h")
        >>> y = 100 + 20 * np.sin(2 * np.pi * np.arange(len(t)) / 24)
        >>> y = y + np.random.default_rng(0).normal(0, 2, len(t))
        >>> y[200] += 40
        >>> s = anomaly_scores(pd.Series(y, index=t))
        >>> s.attrs["period"], s["score"].idxmax() == t[200], bool(s["anomalous"].iloc[200])
        (24, True, True)
    """
    _check_series(series)
    _check_options(period, threshold, None)
    prepared = _prepare(series)
    if prepared.grid is None:
        frame = _empty_scores()
        frame.attrs.update(period=None, reason=prepared.reason, detail=prepared.detail)
        return frame
    frame, chosen = _score_grid(prepared.grid, period=period, threshold=float(threshold))
    frame.attrs.update(period=chosen, **prepared.grid.counts)
    return frame


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
        DataError: If ``series`` is not a numeric Series with a DatetimeIndex, or an
            option is out of range.

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
    _check_series(series)
    gap = _check_options(period, threshold, merge_gap)
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
        DataError: If ``series`` is not a numeric Series with a DatetimeIndex, or an
            option is out of range.

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
    _check_series(series)
    gap = _check_options(period, threshold, merge_gap, max_findings)
    if not isinstance(metric, str) or not metric.strip():
        raise DataError(f"metric must be a non-empty string, got {metric!r}")
    if not isinstance(unit, str):
        raise DataError(f"unit must be a string, got {unit!r}")
    scope = dict(scope or {})
    scores = anomaly_scores(series, period=period, threshold=threshold)
    counts = {k: v for k, v in scores.attrs.items() if k not in ("reason", "detail")}
    gap = gap if gap is not None or scores.empty else _default_gap(pd.Timedelta(counts["step"]))
    method = (
        f"robust_seasonal_anomaly(period={counts.get('period')}, threshold={threshold}, "
        f"level={LEVEL_WINDOW}, scale_window={SCALE_WINDOW}, horizons={'/'.join(HORIZONS)}, "
        f"merge_gap={gap})"
    )
    suffix = f" {unit}" if unit else ""

    def nothing(reason: str, detail: str) -> list[Finding]:
        return [
            no_finding(
                analysis=ANALYSIS,
                metric=metric,
                reason=reason,
                detail=detail,
                method=method,
                unit=unit,
                scope=scope,
                evidence={**counts, "threshold": threshold},
            )
        ]

    if scores.empty:
        return nothing(scores.attrs["reason"], f"{metric}: {scores.attrs['detail']}")
    episodes = merge_episodes(scores, merge_gap=gap)
    n_scored = int(np.count_nonzero(scores["scale"].notna()))
    if episodes.empty:
        return nothing(
            "no_anomalies",
            f"no anomalies in {metric}: none of {n_scored:,} scored points passed a robust "
            f"z-score of {format_number(threshold)}",
        )
    ranked = episodes.sort_values(["score", "start"], ascending=[False, True]).head(max_findings)
    findings = []
    base_id = finding_id(ANALYSIS, metric, scope)
    for rank, row in enumerate(ranked.itertuples(index=False), start=1):
        effect = row.peak_value - row.expected
        half = 1.96 * float(scores["scale"].loc[row.peak_at])
        verb = "peaking at" if effect >= 0 else "falling to"
        statement = (
            f"{metric} was anomalous {_when(row.start, row.end)}, {verb} "
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
            "threshold": threshold,
            "rank": rank,
            "n_episodes": len(episodes),
            "n_scored": n_scored,
        }
        findings.append(
            Finding(
                id=f"{base_id}#{row.start.isoformat()}",
                kind=ANALYSIS,
                statement=statement,
                metric=metric,
                method=method,
                severity="high" if row.score >= 2 * threshold else "medium",
                scope=scope,
                effect=effect,
                unit=unit,
                ci_low=effect - half,
                ci_high=effect + half,
                evidence=evidence,
            )
        )
    return findings
