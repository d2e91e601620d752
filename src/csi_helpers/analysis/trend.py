"""Trend test for a KPI time series: (seasonal) Mann-Kendall with a Sen slope.

With a ``period`` the test is the seasonal Mann-Kendall test of Hirsch, Slack and
Smith (1982): the Mann-Kendall statistic S and its tie-corrected variance are
computed within each season (e.g. each weekday of daily data) and summed, which
keeps the seasonal pattern out of the comparison. The slope is the seasonal Sen
slope, the median of all within-season pairwise slopes, with the distribution-free
interval of Gilbert (1987, §17.3.4) computed from the summed variance.

Without a period the same code runs with a single season, which is the classic
Mann-Kendall test and the Theil-Sen slope; the tests check it against
:func:`scipy.stats.theilslopes` (slope and interval agree exactly) and
:func:`scipy.stats.kendalltau`. It is computed here rather than by scipy so both
cases share one definition (z with continuity correction) and so a long series
needs memory for its pairwise slopes only, not for an n × n matrix.

Both tests assume the values are serially independent once trend and season are
accounted for; strong autocorrelation makes them anti-conservative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csi_helpers.analysis import checks
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question
from csi_helpers.analysis.timeseries import SeriesOnGrid, on_grid

ANALYSIS = "trend"
MIN_POINTS = 10
MAX_MISSING_SHARE = 0.5
_Z95 = float(stats.norm.ppf(0.975))


def _check_inputs(
    series: object, period: object, alpha: object, metric: object, unit: object
) -> None:
    checks.series(series, function="trend_test", column="date")
    checks.period(period)
    checks.alpha(alpha)
    checks.label("metric", metric)
    checks.label("unit", unit, blank=True)


def _pairs(days: np.ndarray, values: np.ndarray) -> tuple[float, np.ndarray]:
    """Mann-Kendall S and all pairwise slopes, pairs taken in time order.

    Built row by row, so memory grows with the number of slopes, not with a square
    matrix of pairs. Days increase, so a slope's sign is the sign of its pair in S.
    """
    if len(values) < 2:
        return 0.0, np.empty(0)
    slopes = np.concatenate(
        [(values[i + 1 :] - values[i]) / (days[i + 1 :] - days[i]) for i in range(len(values) - 1)]
    )
    return float(np.count_nonzero(slopes > 0) - np.count_nonzero(slopes < 0)), slopes


def _tie_corrected_variance(values: np.ndarray) -> float:
    """Variance of Mann-Kendall S under no trend, corrected for tied values."""
    m = len(values)
    _, ties = np.unique(values, return_counts=True)
    return (m * (m - 1) * (2 * m + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18


def _mann_kendall(
    days: np.ndarray, values: np.ndarray, seasons: np.ndarray
) -> tuple[float, float, float, float, dict[str, Any]]:
    """(Seasonal) Mann-Kendall p-value and (seasonal) Sen slope with its 95 % CI.

    One season gives the classic test; S and Var(S) are summed over seasons.
    """
    s_total, var_total, slopes, used = 0.0, 0.0, [], 0
    for season in np.unique(seasons):
        mask = seasons == season
        if mask.sum() < 2:
            continue
        s, season_slopes = _pairs(days[mask], values[mask])
        s_total += s
        var_total += _tie_corrected_variance(values[mask])
        slopes.append(season_slopes)
        used += 1
    all_slopes = np.concatenate(slopes)
    z = (s_total - np.sign(s_total)) / np.sqrt(var_total) if var_total > 0 else 0.0
    p = float(2 * stats.norm.sf(abs(z)))
    # Gilbert (1987), as in scipy.stats.theilslopes: ranks of the interval ends.
    n_slopes, c = len(all_slopes), _Z95 * np.sqrt(var_total)
    low_rank = max(int(np.round((n_slopes - c) / 2)) - 1, 0)
    high_rank = min(int(np.round((n_slopes + c) / 2)), n_slopes - 1)
    middle = ((n_slopes - 1) // 2, n_slopes // 2)
    ranked = np.partition(all_slopes, sorted({low_rank, high_rank, *middle}))
    slope = float((ranked[middle[0]] + ranked[middle[1]]) / 2)
    extra = {"s": s_total, "var_s": var_total, "z": float(z), "seasons_used": used}
    return slope, float(ranked[low_rank]), float(ranked[high_rank]), p, extra


def _severity(relative_change: float | None) -> str:
    if relative_change is None:
        return "low"
    size = abs(relative_change)
    return "high" if size >= 0.25 else "medium" if size >= 0.10 else "low"


def trend_test(
    series: pd.Series,
    *,
    period: int | None = None,
    alpha: float = 0.05,
    metric: str,
    unit: str,
    scope: Mapping[str, Any] | None = None,
) -> Finding:
    """Test a KPI series for a monotonic trend and estimate its slope per day.

    Gaps (NaN or infinite values) are dropped and counted. The series may be
    irregular; with ``period``, each point's season is its position on the regular
    grid of the series' typical spacing (the median step), modulo ``period``.

    Args:
        series: KPI values indexed by a DatetimeIndex (regular daily is typical).
        period: Season length in steps of the series (7 for weekly seasonality in
            daily data); ``None`` for no seasonality.
        alpha: Significance level; a trend with ``p ≥ alpha`` is not reported.
        metric: KPI id, used in the statement and the finding id.
        unit: Unit of the values; the slope is reported in ``unit``/day.
        scope: Where the series comes from (service, site, ...), copied to the finding.

    Returns:
        A Finding of kind ``"trend"`` whose ``effect`` is the slope per day with its
        95 % CI; ``evidence`` holds ``direction``, ``relative_change`` over the span,
        the test statistic and the counts of points used and missing. A series that
        is too short (fewer than 10 points or 2 full periods), constant, mostly
        missing (under half the expected points present), or shows no significant
        trend gives a ``"no_finding"`` record that says why.

    Raises:
        TypeError: If ``series`` is not a numeric Series with a DatetimeIndex, or an
            option is of the wrong type.
        ValueError: If an option is out of range.

    Example:
        >>> days = pd.date_range("2024-01-01", periods=60, freq="D")
        >>> noise = np.random.default_rng(1).normal(0, 2, 60)
        >>> f = trend_test(pd.Series(50 + 0.5 * np.arange(60) + noise, index=days),
        ...                period=7, metric="open_incidents", unit="tickets")
        >>> f.kind, f.evidence["direction"], f.ci_low < 0.5 < f.ci_high
        ('trend', 'increasing', True)
        >>> trend_test(pd.Series([1.0, 2.0], index=days[:2]), metric="x", unit="").statement
        'series too short: 2 points, need ≥ 10'
    """
    _check_inputs(series, period, alpha, metric, unit)
    name = "seasonal_mann_kendall" if period else "mann_kendall"
    params = f"period={period}, alpha={alpha}" if period else f"alpha={alpha}"
    slope_name = "seasonal_sen_slope" if period else "sen_slope"
    asked = Question(
        analysis=ANALYSIS,
        metric=metric,
        method=f"{name}({params}) + {slope_name}",
        unit=f"{unit}/day" if unit else "per day",
        scope=checks.scope(scope),
    )
    grid = on_grid(series)
    if grid.n_total == 0:
        return asked.no_finding("empty", "series is empty", evidence={"n_total": 0})
    if grid.n_duplicated:
        return asked.no_finding(
            "duplicate_timestamps",
            f"index has {grid.n_duplicated} duplicate timestamps; aggregate to one "
            "value per timestamp first",
            evidence={"n_duplicated": grid.n_duplicated},
        )
    counts = {
        **grid.counts(),
        "start": grid.index[0],
        "end": grid.index[-1],
        "period": period,
        "alpha": alpha,
    }
    unusable = _unusable(grid, asked, counts, period=period, unit=unit)
    if unusable is not None:
        return unusable
    return _answer(asked, _test(grid, period), counts, period=period, alpha=alpha, unit=unit)


def _unusable(
    grid: SeriesOnGrid, asked: Question, counts: dict[str, Any], *, period: int | None, unit: str
) -> Finding | None:
    """The no-finding of a series too short, mostly missing or constant (None if usable)."""
    n = grid.n
    need = max(MIN_POINTS, 2 * period) if period else MIN_POINTS
    if n < need:
        detail = f"series too short: {n} points, need ≥ {need}"
        return asked.no_finding("too_short", detail, evidence=counts)
    why = grid.mostly_missing(MAX_MISSING_SHARE, "points")
    if why is not None:
        return asked.no_finding("mostly_missing", why, evidence=counts)
    why = grid.constant(unit)
    if why is not None:
        return asked.no_finding("constant", why, evidence=counts)
    return None


def _test(grid: SeriesOnGrid, period: int | None) -> dict[str, Any]:
    """The (seasonal) Mann-Kendall test and Sen slope, with the change over the span."""
    valid, index = grid.valid, grid.index
    y = grid.values.to_numpy()[valid]
    days = ((index - index[0]) / pd.Timedelta(days=1)).to_numpy(dtype="float64")[valid]
    seasons = grid.positions[valid] % period if period else np.zeros(len(y), dtype="int64")
    slope, low, high, p, extra = _mann_kendall(days, y, seasons)
    span = float(days[-1] - days[0])
    level_at_start = float(np.median(y - slope * (days - days[0])))
    change = slope * span
    relative = change / abs(level_at_start) if level_at_start != 0 else None
    return {
        "slope": slope,
        "low": low,
        "high": high,
        "p": p,
        "extra": extra,
        "span_days": span,
        "level_at_start": level_at_start,
        "change_over_span": change,
        "relative_change": relative,
    }


def _answer(
    asked: Question,
    test: dict[str, Any],
    counts: dict[str, Any],
    *,
    period: int | None,
    alpha: float,
    unit: str,
) -> Finding:
    """The finding of a trend, or the no-finding of one that is not significant."""
    slope, low, high, p = test["slope"], test["low"], test["high"], test["p"]
    span, relative = test["span_days"], test["relative_change"]
    direction = "no trend" if p >= alpha else "increasing" if slope > 0 else "decreasing"
    evidence = {
        **counts,
        **test["extra"],
        "direction": direction,
        **{k: test[k] for k in ("span_days", "level_at_start", "change_over_span")},
        "relative_change": relative,
    }
    # "196 requests per day" (the daily total grows by that much each day), not the
    # effect's unit "requests/day/day"; a fall is said as its size, the interval with it
    sign = -1.0 if direction == "decreasing" else 1.0
    ends = sorted((sign * low, sign * high))
    per_day = f"{unit.removesuffix('/day')} per day".strip() if unit else "per day"
    numbers = (
        f"{format_number(sign * slope)} {per_day} (95 % CI {format_number(ends[0])} to "
        f"{format_number(ends[1])}; {format_p(p)})"
    )
    label = f"seasonal Mann-Kendall, period {period}" if period else "Mann-Kendall"
    estimate = {"effect": slope, "ci_low": low, "ci_high": high, "p_value": p}
    if direction == "no trend":
        return asked.no_finding(
            "not_significant",
            f"no significant trend in {asked.metric} over {span:.0f} days: slope {numbers}, "
            f"not below alpha {alpha} ({label})",
            evidence=evidence,
            **estimate,
        )
    if relative is not None:
        over = f"{relative * 100:+.0f} % over {span:.0f} days"
    else:
        change = format_number(test["change_over_span"])
        over = f"{change} {unit} over {span:.0f} days".replace("  ", " ")
    return asked.finding(
        f"{asked.metric}: {direction} by {numbers}, {over} ({label})",
        severity=_severity(relative),
        evidence=evidence,
        **estimate,
    )
