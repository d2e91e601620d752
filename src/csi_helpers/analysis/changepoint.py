"""Change points in the level of a daily KPI series: binary segmentation with a permutation test.

Each segment's best split is scored by the max-t statistic of a shift in mean and
tested against permutation replicates that keep the season and the lag-1
autocorrelation of the noise; binary segmentation splits the series until no part
shows a change, with a Bonferroni bound per round, so that on a series without a
change one is reported in at most ``alpha`` of cases. The scan, the test and the
segmentation, with their references and simulated error rates, are described in
:mod:`csi_helpers.analysis._segmentation`.

Model check. A smooth trend also splits: a straight line differs from its own mean at
every point, so the scan finds a staircase in it. And a shift barely below ``alpha`` may
describe the series no better than one level does. So, once the shifts are found, four
least-squares models (each with season effects) are compared by BIC (Schwarz 1978;
a date counts as a parameter): one constant level, a straight line, the levels between
the shifts, and those levels plus a line. The shifts are reported only if one of the last
two wins. If the line wins, no change point is reported and the record says the series
changes gradually (``gradual_change``; test it with
:func:`csi_helpers.analysis.trend_test`); if the constant wins, the shifts are too weak to
report (``weak_change``). If levels plus a line win (a step on top of a trend), each
statement says that the level also drifts, with the slope, as some shifts may then be
steps of that drift. The check only removes findings, so it keeps the false-alarm bound.

Size of each change: levels are segment means of the deseasonalised values, the effect
is the level after minus the level before, and the 95 % interval is Welch's for the
difference of the two adjacent segments' means, with each variance inflated by the
AR(1) factor ``(1 + ρ)/(1 - ρ)`` and effective sample sizes in its degrees of freedom.
The interval is conditional on the estimated date, so it does not include the
uncertainty of where the change happened (small for a clear step), and a barely
significant change tends to be overstated (it was found because it looked large). For
a shift of 2 noise sd at day 91 of 182 (200 draws) the change was found every time, its
date within 2 days in 92 %, and the interval held the planted size in 97.5 %.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis._segmentation import Shifts, binary_segmentation, check_models, split_at
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question
from csi_helpers.analysis.timeseries import SeriesOnGrid, on_grid

ANALYSIS = "change_point"
MAX_MISSING_SHARE = 0.5
MIN_PERM = 99


@dataclass(frozen=True)
class _Options:
    """The options of one call, checked."""

    alpha: float
    min_size: int
    max_points: int
    n_perm: int
    seed: int
    period: int | None

    @property
    def need(self) -> int:
        """Fewest values to test: ``min_size`` on each side, and two periods."""
        if self.period:
            return max(2 * self.min_size, 2 * self.period)
        return 2 * self.min_size

    def method(self) -> str:
        return (
            f"binary_segmentation(stat=max_t, min_size={self.min_size}, "
            f"max_points={self.max_points}, alpha={self.alpha}, n_perm={self.n_perm}, "
            f"seed={self.seed}, period={self.period}; "
            "test=ar1_sieve_permutation+bonferroni_per_round, ci=welch_ar1, "
            "check=bic(constant,line,steps,steps+line))"
        )


def _checked(metric: object, unit: object, options: dict[str, Any]) -> _Options:
    checks.label("metric", metric)
    checks.label("unit", unit, blank=True)
    checks.alpha(options["alpha"])
    lowest = {"min_size": 2, "max_points": 1, "n_perm": MIN_PERM, "seed": 0}
    for name, low in lowest.items():
        checks.integer(name, options[name], low=low)
    checks.period(options["period"])
    return _Options(**options)


def _amount(value: float, unit: str, *, signed: bool = False) -> str:
    """A number with its unit for a statement, e.g. ``+207 ms``."""
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{format_number(value)} {unit}".rstrip()


def _date(stamp: pd.Timestamp, daily: bool) -> str:
    return stamp.strftime("%Y-%m-%d") if daily else stamp.isoformat()


def change_points(
    series: pd.Series,
    *,
    metric: str,
    unit: str,
    alpha: float = 0.05,
    scope: Mapping[str, Any] | None = None,
    min_size: int = 7,
    max_points: int = 3,
    n_perm: int = 1999,
    seed: int = 0,
    period: int | None = None,
) -> list[Finding]:
    """Find the dates where a KPI series shifts to a new level, each with its size and p-value.

    Gaps (NaN or infinite values, or values without a date) are dropped and counted;
    missing dates are allowed. An unsorted index is sorted first. With ``period``, each
    value's season is its position on the regular grid of the series' typical spacing,
    modulo ``period``.

    Args:
        series: KPI values indexed by a DatetimeIndex (daily, 60-400 points typically).
        metric: KPI id or description, used in the statement and the finding id.
        unit: Unit of the values; levels and effects are reported in it.
        alpha: Family-wise significance level: on a series without any change, the
            chance of reporting one is at most ``alpha``.
        scope: Where the series comes from (service, site, ...), copied to the findings.
        min_size: Fewest values on each side of a change (and in every segment).
        max_points: Most change points to report.
        n_perm: Permutation replicates per segment test (p-values step by 1/(n_perm+1)).
        seed: Seed of the random generator, so a run can be repeated exactly.
        period: Season length in steps (7 for a weekly pattern in daily data), or
            ``None``; a seasonal pattern is then never taken for a change.

    Returns:
        One Finding of kind ``"change_point"`` per change, in date order: ``effect``
        is the level after minus the level before (in ``unit``) with its 95 % CI,
        ``p_value`` the Bonferroni-adjusted permutation p-value, ``evidence`` the date,
        position, levels, means and medians before and after and segment lengths.
        Otherwise a one-element list with a ``"no_finding"`` record saying why:
        ``too_short`` (fewer than ``2 × min_size`` values or two periods), ``empty``,
        ``duplicate_timestamps``, ``mostly_missing`` (over half the dates missing),
        ``constant``, ``not_significant`` (with the best candidate and its p-value),
        ``gradual_change`` (a straight line describes the series better than the shifts
        found) or ``weak_change`` (one level describes it better than they do).

    Raises:
        TypeError: If ``series`` is not a Series of numbers indexed by dates, or an option
            is of the wrong type (``seed=1.5``).
        ValueError: If an option is out of range (``min_size=1``, ``alpha=1.5``).

    Example:
        >>> days = pd.date_range("2026-04-01", periods=60, freq="D")
        >>> noise = np.random.default_rng(1).normal(0, 10, 60)
        >>> kpi = pd.Series(np.where(np.arange(60) < 30, 400.0, 200.0) + noise, index=days)
        >>> [f] = change_points(kpi, metric="p95 latency", unit="ms", n_perm=199)
        >>> f.kind, f.evidence["date"], f.ci_low < -200 < f.ci_high, f.p_value
        ('change_point', '2026-05-01', True, 0.005)
    """
    checks.series(series, function="change_points", stamps="dates", column="date")
    options = _checked(
        metric,
        unit,
        dict(alpha=alpha, min_size=min_size, max_points=max_points, n_perm=n_perm, seed=seed)
        | {"period": period},
    )
    asked = Question(ANALYSIS, metric, options.method(), unit, checks.scope(scope))
    grid = on_grid(series)
    if grid.n_total == 0 or grid.n_duplicated:
        return [_undated_or_repeated(asked, grid)]
    counts: dict[str, Any] = {
        **grid.counts(),
        "n_undated": grid.n_undated,
        "was_sorted": grid.was_sorted,
        "start": grid.index[0],
        "end": grid.index[-1],
        **{k: getattr(options, k) for k in ("min_size", "period", "alpha", "n_perm", "seed")},
    }
    unusable = _unusable(asked, grid, counts, options)
    return [unusable] if unusable is not None else _segment(asked, grid, counts, options)


def _undated_or_repeated(asked: Question, grid: SeriesOnGrid) -> Finding:
    """The no-finding of a series with no dated value, or with repeated dates."""
    metric = asked.metric
    if grid.n_total == 0:
        detail = f"{metric}: the series is empty" + (" of dated values" if grid.n_undated else "")
        return asked.no_finding(
            "empty", detail, evidence={"n_total": 0, "n_undated": grid.n_undated}
        )
    return asked.no_finding(
        "duplicate_timestamps",
        f"{metric}: the index has {grid.n_duplicated} duplicate dates; aggregate to one "
        "value per date first",
        evidence={"n_duplicated": grid.n_duplicated, "n_total": grid.n_total},
    )


def _unusable(
    asked: Question, grid: SeriesOnGrid, counts: dict[str, Any], options: _Options
) -> Finding | None:
    """The no-finding of a series mostly missing, too short or constant (None if usable)."""
    metric, n, need = asked.metric, grid.n, options.need
    why = grid.mostly_missing(MAX_MISSING_SHARE, "values")
    if why is not None:
        return asked.no_finding("mostly_missing", f"{metric}: {why}", evidence=counts)
    if n < need:
        period = options.period
        return asked.no_finding(
            "too_short",
            f"{metric}: series too short for a change point: {n} values, need ≥ {need} "
            f"(≥ {options.min_size} on each side"
            + (f", two periods of {period})" if period else ")"),
            evidence=counts,
        )
    why = grid.constant(asked.unit)
    if why is not None:
        return asked.no_finding("constant", f"{metric}: {why}", evidence=counts)
    return None


def _segment(
    asked: Question, grid: SeriesOnGrid, counts: dict[str, Any], options: _Options
) -> list[Finding]:
    """Segment the series, check the shifts against simpler models, and report them."""
    valid = grid.valid
    y, dates = grid.values.to_numpy()[valid], grid.index[valid]
    daily = grid.step >= pd.Timedelta(days=1) and bool((dates == dates.normalize()).all())
    seasons = grid.positions[valid] % options.period if options.period else None
    found, rejected, stop = binary_segmentation(
        y,
        seasons,
        **{k: getattr(options, k) for k in ("min_size", "max_points", "alpha", "n_perm", "seed")},
        need=options.need,
    )
    counts["stop_reason"] = stop
    if not found:
        return [_not_significant(asked, y, seasons, dates, daily, rejected, counts)]
    days = ((dates - dates[0]) / pd.Timedelta(days=1)).to_numpy(dtype="float64")
    shifts = check_models(y, days, seasons, found, options.min_size)
    change_dates = [_date(dates[p], daily) for p in shifts.points]
    counts.update(shifts.counts(change_dates))
    simpler = _simpler_model(asked, shifts, change_dates, counts)
    if simpler is not None:
        return [simpler]
    every_date = [_date(d, daily) for d in dates]
    return [_change(asked, shifts, i, y, every_date, counts) for i in range(len(shifts.points))]


def _simpler_model(
    asked: Question, shifts: Shifts, dates: list[str], counts: dict[str, Any]
) -> Finding | None:
    """The no-finding when a line or one level describes the series better than the shifts."""
    metric, bic, one = asked.metric, shifts.bic, len(shifts.points) == 1
    found = (
        f"the level shift the scan finds ({dates[0]})"
        if one
        else f"the {len(shifts.points)} level shifts the scan finds ({', '.join(dates)})"
    )
    verb_s = "s" if one else ""
    per_day = f"{asked.unit}/day" if asked.unit else "per day"
    if shifts.model == "line":
        return asked.no_finding(
            "gradual_change",
            f"{metric} changes gradually rather than in steps: a straight line "
            f"({_amount(shifts.slope, per_day, signed=True)}) describes it and {found} "
            f"add{verb_s} nothing beyond it (BIC {bic['line']:.1f} vs "
            f"{bic['steps_plus_line']:.1f}), so no change point is reported; test it as a "
            "trend (trend_test)",
            evidence=counts,
        )
    if shifts.model == "constant":
        return asked.no_finding(
            "weak_change",
            f"no clear change in the level of {metric}: {found}, though below alpha "
            f"{counts['alpha']} in the permutation test ({format_p(min(counts['p_values']))}), "
            f"fit{verb_s} no better than a constant level once the extra parameters are "
            f"counted (BIC {bic['constant']:.1f} vs {bic['steps']:.1f}), so "
            f"{'it is not' if one else 'none is'} reported",
            evidence=counts,
        )
    return None


def _change(
    asked: Question,
    shifts: Shifts,
    i: int,
    y: np.ndarray,
    dates: list[str],
    counts: dict[str, Any],
) -> Finding:
    """The finding of change ``i``: its size, interval and p-value (``dates``: each value's)."""
    unit, levels, bounds, point = asked.unit, shifts.levels, shifts.bounds, shifts.points[i]
    change, candidate, date = shifts.change(i, y), shifts.found[point], dates[point]
    effect, low, high = change["effect"], change["ci_low"], change["ci_high"]
    p = candidate["p_adjusted"]
    evidence = {
        **counts,
        "date": date,
        "last_date_before": dates[point - 1],
        "index": point,
        **change["sides"],
        "segment_before_start": dates[bounds[i]],
        "segment_after_end": dates[bounds[i + 2] - 1],
        "relative_change": change["relative"],
        "p_raw": candidate["p_raw"],
        "segments_tested": candidate["segments_tested"],
        "max_t": change["max_t"],
        "rho_test": candidate["rho_test"],
        "found_in_round": candidate["round"],
        "index_found": candidate["index"],
    }
    drift = _amount(shifts.drift, f"{unit}/day" if unit else "per day", signed=True)
    also = (
        f"; the level also drifts by {drift} within segments, so part of the shift may be gradual"
        if shifts.model == "steps_plus_line"
        else ""
    )
    # Medium by default; high when the level moved by a quarter or more, clearly.
    relative = change["relative"]
    clear = relative is not None and abs(relative) >= 0.25 and p < 0.01
    return asked.finding(
        f"{asked.metric} shifted from {_amount(levels[i], unit)} to "
        f"{_amount(levels[i + 1], unit)} on {date} ({_amount(effect, unit, signed=True)}"
        f", 95 % CI {format_number(low)} to {format_number(high)}; {format_p(p)}){also}",
        severity="high" if clear else "medium",
        effect=effect,
        ci_low=low,
        ci_high=high,
        p_value=p,
        evidence=evidence,
        id=f"{asked.id}#{date}",
    )


def _not_significant(
    asked: Question,
    y: np.ndarray,
    seasons: np.ndarray | None,
    dates: pd.DatetimeIndex,
    daily: bool,
    candidate: dict[str, Any],
    counts: dict[str, Any],
) -> Finding:
    """The no-change record, carrying the best candidate split and its p-value."""
    point, p = candidate["index"], candidate["p_adjusted"]
    before, after, (effect, low, high) = split_at(y, seasons, point)
    date = _date(dates[point], daily)
    return asked.no_finding(
        "not_significant",
        f"no significant change in the level of {asked.metric}: the likeliest date, {date}, "
        f"splits it into parts whose levels differ by {_amount(effect, asked.unit, signed=True)}, "
        f"no more than noise produces ({format_p(p)} ≥ alpha {counts['alpha']})",
        evidence={
            **counts,
            "date": date,
            "index": point,
            "level_before": float(before.mean()),
            "level_after": float(after.mean()),
            "n_before": point,
            "n_after": len(y) - point,
            "p_raw": candidate["p_raw"],
            "rho_test": candidate["rho_test"],
            # Welch interval at the chosen date: too narrow, since the date was chosen
            # where the parts differ most; kept for reference, not reported as the CI.
            "ci_at_chosen_date": [low, high],
        },
        effect=effect,
        p_value=p,
    )
