"""One explanation per pattern: a level shift is not also reported as a trend."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from csi_helpers.analysis.changepoint import change_points
from csi_helpers.analysis.explanation import shifts_within, trend_or_shift
from csi_helpers.analysis.trend import trend_test

DAYS = pd.date_range("2026-07-01", periods=91, freq="D")
SHIFT_AT = pd.Timestamp("2026-08-10")
TREND = partial(trend_test, period=7, metric="daily incidents", unit="incidents/day")


def incidents(seed: int, *, drift_after: float = 0.0) -> pd.Series:
    """Daily incidents: 15 a day, 40 % more from 10 August, plus an optional drift after it."""
    rng = np.random.default_rng(seed)
    after = DAYS >= SHIFT_AT
    days_after = np.where(after, (DAYS - SHIFT_AT).days, 0)
    level = 15.0 * np.where(after, 1.4, 1.0) + drift_after * days_after
    return pd.Series(rng.poisson(level).astype(float), index=DAYS)


def explained(series: pd.Series) -> tuple[list, object]:
    shifts = change_points(
        series, metric="daily incidents", unit="incidents/day", n_perm=499, period=7
    )
    inside = shifts_within(shifts, DAYS[0], DAYS[-1] + pd.Timedelta(days=1))
    return inside, trend_or_shift(series, inside, TREND)


def test_a_step_is_one_change_point_and_no_trend() -> None:
    series = incidents(seed=4)
    assert TREND(series).is_finding  # the whole-span test alone mistakes the step for a trend
    inside, trend = explained(series)
    assert [f.evidence["date"] for f in inside] == ["2026-08-10"] or abs(
        (pd.Timestamp(inside[0].evidence["date"]) - SHIFT_AT).days
    ) <= 3
    assert not trend.is_finding
    assert trend.evidence["reason"] == "explained_by_change_point"
    assert "level shifted on" in trend.statement and inside[0].id in trend.evidence["explained_by"]


def test_a_trend_after_the_step_is_reported_since_the_step() -> None:
    """Given the shift, a drift of 0.3/day in the 52 days after it is still a trend."""
    inside, _ = explained(incidents(seed=4))
    rng = np.random.default_rng(5)
    days_after = np.where(DAYS >= SHIFT_AT, (DAYS - SHIFT_AT).days, 0)
    series = pd.Series(
        np.where(DAYS >= SHIFT_AT, 140.0, 100.0) + 0.3 * days_after + rng.normal(0, 3, len(DAYS)),
        index=DAYS,
    )
    trend = trend_or_shift(series, inside, TREND)
    assert trend.is_finding and trend.statement.startswith("since its level shift on ")
    assert trend.ci_low <= 0.3 <= trend.ci_high
    assert trend.evidence["since"] == inside[-1].evidence["date"]


def test_without_a_shift_the_trend_is_the_plain_test() -> None:
    rng = np.random.default_rng(6)
    series = pd.Series(rng.poisson(15 + 0.1 * np.arange(91)).astype(float), index=DAYS)
    _, trend = explained(series)
    assert trend.is_finding and trend == TREND(series)


def test_shifts_outside_the_span_do_not_count() -> None:
    shifts = change_points(
        incidents(seed=4), metric="daily incidents", unit="incidents/day", n_perm=499
    )
    assert shifts_within(shifts, SHIFT_AT + pd.Timedelta(days=5), DAYS[-1]) == []
