"""Capacity forecast: when will the daily peak load reach a share of the capacity?

The series modelled is the **daily peak**, the busiest hour of each complete UTC
day (at least 20 of its 24 hours present). The busiest hour is what meets the
capacity, so its level, not a lower quantile's, is compared with the capacity.
The max is sensitive to spikes such as campaign days (+40 % for two days), so the
fit is made robust instead of the statistic:

Days of known events (``events``, e.g. the campaign calendar) are set aside
first; among the others, daily peaks that are spikes (unannounced campaigns) or
dips are screened out by a robust lower-quartile regression; on the rest,
``peak = (a + b x day) x weekday factor`` is fitted with AR(1) errors and
extended ``horizon_days`` ahead with 95 % prediction intervals, whose noise grows
with the level (a constant coefficient of variation) and which carry the error of the
weekday factor; on 1,000 simulated series they covered 94 % of next days and 95 % of
all 28 days ahead. The crossing date is the first forecast day whose mean reaches
``threshold x capacity``, with capacity the latest value in the table. The steps,
with their references and simulated error rates, are described in
:mod:`csi_helpers.analysis._peak_model`.

What is reported:

* Already at or above the level (the busiest fitted day of the last seven is):
  a finding "already at X % of capacity", effect 0 days, severity high.
* Significant growth (slope > 0, ``p < alpha``) with a crossing within the
  horizon: effect = days from the last observed day to the crossing, interval
  from the prediction bounds; severity high within 90 days (one quarter, the
  next improvement cycle), else medium.
* Significant growth without a crossing within the horizon: still a finding
  (growth is a fact the capacity plan needs), effect ``None`` and severity low,
  with the forecast share of capacity at the horizon.
* A trend that is not significant: ``no_finding(reason="not_significant")``,
  whatever the point estimate would give; a significant decline:
  ``no_finding(reason="no_crossing")``.
* Data that cannot carry the model: fewer than 28 complete days (four weeks,
  so that every weekday level rests on four days and growth can be told apart
  from the weekly pattern) gives ``too_short``; more than 20 % of the days
  between the first and last missing or incomplete gives ``gaps``; a constant
  peak gives ``constant``; no positive latest capacity gives ``no_capacity``.

The load history is used whole even when the capacity changed inside it (load
does not depend on the capacity unless requests are shed); the latest capacity
is used and the change is recorded in ``evidence["capacity_changes"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis._forecast_evidence import (
    forecast_evidence,
    forecast_notes,
    latest_capacity,
)
from csi_helpers.analysis._peak_model import (
    MIN_DAYS_PER_WEEKDAY,
    MIN_HOURS_PER_DAY,
    SCREEN_QUANTILE,
    SPIKE_Z,
    WEEKDAYS,
    Fit,
    Refusal,
    daily_peaks,
    event_days,
    fit_trend,
    screen_spikes,
)
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question

ANALYSIS = "capacity_forecast"
MIN_DAYS = 28  # four weeks: four days per weekday level, growth separable from the week
MAX_MISSING_DAY_SHARE = 0.2
HIGH_WITHIN_DAYS = 90  # a crossing within one quarter is urgent
FRAME_COLUMNS = ("date", "observed", "fitted", "forecast", "lower", "upper", "spike")


def _check_table(
    hourly: object, load: object, capacity: object, horizon_days: object, events: object
) -> None:
    checks.frame(hourly, function="capacity_forecast")
    if events is not None:
        checks.frame(events, function="capacity_forecast", what="an events DataFrame")
        for column in ("start", "end"):
            checks.columns(events, [("an event window", column)], table="the events table")
            checks.aware_column(events, column, table="events")
    columns = [("timestamp", "timestamp"), ("load", load)]
    if capacity is not None:
        columns.append(("capacity", capacity))
    checks.columns(hourly, [(f"the {role} of capacity_forecast", c) for role, c in columns])
    for _, column in columns[1:]:
        checks.numeric_column(hourly, column, note=" (requests per hour)")
    checks.aware_column(hourly, "timestamp")
    checks.integer(
        "horizon_days",
        horizon_days,
        low=7,
        high=3650,
        meaning="an integer number of days from 7 to 3650",
    )


def _check_options(threshold: object, alpha: object, metric: object, unit: object) -> None:
    checks.number(
        "threshold",
        threshold,
        meaning="a share of capacity in (0, 10] (e.g. 0.75 for 75 %)",
        valid=lambda share: 0 < share <= 10,
    )
    checks.alpha(alpha)
    checks.label("metric", metric)
    checks.label("unit", unit, blank=True)


def _fit(
    hourly: pd.DataFrame, load: str, horizon_days: int, events: pd.DataFrame | None
) -> Fit | Refusal:
    """The model of the daily peaks without the event days, or why the data cannot carry it."""
    n_duplicated = int(hourly["timestamp"].duplicated().sum())
    if n_duplicated:
        return Refusal(
            "duplicate_timestamps",
            f"the table has {n_duplicated} duplicate timestamps; give one row per hour "
            "(one service at a time, or sum the services first)",
            {"n_duplicated": n_duplicated},
        )
    days, counts = daily_peaks(hourly, load)
    n = len(days)
    if n < MIN_DAYS:
        return Refusal(
            "too_short",
            f"too few days to forecast: {n} complete days of {load} (days with ≥ "
            f"{MIN_HOURS_PER_DAY} hours), need ≥ {MIN_DAYS}",
            counts,
        )
    first, last = days["date"].iloc[0], days["date"].iloc[-1]
    span = int((last - first) / pd.Timedelta(days=1)) + 1
    missing_share = 1 - n / span
    counts = {**counts, "first_day": first, "last_day": last, "span_days": span}
    counts["n_missing_days"] = span - n
    if missing_share > MAX_MISSING_DAY_SHARE:
        return Refusal(
            "gaps",
            f"too many gaps: {span - n} of {span} days between {first:%Y-%m-%d} and "
            f"{last:%Y-%m-%d} are missing or incomplete ({missing_share:.0%}, allowed ≤ "
            f"{MAX_MISSING_DAY_SHARE:.0%})",
            counts,
        )
    y = days["observed"].to_numpy()
    if np.ptp(y) == 0:
        detail = f"daily peak {load} is constant at {format_number(float(y[0]))}"
        return Refusal("constant", detail, counts)
    event = event_days(days["date"], events)
    spike, dip = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    spike[~event], dip[~event] = screen_spikes(days[~event].reset_index(drop=True))
    kept = ~(spike | dip | event)
    per_weekday = np.bincount(days["date"].dt.day_of_week.to_numpy()[kept], minlength=7)
    if per_weekday.min() < MIN_DAYS_PER_WEEKDAY:
        return Refusal(
            "too_short",
            f"too few days per weekday: {WEEKDAYS[int(per_weekday.argmin())]} has "
            f"{int(per_weekday.min())} usable days after setting aside {int((~kept).sum())} "
            f"event, spike or dip days, need ≥ {MIN_DAYS_PER_WEEKDAY}",
            {
                **counts,
                "n_event_days": int(event.sum()),
                "n_spike_days": int(spike.sum()),
                "n_dip_days": int(dip.sum()),
            },
        )
    return fit_trend(days, counts, spike, dip, horizon_days, event)


def forecast_frame(
    hourly: pd.DataFrame,
    *,
    load: str = "requests",
    horizon_days: int = 180,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Daily peak load observed, fitted and forecast, for the capacity chart.

    Uses the same daily peaks, spike screening and model as
    :func:`capacity_forecast` (see the module docstring).

    Args:
        hourly: Hourly monitoring rows with a timezone-aware ``timestamp`` and ``load``.
        load: Column of requests per hour.
        horizon_days: Days to forecast after the last complete day.
        events: Known event windows (``start``, ``end``), whose days are set aside.

    Returns:
        One row per complete observed day and per forecast day, with columns ``date``
        (UTC midnight), ``observed`` (the day's busiest hour), ``fitted`` (the model,
        observed days), ``forecast``, ``lower`` and ``upper`` (the forecast and its 95 %
        prediction interval, forecast days) and ``spike`` (observed days set aside
        from the fit: event days, spikes or dips). Empty, with these columns, when the data
        cannot carry the model (:func:`capacity_forecast` says why).

    Raises:
        TypeError, ValueError: As :func:`capacity_forecast` (a wrong table or option).

    Example:
        >>> hours = pd.date_range("2026-01-05", periods=24 * 42, freq="h", tz="UTC")
        >>> day = np.arange(len(hours)) // 24
        >>> load = (1000 + 5 * day) * (1 + 0.5 * (hours.hour == 20)) + 7 * (hours.hour % 5)
        >>> table = forecast_frame(pd.DataFrame({"timestamp": hours, "requests": load}),
        ...                        horizon_days=7)
        >>> len(table), round(float(table["forecast"].iloc[-1]))
        (49, 1860)
    """
    _check_table(hourly, load, None, horizon_days, events)
    fit = _fit(hourly, load, horizon_days, events)
    if isinstance(fit, Refusal):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in FRAME_COLUMNS}).astype(
            {"date": "datetime64[ns, UTC]", "spike": "bool"}
        )
    h = fit.history
    past = h.assign(spike=h["spike"] | h["dip"] | h["event"])
    table = pd.concat(
        [
            past[["date", "observed", "fitted", "spike"]],
            fit.future[["date", "forecast", "lower", "upper"]],
        ],
        ignore_index=True,
    )
    table["spike"] = table["spike"].fillna(False).astype(bool)
    return table[list(FRAME_COLUMNS)]


def capacity_forecast(
    hourly: pd.DataFrame,
    *,
    load: str = "requests",
    capacity: str = "capacity",
    threshold: float = 1.0,
    horizon_days: int = 180,
    alpha: float = 0.05,
    events: pd.DataFrame | None = None,
    metric: str = "peak load",
    unit: str = "requests/h",
    scope: Mapping[str, Any] | None = None,
) -> Finding:
    """Forecast the daily peak load and date when it reaches a share of the capacity.

    Args:
        hourly: Hourly monitoring rows: a timezone-aware ``timestamp``, ``load`` and
            ``capacity`` (both per hour). Rows with a missing load are dropped and counted.
        load: Column of the load, e.g. requests per hour.
        capacity: Column of the capacity in the same unit; its latest value is used.
        threshold: Share of the capacity to forecast against (0.75 for 75 %).
        horizon_days: Days to forecast after the last complete day.
        alpha: Significance level of the growth (slope) test.
        events: Known event windows, one row per event with timezone-aware ``start``
            and ``end`` (the campaign calendar); every day they overlap is set aside
            from the fit, so the level and growth are those of ordinary days.
        metric: Name of the forecast quantity, used in the statement and the id.
        unit: Unit of ``load`` and ``capacity``.
        scope: Where the data come from (service, site, ...), copied to the finding.

    Returns:
        A Finding of kind ``"capacity_forecast"`` whose ``effect`` is the number of
        days from the last observed day until the forecast peak reaches
        ``threshold x capacity``, with the interval the 95 % prediction bounds give
        (``ci_high`` is ``None`` when the lower bound does not reach it within the
        horizon); ``p_value`` is that of the growth. ``effect`` is ``None`` when the
        growth is significant but no crossing falls within the horizon, and 0 when
        the peak is already at the level. ``evidence`` holds the growth per day, the
        current peak, capacity and threshold, the crossing dates, a few forecast
        points, the event and spike days set aside and the counts of days used. Too few or
        gappy days, a constant peak, no capacity, no significant growth or a
        decline give a ``"no_finding"`` record that says why (see the module docstring).

    Raises:
        TypeError: If ``hourly`` is not a DataFrame, a column or an option is of the wrong
            type (naive timestamps, text load).
        ValueError: If a column is missing or an option is out of range.

    Example:
        >>> hours = pd.date_range("2026-01-05", periods=24 * 56, freq="h", tz="UTC")
        >>> day = np.arange(len(hours)) // 24
        >>> noise = np.random.default_rng(0).normal(0, 150, len(hours))
        >>> load = (20_000 + 50 * day) * np.where(hours.hour == 20, 1.0, 0.7) + noise
        >>> f = capacity_forecast(
        ...     pd.DataFrame({"timestamp": hours, "requests": load, "capacity": 40_000}),
        ...     threshold=0.75)
        >>> f.kind, f.evidence["crossing_date"], f.ci_low <= f.effect <= f.ci_high
        ('capacity_forecast', '2026-07-25', True)
    """
    _check_table(hourly, load, capacity, horizon_days, events)
    _check_options(threshold, alpha, metric, unit)
    method = (
        f"daily_peak_trend_x_weekday_ar1_gls(threshold={threshold}, "
        f"horizon_days={horizon_days}, alpha={alpha}; "
        f"event_days_set_aside={events is not None}; "
        f"spikes=q{SCREEN_QUANTILE}_regression_mad(z={SPIKE_Z}), "
        "interval=95 % prediction bounds)"
    )
    asked = Question(ANALYSIS, metric, method, "days", checks.scope(scope))
    asked_for = {"threshold": threshold, "horizon_days": horizon_days}
    fit = _fit(hourly, load, horizon_days, events)
    if isinstance(fit, Refusal):
        return asked.no_finding(fit.reason, fit.detail, evidence=fit.evidence | asked_for)
    cap, changes = latest_capacity(hourly, capacity)
    if cap is None or cap <= 0:
        shown = "missing" if cap is None else format_number(cap)
        return asked.no_finding(
            "no_capacity",
            f"no capacity to forecast against: the latest {capacity} is {shown}",
            evidence={**fit.evidence, "capacity": cap} | asked_for,
        )
    evidence = forecast_evidence(fit, cap, changes, **asked_for, alpha=alpha)
    return _answer(asked, fit, evidence, changes, unit=unit, alpha=alpha)


def _answer(
    asked: Question,
    fit: Fit,
    evidence: dict[str, Any],
    changes: list[dict[str, Any]],
    *,
    unit: str,
    alpha: float,
) -> Finding:
    """The finding of the forecast crossing, or why growth does not give one."""
    metric, cap, p = asked.metric, evidence["capacity"], fit.p_value
    current = evidence["current_peak"]
    pct = f"{round(evidence['threshold'] * 100, 1):g} %"
    per_30 = (
        f"{format_number(30 * fit.slope)} {unit} per 30 days (95 % CI "
        f"{format_number(30 * fit.slope_ci[0])} to {format_number(30 * fit.slope_ci[1])}"
    )
    growth = f"{per_30}; {format_p(p)})"
    share_now = f"{current / cap * 100:.0f} % of the {format_number(cap)} {unit} capacity"
    tail = "".join(f"; {note}" for note in forecast_notes(fit, evidence, changes))
    if current >= evidence["threshold_level"]:
        change = "grows" if fit.slope > 0 else "changes"
        return asked.finding(
            f"{metric} is already at {share_now} (fitted busiest day of the last 7, "
            f"{format_number(current)} {unit}), at or above the {pct} threshold; it {change} "
            f"by {growth}{tail}",
            severity="high",
            effect=0.0,
            p_value=p,
            evidence={**evidence, "already_above": True},
        )
    evidence["already_above"] = False
    if p >= alpha:
        return asked.no_finding(
            "not_significant",
            f"no significant growth in {metric}: {per_30}; {format_p(p)}, not below alpha "
            f"{alpha}) at {share_now}",
            evidence=evidence,
            p_value=p,
        )
    if fit.slope < 0:
        return asked.no_finding(
            "no_crossing",
            f"{metric} is falling by {growth} at {share_now}: it does not reach {pct} ahead",
            evidence=evidence,
            p_value=p,
        )
    reaches = f"{pct} of the {format_number(cap)} {unit} capacity"
    return _crossing(asked, fit, evidence, growth=growth, reaches=reaches, tail=tail)


def _crossing(
    asked: Question, fit: Fit, evidence: dict[str, Any], *, growth: str, reaches: str, tail: str
) -> Finding:
    """The finding of significant growth: when it reaches the level, or how near it comes."""
    metric, horizon_days, p = asked.metric, evidence["horizon_days"], fit.p_value
    last_day = fit.history["date"].iloc[-1]
    horizon_end = evidence["horizon_end"]
    mean, early, late = (evidence[f"crossing_date{suffix}"] for suffix in ("", "_low", "_high"))
    if mean is None:
        at_horizon = evidence["forecast_points"][-1]["share_of_capacity"]
        bound = f"; the upper 95 % prediction bound reaches it on {early}" if early else ""
        return asked.finding(
            f"{metric} grows by {growth}; at this rate it stays below {reaches} for the next "
            f"{horizon_days} days, up to {at_horizon * 100:.0f} % by {horizon_end}{bound}{tail}",
            severity="low",
            p_value=p,
            evidence=evidence,
        )

    def days_to(day: str | None) -> int | None:
        return None if day is None else int((pd.Timestamp(day, tz="UTC") - last_day).days)

    effect = days_to(mean)
    return asked.finding(
        f"{metric} grows by {growth}; at this rate it reaches {reaches} on {mean} (95 % "
        f"interval {early} to {late or f'after {horizon_end}'}), {effect} days after "
        f"{last_day:%Y-%m-%d}{tail}",
        severity="high" if effect <= HIGH_WITHIN_DAYS else "medium",
        effect=float(effect),
        ci_low=days_to(early),
        ci_high=days_to(late),
        p_value=p,
        evidence=evidence,
    )
