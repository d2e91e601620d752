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

from csi_helpers.analysis.findings import (
    Finding,
    finding_id,
    format_number,
    format_p,
    no_finding,
)
from csi_helpers.errors import DataError

ANALYSIS = "trend"
MIN_POINTS = 10
MAX_MISSING_SHARE = 0.5
_Z95 = float(stats.norm.ppf(0.975))


def _check_inputs(
    series: object, period: object, alpha: object, metric: object, unit: object
) -> None:
    if not isinstance(series, pd.Series):
        raise DataError(f"trend_test expects a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise DataError(
            f"series {series.name!r} must be indexed by timestamps (a DatetimeIndex), "
            f"got {type(series.index).__name__}; set the date column as the index"
        )
    if not (pd.api.types.is_numeric_dtype(series.dtype) or series.dtype == object):
        raise DataError(f"series {series.name!r} has dtype {series.dtype}; expected numbers")
    if period is not None and (
        isinstance(period, bool) or not isinstance(period, int) or period < 2
    ):
        raise DataError(
            f"period must be an integer ≥ 2 (e.g. 7 for weekly) or None, got {period!r}"
        )
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise DataError(f"alpha must be a number between 0 and 1, got {alpha!r}")
    if not isinstance(metric, str) or not metric.strip():
        raise DataError(f"metric must be a non-empty string, got {metric!r}")
    if not isinstance(unit, str):
        raise DataError(f"unit must be a string, got {unit!r}")


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
        DataError: If ``series`` is not a numeric Series with a DatetimeIndex, or an
            option is out of range.

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
    scope = dict(scope or {})
    name = "seasonal_mann_kendall" if period else "mann_kendall"
    params = f"period={period}, alpha={alpha}" if period else f"alpha={alpha}"
    slope_name = "seasonal_sen_slope" if period else "sen_slope"
    method = f"{name}({params}) + {slope_name}"
    slope_unit = f"{unit}/day" if unit else "per day"

    def nothing(reason: str, detail: str, **numbers: Any) -> Finding:
        return no_finding(
            analysis=ANALYSIS,
            metric=metric,
            reason=reason,
            detail=detail,
            method=method,
            unit=slope_unit,
            scope=scope,
            **numbers,
        )

    values = pd.to_numeric(series, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values))
    n_total = len(values)
    if n_total == 0:
        return nothing("empty", "series is empty", evidence={"n_total": 0})
    n_duplicated = int(values.index.duplicated().sum())
    if n_duplicated:
        return nothing(
            "duplicate_timestamps",
            f"index has {n_duplicated} duplicate timestamps; aggregate to one "
            "value per timestamp first",
            evidence={"n_duplicated": n_duplicated},
        )
    values = values.sort_index()
    index = values.index
    step = pd.Series(index).diff().median() if n_total > 1 else pd.Timedelta(days=1)
    positions = np.round((index - index[0]) / step).astype("int64") if n_total > 1 else [0]
    positions = np.asarray(positions)
    valid = values.notna().to_numpy()
    n = int(valid.sum())
    n_expected = int(positions[-1]) + 1
    counts: dict[str, Any] = {
        "n_points": n,
        "n_total": n_total,
        "n_missing_values": n_total - n,
        "n_missing_timestamps": max(n_expected - n_total, 0),
        "start": index[0],
        "end": index[-1],
        "period": period,
        "alpha": alpha,
    }
    need = max(MIN_POINTS, 2 * period) if period else MIN_POINTS
    if n < need:
        return nothing("too_short", f"series too short: {n} points, need ≥ {need}", evidence=counts)
    missing_share = 1 - n / n_expected
    if missing_share > MAX_MISSING_SHARE:
        return nothing(
            "mostly_missing",
            f"series mostly missing: {n} of {n_expected} expected points present "
            f"({missing_share:.0%} missing, allowed ≤ {MAX_MISSING_SHARE:.0%})",
            evidence=counts,
        )
    y = values.to_numpy()[valid]
    if np.ptp(y) == 0:
        return nothing(
            "constant",
            f"series is constant at {format_number(float(y[0]))} {unit}".rstrip(),
            evidence=counts,
        )

    days = ((index - index[0]) / pd.Timedelta(days=1)).to_numpy(dtype="float64")[valid]
    seasons = positions[valid] % period if period else np.zeros(n, dtype="int64")
    slope, low, high, p, extra = _mann_kendall(days, y, seasons)
    span = float(days[-1] - days[0])
    level_at_start = float(np.median(y - slope * (days - days[0])))
    change = slope * span
    relative = change / abs(level_at_start) if level_at_start != 0 else None
    direction = "no trend" if p >= alpha else "increasing" if slope > 0 else "decreasing"
    evidence = {
        **counts,
        **extra,
        "direction": direction,
        "span_days": span,
        "level_at_start": level_at_start,
        "change_over_span": change,
        "relative_change": relative,
    }
    numbers = (
        f"{format_number(slope)} {slope_unit} (95 % CI {format_number(low)} to "
        f"{format_number(high)}; {format_p(p)})"
    )
    label = f"seasonal Mann-Kendall, period {period}" if period else "Mann-Kendall"
    if direction == "no trend":
        return nothing(
            "not_significant",
            f"no significant trend in {metric} over {span:.0f} days: slope {numbers}, "
            f"not below alpha {alpha} ({label})",
            evidence=evidence,
            effect=slope,
            ci_low=low,
            ci_high=high,
            p_value=p,
        )
    over = (
        f"{relative * 100:+.0f} % over {span:.0f} days"
        if relative is not None
        else f"{format_number(change)} {unit} over {span:.0f} days".replace("  ", " ")
    )
    return Finding(
        id=finding_id(ANALYSIS, metric, scope),
        kind="trend",
        statement=f"{metric} is {direction}: {numbers}, {over} ({label})",
        metric=metric,
        method=method,
        severity=_severity(relative),
        scope=scope,
        effect=slope,
        unit=slope_unit,
        ci_low=low,
        ci_high=high,
        p_value=p,
        evidence=evidence,
    )
