"""Event impact: an hourly KPI during events (campaigns, changes) against matched baseline hours.

Matched baseline. Every hour of an event window (extended by ``after_hours``) is
compared with the same weekday and hour of day in the ``baseline_weeks`` weeks before
and after it, outside every event and corrected for the trend, so that neither the
weekly pattern nor a trend passes for an effect; how, and why, is described in
:mod:`csi_helpers.analysis._matched_baseline`.

Effect. Pooled over all matched event hours, ``relative`` is the mean during events
over the mean of their baselines, minus one (a fraction); ``absolute`` is the
difference of those means in the metric's unit. Each event's own effect is kept in
the evidence.

Test and interval. A placebo-week randomisation test moves whole events by random
whole weeks and recomputes the statistic exactly as for the real calendar; the 95 %
interval treats events as clusters (cluster-robust t). Both, with their references
and simulated error rates, are described in :mod:`csi_helpers.analysis._placebo`;
an effect is reported only when the test and the interval agree.

At least 3 usable events are needed: with fewer, the t-interval has one degree of
freedom and no test can tell one event's chance shock from an effect. An event is
usable when at least half of its hours inside the series have a value and a matched
baseline; windows that overlap (after extension) are merged into one event first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis._matched_baseline import (
    EPOCH,
    WEEK_HOURS,
    Matching,
    event_windows,
    hourly_grid,
    match_events,
    per_event,
    pooled,
)
from csi_helpers.analysis._placebo import event_interval, randomisation_p, statistic
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question

ANALYSIS = "event_impact"
MIN_EVENTS = 3


@dataclass(frozen=True)
class _Options:
    """The options of one call."""

    unit: str
    event_label: str
    alpha: float
    baseline_weeks: int
    n_perm: int
    seed: int
    effect: str
    after_hours: int

    @property
    def relative(self) -> bool:
        return self.effect == "relative"

    def method(self) -> str:
        return (
            f"matched_baseline(baseline_weeks={self.baseline_weeks}, "
            f"after_hours={self.after_hours}, effect={self.effect}, alpha={self.alpha}; "
            f"test=placebo_week_randomisation(n_perm={self.n_perm}, seed={self.seed}), "
            "ci=event_cluster_t)"
        )


def _check_series(series: object) -> None:
    checks.series(series, function="event_impact", numbers_only=True)
    if series.index.tz is None:
        raise TypeError(
            f"series {series.name!r} has naive timestamps; localise them to UTC "
            "(index.tz_localize('UTC')) so they line up with the event windows"
        )
    if len(series) and not (series.index == series.index.floor("h")).all():
        raise ValueError(
            f"series {series.name!r} is not hourly: timestamps must fall on whole hours; "
            "aggregate it first, e.g. series.resample('h').mean()"
        )


def _check_inputs(series: object, events: object, metric: object, options: _Options) -> None:
    _check_series(series)
    checks.frame(events, function="event_impact", what="an events DataFrame")
    hint = ". Rename the window columns (e.g. actual_start/actual_end) to start/end"
    for column in ("start", "end"):
        checks.columns(events, [("an event window", column)], table="the events table", hint=hint)
        checks.aware_column(events, column, table="events")
    checks.label("metric", metric)
    checks.label("event_label", options.event_label)
    checks.label("unit", options.unit, blank=True)
    checks.alpha(options.alpha)
    for name, low in (("baseline_weeks", 1), ("n_perm", 19), ("seed", 0)):
        checks.integer(name, getattr(options, name), low=low)
    meaning = "a whole number of hours ≥ 0"
    checks.integer("after_hours", options.after_hours, low=0, meaning=meaning)
    checks.choice("effect", options.effect, ("relative", "absolute"))


def event_impact(
    series: pd.Series,
    events: pd.DataFrame,
    *,
    metric: str,
    unit: str,
    event_label: str,
    alpha: float = 0.05,
    baseline_weeks: int = 4,
    n_perm: int = 9999,
    seed: int = 0,
    scope: Mapping[str, Any] | None = None,
    effect: Literal["relative", "absolute"] = "relative",
    after_hours: int = 0,
) -> Finding:
    """Measure how an hourly KPI moved during events, against the same hours in nearby weeks.

    Args:
        series: Hourly KPI values indexed by timezone-aware timestamps on whole hours
            (requests, p95 latency, error rate, downtime minutes or incidents per hour).
            Missing hours may be absent or NaN; they are skipped and counted.
        events: One row per event with timezone-aware ``start`` and ``end`` (campaign
            windows, or change windows with actual_start/actual_end renamed). Rows with
            a missing time or an end before the start are dropped and counted.
        metric: KPI id, used in the statement and the finding id.
        unit: Unit of the values (the effect's unit when ``effect="absolute"``).
        event_label: Plural noun for the events in the statement, e.g. ``"campaigns"``.
        alpha: Significance level; an effect with ``p ≥ alpha`` is not reported.
        baseline_weeks: Weeks either side searched for matching hours.
        n_perm: Random placebo draws of the test (all combinations if there are fewer).
        seed: Seed of the random generator, so a run can be repeated exactly.
        scope: Where the series comes from (service, ...), copied to the finding.
        effect: ``"relative"`` (fraction above the baseline) or ``"absolute"`` (in ``unit``).
        after_hours: Hours added after each window's end (e.g. 24 after a change).

    Returns:
        A Finding of kind ``"event_impact"`` whose ``effect`` is the pooled change (unit
        ``"fraction"`` or ``unit``) with its 95 % CI and the randomisation p-value.
        ``evidence`` holds the events given, invalid, merged, outside the series, used
        and dropped (``n_events*``); the event hours matched, missing, without a
        baseline or outside the series (``hours_*``); the baseline values used and
        ``one_sided_hours``; ``mean_during``, ``mean_baseline``, ``difference``,
        ``ratio``; ``trend_per_week``; the test's draws; and ``per_event``, each event's
        window, hours, means and effect. Otherwise a ``"no_finding"`` record says why,
        with ``evidence["reason"]`` one of ``no_events`` (none, or none inside the
        series), ``too_few_events`` (under 3 inside the series), ``gaps`` or
        ``no_baseline`` (under 3 events with half their hours matched), ``constant``,
        ``negative_values`` or ``zero_baseline`` (relative effect undefined), ``empty``,
        ``duplicate_timestamps``, ``not_significant``, or ``inconclusive`` (the test
        rejects but the interval across events still includes no change: both must
        agree before an effect is reported, which keeps the false-alarm rate at most
        alpha).

    Raises:
        TypeError: If ``series`` is not a numeric Series with timezone-aware timestamps,
            ``events`` has no timezone-aware ``start``/``end``, or an option is of the
            wrong type.
        ValueError: If ``series`` is not hourly, ``events`` lacks ``start`` or ``end``,
            or an option is out of range.

    Example:
        >>> hours = pd.date_range("2026-01-05", periods=24 * 7 * 10, freq="h", tz="UTC")
        >>> rng = np.random.default_rng(0)
        >>> level = 100 + 50 * np.sin(2 * np.pi * hours.hour / 24) + rng.normal(0, 5, len(hours))
        >>> starts = pd.to_datetime(["2026-01-20", "2026-02-04", "2026-02-19", "2026-03-03"],
        ...                         utc=True)
        >>> events = pd.DataFrame({"start": starts, "end": starts + pd.Timedelta(hours=24)})
        >>> during = np.isin(hours.normalize(), starts)
        >>> kpi = pd.Series(level * np.where(during, 1.5, 1.0), index=hours)
        >>> f = event_impact(kpi, events, metric="requests", unit="requests",
        ...                  event_label="campaigns", n_perm=999)
        >>> f.kind, f.ci_low < 0.5 < f.ci_high, f.p_value < 0.01
        ('event_impact', True, True)
    """
    options = _Options(unit, event_label, alpha, baseline_weeks, n_perm, seed, effect, after_hours)
    _check_inputs(series, events, metric, options)
    unit_of_effect = "fraction" if options.relative else unit
    asked = Question(ANALYSIS, metric, options.method(), unit_of_effect, checks.scope(scope))
    windows, counts = event_windows(events, after_hours)
    counts.update(baseline_weeks=baseline_weeks, after_hours=after_hours, alpha=alpha)
    on_grid = _on_grid(asked, series, counts)
    if isinstance(on_grid, Finding):
        return on_grid
    grid, origin = on_grid
    windows = windows - origin
    inside = (windows[:, 1] > 0) & (windows[:, 0] < len(grid))
    counts["n_events_outside"] = int((~inside).sum())
    unusable = _unusable(asked, options, grid, windows, len(events), counts)
    if unusable is not None:
        return unusable
    return _measure(asked, options, grid, windows[inside], origin, counts)


def _on_grid(
    asked: Question, series: pd.Series, counts: dict[str, Any]
) -> tuple[np.ndarray, int] | Finding:
    """The values on a gap-free hourly grid and its first hour, or why there are none."""
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values)).dropna()
    if len(values) == 0:
        return asked.no_finding("empty", f"series {asked.metric} has no values", evidence=counts)
    duplicated = int(values.index.duplicated().sum())
    if duplicated:
        return asked.no_finding(
            "duplicate_timestamps",
            f"series has {duplicated} duplicate timestamps; aggregate to one value per hour first",
            evidence=counts,
        )
    grid, origin = hourly_grid(values)
    counts.update(series_start=values.index.min(), series_end=values.index.max())
    counts.update(series_hours=len(grid), series_hours_missing=len(grid) - len(values))
    return grid, origin


def _unusable(
    asked: Question,
    options: _Options,
    grid: np.ndarray,
    windows: np.ndarray,
    n_given: int,
    counts: dict[str, Any],
) -> Finding | None:
    """The no-finding of no or too few events in the series, or values it cannot compare."""
    label, metric, unit = options.event_label, asked.metric, options.unit
    in_span = len(windows) - counts["n_events_outside"]
    if in_span == 0:
        if len(windows):
            first, last = counts["series_start"], counts["series_end"]
            detail = (
                f"none of the {len(windows)} {label} falls inside the series "
                f"({first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC)"
            )
        elif n_given:
            detail = f"none of the {n_given} {label} has a start and an end after it"
        else:
            detail = f"no {label} to compare: the events table is empty"
        return asked.no_finding("no_events", detail, evidence=counts)
    if in_span < MIN_EVENTS:
        return asked.no_finding(
            "too_few_events",
            f"too few {label}: {in_span} inside the series, need ≥ {MIN_EVENTS} "
            "to tell an effect from one event's chance shock",
            evidence=counts,
        )
    present = grid[np.isfinite(grid)]
    if np.ptp(present) == 0:
        detail = f"{metric} is constant at {format_number(float(present[0]))} {unit}"
        return asked.no_finding("constant", detail, evidence=counts)
    if options.relative and present.min() < 0:
        return asked.no_finding(
            "negative_values",
            f"{metric} has negative values (down to {format_number(float(present.min()))}), "
            "so a relative change is undefined; use effect='absolute'",
            evidence=counts,
        )
    return None


def _too_few_usable(
    asked: Question, options: _Options, matching: Matching, in_span: int, counts: dict[str, Any]
) -> Finding:
    """The no-finding of too few events with half their hours matched."""
    dropped = matching.dropped
    reason = "gaps" if dropped.count("gaps") >= dropped.count("no_baseline") else "no_baseline"
    why = {
        "gaps": "the series has no values for over half of their hours",
        "no_baseline": "no matching weekday-hours outside events lie within "
        f"{options.baseline_weeks} weeks",
    }[reason]
    other = dropped.count("no_baseline") if reason == "gaps" else 0
    return asked.no_finding(
        reason,
        f"too few {options.event_label} can be compared: {len(matching.used)} of {in_span} "
        f"usable, need ≥ {MIN_EVENTS}; {dropped.count(reason)} dropped because {why}"
        + (f", {other} for lack of a baseline" if other else ""),
        evidence=counts,
    )


def _measure(
    asked: Question,
    options: _Options,
    grid: np.ndarray,
    windows: np.ndarray,
    origin: int,
    counts: dict[str, Any],
) -> Finding:
    """The pooled effect of the usable events, its randomisation p-value and interval."""
    relative = options.relative
    matching = match_events(grid, windows, weeks=options.baseline_weeks, relative=relative)
    counts.update(matching.counts, trend_per_week=matching.options["trend"][0])
    pivot = matching.options["trend"][1]
    counts["trend_reference"] = EPOCH + pd.Timedelta(hours=round(pivot * WEEK_HOURS + origin))
    if len(matching.used) < MIN_EVENTS:
        return _too_few_usable(asked, options, matching, len(windows), counts)
    used = matching.used
    matching.keep_used()
    sy, sb, n, pooled_counts = pooled(matching)
    counts.update(n_events=len(used), **pooled_counts)
    mean_during, mean_base = counts["mean_during"], counts["mean_baseline"]
    if relative and mean_base <= 0:
        return asked.no_finding(
            "zero_baseline",
            f"the matched baseline of {asked.metric} averages {format_number(mean_base)} "
            f"{options.unit}, so a relative change is undefined; use effect='absolute'",
            evidence=counts,
        )
    counts["per_event"] = per_event(sy, sb, n, windows[used] + origin, relative=relative)
    observed = float(statistic(sy.sum(), sb.sum(), n.sum(), relative))
    rng = np.random.default_rng(options.seed)
    p_value, test = randomisation_p(
        matching.blocks,
        matching.cells,
        matching.usable,
        observed,
        n,
        **matching.options,
        n_perm=options.n_perm,
        rng=rng,
    )
    low, high, se = event_interval(sy, sb, n, relative)
    estimate = mean_during / mean_base - 1 if relative else mean_during - mean_base
    evidence = {**counts, **test, "standard_error": se}
    evidence |= {"n_perm": options.n_perm, "seed": options.seed, "effect_kind": options.effect}
    numbers = {"evidence": evidence, "effect": estimate, "p_value": p_value}
    numbers |= {"ci_low": min(low, estimate), "ci_high": max(high, estimate)}
    return _answer(asked, options, numbers, (low, high), hours=int(n.sum()), n_events=len(used))


def _answer(
    asked: Question,
    options: _Options,
    numbers: dict[str, Any],
    interval: tuple[float, float],
    *,
    hours: int,
    n_events: int,
) -> Finding:
    """The finding of an effect during the events, or why none is reported."""
    estimate, p_value, (low, high), unit = (
        numbers["effect"],
        numbers["p_value"],
        interval,
        options.unit,
    )
    if options.relative:
        size = f"{abs(estimate) * 100:.1f} %"
        span = f"{low * 100:+.1f} % to {high * 100:+.1f} %"
    else:
        size = f"{format_number(abs(estimate))} {unit}".rstrip()
        span = f"{format_number(low)} to {format_number(high)} {unit}".rstrip()
    weeks = f"{options.baseline_weeks} week{'s' if options.baseline_weeks > 1 else ''}"
    after = f" and the {options.after_hours} h after each" if options.after_hours else ""
    during = f"the {n_events} {options.event_label}{after} ({hours:,} h)"
    against = f"the same weekday and hour in the surrounding {weeks}"
    sign = "+" if estimate >= 0 else "-"
    if p_value >= options.alpha:
        return asked.no_finding(
            "not_significant",
            f"no significant change in hourly {asked.metric} during {during}: {sign}{size} "
            f"against {against} (95 % CI {span}; {format_p(p_value)}, not below alpha "
            f"{options.alpha})",
            **numbers,
        )
    if low <= 0 <= high:  # the test and the interval must agree before it is reported
        return asked.no_finding(
            "inconclusive",
            f"no clear change in hourly {asked.metric} during {during}: {sign}{size} against "
            f"{against}; the test gives {format_p(p_value)} but the interval across events "
            f"({span}) includes no change, so the effect is not reported",
            **numbers,
        )
    direction = "above" if estimate > 0 else "below"
    return asked.finding(
        f"during {during}, hourly {asked.metric} ran {size} {direction} {against} "
        f"(95 % CI {span}; {format_p(p_value)})",
        severity="medium",
        **numbers,
    )
