"""The weekly peak of an hourly series: on which day and hours it is busiest, and how much.

A service's load has a shape that repeats every week; where it peaks is where
capacity is needed. The peak is read off the weekday × hour profile of the
cycle's full weeks, with the hours of known events (campaigns) set aside so
that a recurring campaign is not taken for the week's own shape:

1. Each week's hourly values are divided by that week's mean, so growth and
   busy weeks do not weigh on the shape; the profile is the mean of those ratios
   per weekday and hour.
2. The peak block is the run of hours, on the weekday of the profile's highest
   hour, whose profile stays within 80 % of that highest value (at most eight
   hours).
3. **Is it that day's?** (Each of the two tests below runs at ``alpha / 2`` and
   reports its p-value doubled, Bonferroni, so that a flat week gives a finding at
   most ``alpha`` of the time.) Each week, the block's hours are averaged on every
   weekday (on a log scale, centred on the week's mean of those days); the
   statistic is the largest weekday mean over the weeks. A permutation test
   shuffles the weekdays within each week (a max-statistic test, so choosing the
   busiest day is paid for; Good 2005, ch. 3). If it rejects at ``alpha``, the
   finding is the day's peak: how much busier those hours are on that day than on
   the other days, with a bootstrap interval over weeks.
4. **Otherwise, is it the hours'?** The same test with the hours shuffled within
   each day of each week, on the block's hours against the rest of the day. If it
   rejects, the finding is a daily peak at those hours.

A flat profile gives a no-finding record.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question

ANALYSIS = "seasonal_peak"
BLOCK_SHARE = 0.8  # hours within this share of the highest profile value join the block
MAX_BLOCK_HOURS = 8
MIN_WEEKS = 4
MIN_WEEK_COVERAGE = 0.5  # a week counts when this share of its hours has a value
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def weekly_cube(
    series: pd.Series, events: pd.DataFrame | None = None, *, timezone: str = "UTC"
) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """The series as weeks × weekday × hour of ``timezone``, each week divided by its mean.

    Hours inside an event window (``start`` inclusive, ``end`` exclusive) are
    missing; weeks with less than :data:`MIN_WEEK_COVERAGE` of their hours left
    (a 48-hour campaign takes 29 % of a week) are dropped. Returns the cube (NaN
    where missing) and the Mondays of its weeks.
    """
    values = series.astype(float).copy()
    if values.index.tz is None:
        values.index = values.index.tz_localize("UTC")
    if events is not None and len(events):
        for start, end in events[["start", "end"]].itertuples(index=False):
            values[(values.index >= start) & (values.index < end)] = np.nan
    local = values.tz_convert(timezone).tz_localize(None)
    local = local[~local.index.duplicated()].resample("h").mean()
    monday = local.index.normalize() - pd.to_timedelta(local.index.day_of_week, unit="D")
    full = pd.DataFrame(
        {"week": monday, "slot": local.index.day_of_week * 24 + local.index.hour, "v": local}
    ).pivot_table(index="week", columns="slot", values="v", dropna=False)
    full = full.reindex(columns=range(168))
    full = full[full.notna().mean(axis=1) >= MIN_WEEK_COVERAGE]
    full = full.div(full.mean(axis=1), axis=0)
    return full.to_numpy().reshape(len(full), 7, 24), pd.DatetimeIndex(full.index)


def _block(profile: np.ndarray) -> tuple[int, list[int]]:
    """The weekday and the hours of the peak block of a 7 × 24 profile."""
    day, hour = np.unravel_index(int(np.nanargmax(profile)), profile.shape)
    top, row, hours = profile[day, hour], profile[day], [int(hour)]
    for step in (-1, 1):
        h = hour + step
        while 0 <= h < 24 and row[h] >= BLOCK_SHARE * top and len(hours) < MAX_BLOCK_HOURS:
            hours.append(int(h))
            h += step
    return int(day), sorted(hours)


def _day_stat(blocks: np.ndarray) -> np.ndarray:
    """Per weekday: the mean over weeks of its log block level, centred per week."""
    logs = np.log(np.clip(blocks, 1e-6, None))
    return np.nanmean(logs - np.nanmean(logs, axis=-1, keepdims=True), axis=-2)


def _permutation_p(
    blocks: np.ndarray, n_perm: int, rng: np.random.Generator, *, column: int | None = None
) -> float:
    """p-value of the largest (or ``column``'s) centred mean, labels shuffled within weeks."""
    observed = _day_stat(blocks)
    observed = observed.max() if column is None else observed[column]
    keys = rng.random((n_perm, *blocks.shape)).argsort(axis=-1)
    shuffled = np.take_along_axis(np.broadcast_to(blocks, keys.shape), keys, axis=-1)
    stats = _day_stat(shuffled).max(axis=-1)
    return float((1 + np.count_nonzero(stats >= observed - 1e-12)) / (n_perm + 1))


def _bootstrap_ratio(
    on: np.ndarray, off: np.ndarray, n_boot: int, rng: np.random.Generator, alpha: float
) -> tuple[float, float, float]:
    """Ratio of the mean of ``on`` to the mean of ``off`` (per week), with a week bootstrap CI."""
    ratio = float(np.nanmean(on) / np.nanmean(off))
    picks = rng.integers(0, len(on), (n_boot, len(on)))
    boot = np.nanmean(on[picks], axis=1) / np.nanmean(off[picks], axis=1)
    low, high = np.nanquantile(boot, [alpha / 2, 1 - alpha / 2])
    return ratio, float(low), float(high)


def _hours(hours: list[int]) -> str:
    return f"{hours[0]:02d}:00–{hours[-1] + 1:02d}:00"


def seasonal_peak(
    series: pd.Series,
    *,
    metric: str,
    events: pd.DataFrame | None = None,
    event_label: str = "known events",
    timezone: str = "UTC",
    alpha: float = 0.05,
    n_perm: int = 999,
    n_boot: int = 500,
    seed: int = 0,
    scope: Mapping[str, Any] | None = None,
) -> Finding:
    """Where in the week an hourly series peaks, tested against a flat week.

    Args:
        series: Hourly values indexed by timestamps (UTC when naive).
        metric: Metric name used in the statement and id ("request load").
        events: Windows (``start``, ``end``, tz-aware) whose hours are set aside.
        event_label: What those windows are, for the statement.
        timezone: IANA zone whose weekdays and hours the profile uses.
        alpha: Significance level of the permutation tests.
        n_perm: Permutations per test.
        n_boot: Bootstrap resamples of weeks for the interval.
        seed: Seed of both resamplings.
        scope: Where the series comes from, copied to the finding.

    Returns:
        A Finding of kind ``"seasonal_peak"``: ``effect`` is how many percent the
        block's hours on the peak day exceed the same hours on the other days (a
        day's peak) or the other hours of the day (a daily peak), with a bootstrap
        interval over weeks and the permutation p-value; ``evidence`` holds the
        weekday, hours, the block's level against the weekly mean, and in how many
        weeks that block led. A no-finding with reason ``too_short`` (fewer than
        four usable weeks) or ``flat`` (neither test rejects).

    Example:
        >>> t = pd.date_range("2026-04-06", periods=24 * 7 * 8, freq="h", tz="UTC")
        >>> rng = np.random.default_rng(0)
        >>> y = 100 * np.where((t.day_of_week == 4) & (t.hour >= 18) & (t.hour < 22), 1.5, 1.0)
        >>> f = seasonal_peak(pd.Series(y * rng.lognormal(0, 0.05, len(t)), index=t),
        ...                   metric="request load")
        >>> f.evidence["weekday"], f.evidence["hours"], f.ci_low < 50 < f.ci_high
        ('Friday', [18, 19, 20, 21], True)
    """
    checks.series(series, function="seasonal_peak")
    checks.label("metric", metric)
    method = f"weekday_hour_profile_peak(block_share={BLOCK_SHARE}, n_perm={n_perm})"
    asked = Question(ANALYSIS, metric, method, "%", checks.scope(scope))
    cube, weeks = weekly_cube(series, events, timezone=timezone)
    counts = {
        "n_weeks": len(weeks),
        "events_set_aside": event_label if events is not None else None,
    }
    if len(weeks) < MIN_WEEKS:
        detail = (
            f"{metric}: {len(weeks)} full weeks of data, {MIN_WEEKS} needed for a weekly profile"
        )
        return asked.no_finding("too_short", detail, evidence=counts)
    with warnings.catch_warnings():  # weekdays whose peak hours were all set aside: NaN means
        warnings.simplefilter("ignore", RuntimeWarning)
        return _tested(
            asked, cube, evidence=counts, alpha=alpha, n_perm=n_perm, n_boot=n_boot, seed=seed
        )


def _tested(
    asked: Question,
    cube: np.ndarray,
    *,
    evidence: dict[str, Any],
    alpha: float,
    n_perm: int,
    n_boot: int,
    seed: int,
) -> Finding:
    """The two tests of the module docstring on the weekly cube, and the finding."""
    metric = asked.metric
    rng = np.random.default_rng(seed)
    day, hours = _block(np.nanmean(cube, axis=0))
    level = float(np.nanmean(np.nanmean(cube, axis=0)[day, hours]))
    by_day = np.nanmean(cube[:, :, hours], axis=2)  # weeks × weekdays
    evidence = {**evidence, "weekday": DAYS[day], "hours": hours, "level_vs_weekly_mean": level}
    p_day = min(1.0, 2 * _permutation_p(by_day, n_perm, rng))
    if p_day < alpha:
        seen = by_day[~np.isnan(by_day[:, day])]  # weeks whose peak hours were not set aside
        others = np.nanmean(np.delete(seen, day, axis=1), axis=1)
        led = int(np.count_nonzero(np.nanargmax(seen, axis=1) == day))
        return _found(asked, "day", seen[:, day], others, p_day, led, evidence, n_boot, alpha, rng)
    in_block = np.isin(np.arange(24), hours)
    daily = cube.reshape(-1, 24)  # week-days × hours, the block's hours against the rest
    daily = daily[~np.isnan(daily).all(axis=1)]
    pair = np.column_stack(
        [np.nanmean(daily[:, in_block], axis=1), np.nanmean(daily[:, ~in_block], axis=1)]
    )
    p_hour = min(1.0, 2 * _permutation_p(np.nan_to_num(daily, nan=1.0), n_perm, rng))
    if p_hour < alpha:
        led = int(np.count_nonzero(np.isin(daily.argmax(axis=1), hours)))
        evidence |= {"weekday": None, "n_days": len(daily)}
        return _found(
            asked, "hours", pair[:, 0], pair[:, 1], p_hour, led, evidence, n_boot, alpha, rng
        )
    detail = (
        f"no weekly peak in {metric}: the busiest block, {DAYS[day]} {_hours(hours)}, is no busier "
        f"than shuffled weekdays or hours make it ({format_p(p_day)} for the day, "
        f"{format_p(p_hour)} for the hours)"
    )
    return asked.no_finding("flat", detail, evidence=evidence, p_value=min(p_day, p_hour))


def _found(
    asked: Question,
    kind: str,
    on: np.ndarray,
    off: np.ndarray,
    p: float,
    led: int,
    evidence: dict[str, Any],
    n_boot: int,
    alpha: float,
    rng: np.random.Generator,
) -> Finding:
    ratio, low, high = _bootstrap_ratio(on, off, n_boot, rng, alpha)
    hours, level = _hours(evidence["hours"]), evidence["level_vs_weekly_mean"]
    n = len(on)
    if kind == "day":
        day = evidence["weekday"]
        where = f"on {day} {hours}"
        than = "the same hours on other days"
        lead = f"{day} was the busiest day at those hours in {led} of {n} weeks"
    else:
        where, than = f"every day at {hours}", "the other hours of the day"
        lead = f"those hours held the day's busiest hour on {led} of {n} days"
    aside = evidence["events_set_aside"]
    statement = (
        f"{asked.metric} peaks {where} at {level:.1f}× the weekly mean, "
        f"{format_number(100 * (ratio - 1))} % above {than} (95 % CI "
        f"{format_number(100 * (low - 1))} to {format_number(100 * (high - 1))} %; {format_p(p)}); "
        f"{lead}" + (f" ({aside} set aside)" if aside else "")
    )
    return asked.finding(
        statement,
        severity="info",
        effect=100 * (ratio - 1),
        ci_low=100 * (low - 1),
        ci_high=100 * (high - 1),
        p_value=p,
        evidence={**evidence, "peak": kind, "n_led": led},
    )
