"""The expected level of an hourly series, learned without its known events.

Step 5 asks of every hour whether it lay where the series usually is. The answer is
only worth something if "usually" leaves out what is already known to be unusual:
campaigns and other calendar windows, changes and the hours after them, outages.
:func:`expected_level` therefore

1. **sets the known events aside**: every hour that overlaps an event window is
   masked and filled with the median of its hour of the week over the hours
   outside events, moved to the local level (the rolling one-week median of the
   series' distance from that profile);
2. **stabilises the spread**: hourly load and latency have a noise that grows with
   the level (multiplicative noise), counts and rates sometimes one that does not.
   The slope β of log spread on log level across the 168 hours of the week (median
   and MAD of each hour) picks the Box-Cox power that makes the spread constant,
   ``λ = 1 − β`` snapped to log (0), square root (0.5) or none (1);
3. **fits a seasonal-trend decomposition** (:class:`statsmodels.tsa.seasonal.STL`,
   period one week, which holds the daily shape of each weekday; seasonal window
   of 13 weeks, about a cycle, so the profile is not bent towards single weeks; the
   trend and low-pass smoothers evaluated every 24 hours and interpolated, which
   leaves the fit as it was and makes it 13 times faster) on
   the transformed, filled series; where a point outside the events lies more than
   :data:`SCREEN_Z` robust standard deviations away, it is masked too and the fit
   repeated once, so a true anomaly does not pull the expected level towards it;
4. **standardises the residual** by the scale of hours the fit never saw. A fitted
   hour lies closer to the fit than an unseen one (an event hour, filled before
   fitting), and the more of the cycle the events take, the closer: with 60 changes
   and their 24-hour after-windows, two thirds of the hours are filled, and the
   fitted hours' scale gave most null cycles of the false-alarm benchmark's calendar
   family an "anomaly". So one day in
   :data:`HELD_OUT_EVERY` outside events is left out of the fit like an event, and
   the standard deviation of its residuals within :data:`SCREEN_Z` MADs (never less
   than the fitted hours' own) scores every hour. Event hours, in runs of a day or
   more that the fit bridges, lie further still: their scale is widened by the robust
   spread (MAD about their median, so an event that moves all its hours or a few of
   them does not widen it) of their own z-scores when it is above one.

An hour of the week seen outside events in fewer than :data:`MIN_SEEN` weeks (a
Friday evening when campaigns go out on most Fridays) has no known level: its hours
get no z-score, neither as anomalies nor inside events. Every other hour with a
value, events included, gets a z-score ``(value − expected) /
scale`` on the transformed axis: within events it measures how far the event moved
the series from what it would have been without it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from csi_helpers.analysis import checks

__all__ = ["EVENT_COLUMNS", "PERIOD", "SCREEN_Z", "event_hours", "expected_level"]

PERIOD = 168  # hours in a week
SEASONAL_WINDOW = 13  # weeks the seasonal profile of each hour of the week is smoothed over
SCREEN_Z = 5.0  # robust z beyond which a point is refitted as missing / left out of the scale
POWERS = (0.0, 0.5, 1.0)  # Box-Cox powers the spread picks from: log, square root, none
EVENT_COLUMNS = ("start", "end", "event_id", "name", "kind")
HELD_OUT_EVERY = 8  # one day in 8 outside events is left out of the fit to measure its error
MIN_WEEKS = 3  # whole weeks of hours outside events needed to learn the profile
MIN_SEEN = 3  # an hour of the week seen outside events in fewer weeks has no known level


def event_hours(index: pd.DatetimeIndex, events: pd.DataFrame | None) -> np.ndarray:
    """For each hour of ``index``, the row number of the first event it overlaps (−1: none).

    Args:
        index: Hourly grid (the start of each hour).
        events: One row per event with ``start`` and ``end`` (the window
            ``[start, end)``; an end before the start, or missing, counts as one hour).

    Returns:
        An integer array as long as ``index``.

    Example:
        >>> t = pd.date_range("2026-05-01", periods=6, freq="h")
        >>> ev = pd.DataFrame({"start": [t[1], t[4]], "end": [t[3], pd.NaT]})
        >>> event_hours(t, ev).tolist()
        [-1, 0, 0, -1, 1, -1]
    """
    owner = np.full(len(index), -1, dtype=np.int64)
    if events is None or events.empty or not len(index):
        return owner
    hour = pd.Timedelta(hours=1)
    starts = pd.to_datetime(events["start"])
    ends = pd.to_datetime(events["end"]).fillna(starts)
    ends = ends.where(ends > starts, starts + hour)
    if index.tz is not None:
        starts, ends = (_aware(s, index.tz) for s in (starts, ends))
    left = index.searchsorted(starts.dt.floor("h"), side="left")
    right = index.searchsorted(ends, side="left")
    for row in range(len(events) - 1, -1, -1):  # the first event wins where windows overlap
        if pd.notna(starts.iloc[row]):
            owner[left[row] : right[row]] = row
    return owner


def _aware(times: pd.Series, tz: object) -> pd.Series:
    return times.dt.tz_localize(tz) if times.dt.tz is None else times.dt.tz_convert(tz)


def _hourly(series: pd.Series) -> pd.Series:
    """The series on a regular hourly grid (repeated hours averaged, gaps NaN)."""
    clean = series.astype(float).sort_index()
    clean = clean.groupby(clean.index.floor("h")).mean()
    return clean.asfreq("h")


def _power(values: pd.Series, usable: np.ndarray) -> float:
    """The Box-Cox power that makes the spread of ``values`` constant across the week."""
    if (values.dropna() <= 0).any():
        return 1.0
    how = values.index.day_of_week * 24 + values.index.hour
    kept = values[usable]
    groups = kept.groupby(how[usable])
    level = groups.median()
    spread = groups.apply(lambda v: float(np.median(np.abs(v - v.median()))))
    ok = (level > 0) & (spread > 0)
    if ok.sum() < 24:
        return 1.0
    beta = np.polyfit(np.log(level[ok]), np.log(spread[ok]), 1)[0]
    return min(POWERS, key=lambda lam: abs(lam - (1.0 - beta)))


def _filled(y: pd.Series, masked: np.ndarray) -> pd.Series:
    """``y`` with the masked hours replaced by their hour-of-week profile at the local level."""
    how = y.index.day_of_week * 24 + y.index.hour
    kept = y.where(~masked)
    profile = kept.groupby(how).median().reindex(range(PERIOD))
    seasonal = pd.Series(profile.to_numpy()[how], index=y.index)
    local = (kept - seasonal).rolling(PERIOD, center=True, min_periods=24).median()
    local = local.interpolate(limit_direction="both").fillna(0.0)
    guess = (seasonal + local).interpolate(limit_direction="both")
    return kept.fillna(guess)


def _robust_scale(residual: np.ndarray) -> float:
    """Standard deviation of the residuals within :data:`SCREEN_Z` MADs of zero."""
    mad = _mad(residual)
    inner = residual[np.abs(residual) <= SCREEN_Z * mad]
    return float(np.sqrt(np.mean(inner**2))) if mad > 0 else 0.0


def _fit(y: pd.Series, masked: np.ndarray) -> np.ndarray:
    """Trend plus weekly season of ``y`` fitted with the masked hours filled."""
    from statsmodels.tsa.seasonal import STL

    filled = _filled(y, masked)
    fit = STL(filled, period=PERIOD, seasonal=SEASONAL_WINDOW, trend_jump=24, low_pass_jump=24)
    fit = fit.fit()
    return fit.trend.to_numpy() + fit.seasonal.to_numpy()


def expected_level(series: pd.Series, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each hour's value against the level expected without the known events.

    See the module docstring for the method.

    Args:
        series: Hourly values indexed by timestamps (gaps, NaN and repeated hours
            allowed).
        events: Known events, one row per window with ``start`` and ``end``
            (see :func:`event_hours`); None or empty for none.

    Returns:
        One row per hour of the grid with ``value`` (NaN where missing),
        ``expected`` (on the series' scale), ``low``/``high`` (the expected
        value ± 1.96 scales, back on the series' scale), ``z`` (NaN where the value
        is missing) and ``event`` (row number in ``events``, −1 outside events).
        ``attrs`` holds ``power`` (the Box-Cox power), ``scale`` (on the
        transformed axis), ``n_scored``, ``n_event_hours`` and ``n_unknown_hours``;
        or, when the series cannot be fitted, only ``reason`` (``"too_short"`` or
        ``"constant"``) and ``detail``, with ``expected`` and ``z`` all NaN.

    Raises:
        TypeError: If ``series`` is not a numeric Series with a DatetimeIndex.

    Example:
        >>> t = pd.date_range("2026-04-06", periods=24 * 7 * 8, freq="h")
        >>> rng = np.random.default_rng(1)
        >>> shape = 100 + 50 * np.sin(2 * np.pi * t.hour.to_numpy() / 24)
        >>> y = shape * rng.lognormal(0, 0.05, len(t))
        >>> ev = pd.DataFrame({"start": [t[500]], "end": [t[548]]})
        >>> y[500:548] *= 1.4
        >>> fit = expected_level(pd.Series(y, index=t), ev)
        >>> fit.attrs["power"], bool(fit["z"].iloc[500:548].mean() > 4)
        (0.0, True)
        >>> bool(fit["z"].drop(fit.index[500:548]).abs().max() < 4.5)
        True
    """
    checks.series(series, function="the expected level")
    y = _hourly(series)
    grid = pd.DataFrame({"value": y, "event": event_hours(y.index, events)})
    frame = grid.assign(expected=np.nan, low=np.nan, high=np.nan, z=np.nan)
    outside = (grid["event"].to_numpy() < 0) & y.notna().to_numpy()
    if outside.sum() < MIN_WEEKS * PERIOD:
        frame.attrs.update(reason="too_short", detail=_short(int(outside.sum())))
        return frame
    power = _power(y, outside)
    t = pd.Series(special.boxcox(y.to_numpy(), power), index=y.index)
    if float(np.nanstd(t.to_numpy()[outside])) == 0.0:
        frame.attrs.update(reason="constant", detail="the values do not vary outside events")
        return frame
    held = outside & (np.arange(len(t)) // 24 % HELD_OUT_EVERY == HELD_OUT_EVERY // 2)
    fitted = _fit(t, ~outside | held)
    residual = t.to_numpy() - fitted
    fitted_on = outside & ~held
    screen = fitted_on & (np.abs(residual) > SCREEN_Z * _mad(residual[fitted_on]))
    if screen.any():
        fitted = _fit(t, ~fitted_on | screen)
        residual = t.to_numpy() - fitted
    scale = _robust_scale(residual[fitted_on])
    if scale == 0.0:
        frame.attrs.update(reason="constant", detail="the values follow their profile exactly")
        return frame
    held_scale = _robust_scale(residual[held]) if held.sum() >= 2 * 24 else 0.0
    held_scale = max(held_scale, scale)
    scales = np.full(len(t), held_scale)
    inside = (grid["event"].to_numpy() >= 0) & y.notna().to_numpy()
    if inside.sum() >= 2 * 24:  # event hours are further from the fit than held-out days
        event_z = residual[inside] / held_scale
        spread = _mad(event_z - np.median(event_z))
        scales[inside] *= max(1.0, spread)
    frame["expected"] = special.inv_boxcox(fitted, power)
    frame["low"] = special.inv_boxcox(fitted - 1.96 * scales, power)
    frame["high"] = special.inv_boxcox(fitted + 1.96 * scales, power)
    how = y.index.day_of_week * 24 + y.index.hour
    seen = np.bincount(how[outside], minlength=PERIOD)[how]
    frame["z"] = np.where(seen >= MIN_SEEN, residual / scales, np.nan)
    frame.attrs.update(
        n_unknown_hours=int(np.count_nonzero(seen < MIN_SEEN)),
        power=power,
        scale=scale,
        held_out_scale=held_scale,
        n_scored=int(np.isfinite(frame["z"]).sum()),
        n_event_hours=int((grid["event"] >= 0).sum()),
    )
    return frame


def _mad(residual: np.ndarray) -> float:
    return 1.4826 * float(np.median(np.abs(residual)))


def _short(hours: int) -> str:
    return (
        f"{hours:,} hours with a value outside known events; the weekly profile needs "
        f"at least {MIN_WEEKS * PERIOD:,} ({MIN_WEEKS} weeks)"
    )
