"""The statistics of the anomaly detector: the grid, the robust seasonal forecast, the scores.

Steps 1 to 5 of the method of :mod:`csi_helpers.analysis.anomaly`, which score
every point of the grid; merging flagged points into episodes (step 6), the
calibration and the wording of the findings stay with the method.

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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import format_number

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
MIN_POINTS = 48
MAX_MISSING_SHARE = 0.75
STEP_MODE_SHARE = 0.15  # the grid step is the most common step if this share has it
SEASON_GAIN = 0.9  # a season is kept if it cuts the median absolute error by 10 %
SEASON_TIE = 1.05  # ... and the longer of two seasons within 5 % of each other wins
_MAD = 1.4826  # σ / MAD for Gaussian noise
_MEAN_AD = 1.2533  # σ / mean absolute deviation for Gaussian noise


@dataclass(frozen=True)
class Grid:
    """A series on its regular grid, with the counts of what was done to it."""

    index: pd.DatetimeIndex
    values: np.ndarray
    step: pd.Timedelta
    counts: dict[str, Any]


@dataclass(frozen=True)
class Prepared:
    grid: Grid | None
    reason: str | None = None
    detail: str = ""


def prepare(series: pd.Series) -> Prepared:
    """Put the series on its regular grid, or say why the data cannot be scored."""
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values)).dropna()
    n_total = len(series)
    counts: dict[str, Any] = {"n_total": n_total, "n_missing_values": n_total - len(values)}
    if len(values) < MIN_POINTS:
        return Prepared(
            None, "too_short", f"series too short: {len(values)} values, need ≥ {MIN_POINTS}"
        )
    index = values.index.as_unit("ns")
    ns = index.asi8
    order = np.argsort(ns, kind="stable")
    ns, y = ns[order], values.to_numpy()[order]
    diffs = np.diff(ns)
    positive = diffs[diffs > 0]
    if len(positive) == 0:
        return Prepared(None, "too_short", "all values share one timestamp")
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
        return Prepared(
            None,
            "too_many_missing",
            f"series mostly missing: {len(slots):,} of {n_grid:,} expected points at its "
            f"{pd.Timedelta(step)} step are present ({missing_share:.0%} missing, "
            f"allowed ≤ {MAX_MISSING_SHARE:.0%})",
        )
    if len(slots) < MIN_POINTS:
        return Prepared(
            None, "too_short", f"series too short: {len(slots)} timestamps, need ≥ {MIN_POINTS}"
        )
    if np.ptp(y) == 0:
        return Prepared(None, "constant", f"series is constant at {format_number(float(y[0]))}")
    grid = np.full(n_grid, np.nan)
    grid[slots] = np.bincount(inverse, weights=y) / np.bincount(inverse)
    start = pd.Timestamp(ns[0], unit="ns")
    full = pd.DatetimeIndex(start + pd.to_timedelta(np.arange(n_grid) * step, unit="ns"))
    if index.tz is not None:
        full = full.tz_localize("UTC").tz_convert(index.tz)
    counts["step"] = str(pd.Timedelta(step))
    return Prepared(Grid(full, grid, pd.Timedelta(step), counts))


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
    sustained = _sustained(y - season, scale, setup, step, threshold, clean=clean, season=season)
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


def _sustained(
    deseasonalised: np.ndarray,
    scale: np.ndarray,
    setup: _Setup,
    step: pd.Timedelta,
    threshold: float,
    *,
    clean: np.ndarray | None,
    season: np.ndarray,
) -> np.ndarray:
    """Sustained-shift score of every point: the median of the last h against the median
    of the 4·h before it, for each horizon h, as a robust z (0 where not along the shift).
    """
    values = pd.Series(deseasonalised)
    n, sustained = len(values), np.zeros(len(values))
    for horizon in HORIZONS:
        h = _steps(horizon, step) // 2 * 2 + 1  # odd: the median moves only on a majority
        if h < 3 or 2 * (HORIZON_BASE + 1) * h > n:
            continue
        recent = values.rolling(h, min_periods=h).median().to_numpy()
        wide = HORIZON_BASE * h

        def base_of(d: pd.Series, h: int = h, wide: int = wide) -> np.ndarray:
            return d.shift(h).rolling(wide, min_periods=wide // 2).median().to_numpy()

        base = base_of(values)
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
        own = values.to_numpy() - base
        with np.errstate(invalid="ignore"):
            along = np.sign(own) == np.sign(shift)
            along &= np.abs(own) >= 0.5 * np.abs(shift)
        sustained = np.fmax(sustained, np.where(along, z, 0.0))
    return sustained


def _fresh(anomalous: np.ndarray, length: int) -> np.ndarray:
    """Anomalous points within the first ``length`` steps of their run."""
    start = np.r_[True, anomalous[1:] != anomalous[:-1]]
    index = np.arange(len(anomalous))
    run_start = np.maximum.accumulate(np.where(start, index, 0))
    return anomalous & (index - run_start < length)


def score_grid(
    grid: Grid, *, period: int | None, threshold: float
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


def score_series(series: pd.Series, *, period: int | None, threshold: float) -> pd.DataFrame:
    """Every grid point's scores, as :func:`~csi_helpers.analysis.anomaly.anomaly_scores` says.

    An empty frame, whose ``attrs`` hold ``reason`` and ``detail``, when the data
    cannot be scored.
    """
    prepared = prepare(series)
    if prepared.grid is None:
        frame = pd.DataFrame(
            {"value": [], "expected": [], "scale": [], "point_score": [], "score": []}
            | {"anomalous": []},
            index=pd.DatetimeIndex([]),
        ).astype({"anomalous": "bool"})
        frame.attrs.update(period=None, reason=prepared.reason, detail=prepared.detail)
        return frame
    frame, chosen = score_grid(prepared.grid, period=period, threshold=threshold)
    frame.attrs.update(period=chosen, **prepared.grid.counts)
    return frame
