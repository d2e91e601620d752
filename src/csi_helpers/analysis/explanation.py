"""One explanation per pattern: a series whose level shifted is not also said to trend.

A step in a series makes a trend test over the whole series significant: the
values after the step are higher than those before, which is all a Mann-Kendall
test asks. Reporting both ("shifted by +40 % on 10 August" and "+89 % over 91
days") tells a reader two stories about one change. The change-point analysis
already chooses, by BIC, between a straight line, level shifts, and shifts plus a
drift within the segments; when it reports a shift inside the trend's span, the
trend is tested again on the days since the last shift. A trend that remains
there is reported as such ("since its level shift on ..."); otherwise the trend
gives way to the shift, with a no-finding record that says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import pandas as pd

from csi_helpers.analysis.findings import Finding, format_p, no_finding

__all__ = ["MIN_TREND_POINTS", "shifts_within", "trend_or_shift"]

#: Fewest values after a shift on which a trend is tested again (four weeks of days).
MIN_TREND_POINTS = 28


def shifts_within(
    shifts: Iterable[Finding], start: pd.Timestamp, end: pd.Timestamp
) -> list[Finding]:
    """The change-point findings dated inside ``[start, end)``, in date order."""
    inside = [f for f in shifts if f.is_finding and start <= pd.Timestamp(f.evidence["date"]) < end]
    return sorted(inside, key=lambda f: f.evidence["date"])


def trend_or_shift(
    series: pd.Series,
    shifts: list[Finding],
    test: Callable[[pd.Series], Finding],
    *,
    min_points: int = MIN_TREND_POINTS,
) -> Finding:
    """The trend finding of ``series`` given the level shifts reported inside its span.

    Args:
        series: The daily series the trend is tested on (indexed by day).
        shifts: Change-point findings of the same series dated inside its span
            (:func:`shifts_within`).
        test: The trend test, called on ``series`` or on the days since the last shift.
        min_points: Fewest values since the last shift to test a trend on them.

    Returns:
        ``test(series)`` when there is no shift; otherwise the trend since the last
        shift (its statement and evidence say so), or a no-finding with reason
        ``explained_by_change_point`` when no trend remains there or too few days
        are left to test one.
    """
    if not shifts:
        return test(series)
    last = shifts[-1]
    since = pd.Timestamp(last.evidence["date"])
    index = pd.DatetimeIndex(series.index)
    after = series[(index.tz_localize(None) if index.tz else index) >= since]
    dates = ", ".join(f.evidence["date"] for f in shifts)
    model = last.evidence.get("model", "steps")
    shifted = (
        f"its level shifted on {dates} (the change-point analysis prefers "
        f"{'level shifts plus a drift' if model == 'steps_plus_line' else 'level shifts'} "
        "to a straight line)"
    )
    evidence = {"explained_by": [f.id for f in shifts], "since": last.evidence["date"]}
    if after.notna().sum() >= min_points:
        within = test(after)
        if within.is_finding:
            return dataclasses.replace(
                within,
                statement=f"since its level shift on {last.evidence['date']}, {within.statement}",
                evidence={**within.evidence, **evidence},
            )
        why = (
            f"and the {after.notna().sum()} values since show no trend of their own "
            f"({format_p(within.p_value) if within.p_value is not None else 'not testable'})"
        )
    else:
        why = f"and the {after.notna().sum()} values since are too few to test a trend on"
    whole = test(series)
    return no_finding(
        analysis="trend",
        metric=whole.metric,
        reason="explained_by_change_point",
        detail=f"{whole.metric} does not trend: {shifted}, {why}",
        method=whole.method,
        unit=whole.unit,
        scope=whole.scope,
        evidence={**evidence, "whole_span_p": whole.p_value, "whole_span_effect": whole.effect},
    )
