"""Event impact: an hourly KPI during events (campaigns, changes) against matched baseline hours.

Matched baseline. Every hour of an event window (extended by ``after_hours``) is
compared with the same weekday and hour of day ``k`` weeks earlier and later,
``1 ≤ k ≤ baseline_weeks`` (whole 168-hour steps in UTC), using only those hours that
are present in the series and lie outside every event window. Comparing like with like
removes the weekly pattern: events on busy Friday evenings are compared with other
Friday evenings, not with the week's average. The baseline of an hour is the mean of
its matches. When the matches lie symmetrically around the event this also cancels a
linear trend; when they do not (near either end of the series, or where other events
or gaps remove weeks on one side) the mean is corrected for the trend: one slope per
week, fitted to all non-event hours of the series with a level of its own for each
hour of the week, as a share of the level for relative effects or in the unit for
absolute ones. Matching on the same period in comparable weeks keeps the main
confounders of a before/after comparison, season and trend, out of the estimate
(Bernal, Cummins and Gasparrini 2017, "Interrupted time series regression for the
evaluation of public health interventions", Int J Epidemiol 46:348).

Effect. Pooled over all matched event hours, ``relative`` is the mean during events
over the mean of their baselines, minus one (a fraction); ``absolute`` is the
difference of those means in the metric's unit. Each event's own effect is kept in
the evidence.

Test. A placebo-week randomisation test (Fisher's randomisation test; Good 2005,
"Permutation, Parametric and Bootstrap Tests of Hypotheses", ch. 3). If events do not
move the metric, an event's week is exchangeable with the same hours in the weeks
around it, so the real event week could have been any of them. A placebo calendar
moves every event by a random whole number of weeks within ``±baseline_weeks`` and
recomputes the statistic exactly as for the real calendar: baselines centred on the
placebo weeks, and no week that plays an event serving as anyone's baseline (so the
real event weeks join the baselines of the placebo calendar); calendars in which two
events would overlap are impossible and rejected. ``n_perm`` calendars are drawn, or
all of them enumerated when there are no more. Whole event blocks move, so all
dependence between the hours of one event (autocorrelation, a shared shock) stays
intact, which a shuffle of single hours or a sign-flip of days would break; and as
placebo weeks share the events' weekdays and hours, a busy time of week cannot pass
for an effect. A week is a placebo candidate for an event if it has values for at
least half as many hours as the event has matched hours. The statistic is
``|log(mean / baseline)|`` for relative effects and ``|mean - baseline|`` for absolute
ones; the p-value counts the real calendar among the draws. Recomputing baselines per
calendar matters: scoring each event's placebo weeks on their own let one event's
placebo week sit in another's baseline, which the real calendar never allows, and
raised false positives to 10-19 % at alpha 0.05 for events that share weekday-hours
(all on Friday evenings, say). In simulations of the final test (6 to 8 events, weekly
pattern, AR(1) noise, trends up to 5 % a week) the rate at alpha 0.05 was 4.3-6.2 %
(1,000 series each), against 4.5 % for an exact test with 199 draws.

Interval. Events are the independent units (clusters): the pooled ratio (or
difference) is linearised per event, and the interval is estimate ± t₀.₉₇₅,ₖ₋₁ × the
cluster-robust standard error with the k/(k−1) factor (Cameron and Miller 2015, "A
practitioner's guide to cluster-robust inference", J Hum Resour 50:317), on the log
scale for relative effects so that it stays above −100 %. A bootstrap over events was
tried first and rejected: with 3 to 5 events it has too few distinct resamples and
covered a planted effect in only 73 % (3 events) to 89 % (5 events) of simulated
series, against 92-97 % for this interval.

At least 3 usable events are needed: with fewer, the t-interval has one degree of
freedom and no test can tell one event's chance shock from an effect. An event is
usable when at least half of its hours inside the series have a value and a matched
baseline; windows that overlap (after extension) are merged into one event first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from csi_helpers.analysis.findings import Finding, finding_id, format_number, format_p, no_finding
from csi_helpers.errors import DataError

ANALYSIS = "event_impact"
MIN_EVENTS = 3
MIN_MATCHED_SHARE = 0.5  # share of an event's in-series hours that must be matched to use it
WEEK_HOURS = 168
_HOUR = pd.Timedelta(hours=1)
_EPOCH = pd.Timestamp(0, tz="UTC")
_CELLS = 4_000_000  # cells per work array of labellings: bounds memory for long calendars
_MAX_TRIES = 20  # give up drawing labellings after this many times n_perm (overlaps rejected)


def _check_inputs(series: object, events: object, options: Mapping[str, Any]) -> None:
    if not isinstance(series, pd.Series):
        raise DataError(f"event_impact expects a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise DataError(
            f"series {series.name!r} must be indexed by timestamps (a DatetimeIndex), got "
            f"{type(series.index).__name__}; set the timestamp column as the index"
        )
    if series.index.tz is None:
        raise DataError(
            f"series {series.name!r} has naive timestamps; localise them to UTC "
            "(index.tz_localize('UTC')) so they line up with the event windows"
        )
    if len(series) and not (series.index == series.index.floor("h")).all():
        raise DataError(
            f"series {series.name!r} is not hourly: timestamps must fall on whole hours; "
            "aggregate it first, e.g. series.resample('h').mean()"
        )
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise DataError(f"series {series.name!r} has dtype {series.dtype}; expected numbers")
    if not isinstance(events, pd.DataFrame):
        raise DataError(f"events must be a DataFrame, got {type(events).__name__}")
    for column in ("start", "end"):
        if column not in events.columns:
            raise DataError(
                f"events table lacks column {column!r}; it has {list(events.columns)}. "
                "Rename the window columns (e.g. actual_start/actual_end) to start/end"
            )
        dtype = events[column].dtype
        if not isinstance(dtype, pd.DatetimeTZDtype):
            naive = pd.api.types.is_datetime64_dtype(dtype)
            raise DataError(
                f"events column {column!r} has "
                + ("naive timestamps" if naive else f"dtype {dtype}")
                + "; expected timezone-aware timestamps, e.g. pd.to_datetime(col, utc=True)"
                + (" or col.dt.tz_localize('UTC')" if naive else "")
            )
    for name in ("metric", "event_label"):
        value = options[name]
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{name} must be a non-empty string, got {value!r}")
    if not isinstance(options["unit"], str):
        raise DataError(f"unit must be a string, got {options['unit']!r}")
    alpha = options["alpha"]
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise DataError(f"alpha must be a number between 0 and 1, got {alpha!r}")
    for name, low in (("baseline_weeks", 1), ("n_perm", 19), ("seed", 0)):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise DataError(f"{name} must be an integer ≥ {low}, got {value!r}")
    after = options["after_hours"]
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise DataError(f"after_hours must be a whole number of hours ≥ 0, got {after!r}")
    if options["effect"] not in ("relative", "absolute"):
        raise DataError(f"effect must be 'relative' or 'absolute', got {options['effect']!r}")
    if options["scope"] is not None and not isinstance(options["scope"], Mapping):
        raise DataError(f"scope must be a dict or None, got {type(options['scope']).__name__}")


def _windows(events: pd.DataFrame, after_hours: int) -> tuple[np.ndarray, dict[str, int]]:
    """Event windows as whole hours ``[first, stop)`` since the epoch, overlaps merged.

    An hour belongs to an event when it overlaps ``[start, end + after_hours)``; an
    instantaneous event covers the hour it falls in.
    """
    start = events["start"].dt.tz_convert("UTC")
    end = events["end"].dt.tz_convert("UTC")
    valid = (start.notna() & end.notna() & (end >= start)).to_numpy()
    first = ((start[valid] - _EPOCH) // _HOUR).to_numpy(dtype="int64")
    reach = end[valid] - _EPOCH + pd.Timedelta(hours=after_hours)
    stop = (-((-reach) // _HOUR)).to_numpy(dtype="int64")
    spans = sorted(zip(first.tolist(), np.maximum(stop, first + 1).tolist(), strict=True))
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    counts = {"n_events_given": len(events), "n_events_invalid": int((~valid).sum())}
    counts["n_events_merged_away"] = len(spans) - len(merged)
    return np.array(merged, dtype="int64").reshape(-1, 2), counts


def _trend_per_week(grid: np.ndarray, usable: np.ndarray, relative: bool) -> tuple[float, float]:
    """Pooled within-slot slope of the series against the week, outside all events.

    Each hour-of-week slot keeps its own level and the slope per week is shared. With
    ``relative`` the slope is a share of the level at the pivot (the mean time of the
    data, in weeks from the grid's start): a level that grows linearly, times a weekly
    profile. Otherwise it is in the metric's unit. Returns ``(slope, pivot)``.
    """
    weeks = -(-len(grid) // WEEK_HOURS)
    pad = weeks * WEEK_HOURS - len(grid)
    ok = np.concatenate([usable, np.zeros(pad, dtype=bool)]).reshape(weeks, WEEK_HOURS)
    v = np.where(ok, np.concatenate([grid, np.zeros(pad)]).reshape(weeks, WEEK_HOURS), 0.0)
    d = np.where(ok, np.arange(weeks, dtype="float64")[:, None], 0.0)
    n = ok.sum(axis=0)
    keep = n >= 2
    pivot = float(np.flatnonzero(usable).mean() / WEEK_HOURS) if usable.any() else 0.0
    if not keep.any():
        return 0.0, pivot
    d, v, n = d[:, keep], v[:, keep], n[keep]
    s_dv = (d * v).sum(0) - d.sum(0) * v.sum(0) / n
    s_dd = (d * d).sum(0) - d.sum(0) ** 2 / n
    den = float((s_dd * (v.sum(0) / n if relative else 1.0)).sum())
    return (float(s_dv.sum()) / den if den > 0 else 0.0), pivot


def _positions(first: int, stop: int, n_grid: int, weeks: int) -> np.ndarray:
    """Grid positions of an event's hours shifted by -2K..2K weeks, ``n_grid`` if outside.

    Rows are lags, columns the event's hours inside the series. A label ``j`` in -K..K
    uses row ``2K + j`` as the event and the ``2K + 1`` rows centred on it as baseline.
    """
    inner = np.arange(max(first, 0), min(stop, n_grid))
    where = inner[None, :] + WEEK_HOURS * np.arange(-2 * weeks, 2 * weeks + 1)[:, None]
    return np.where((where >= 0) & (where < n_grid), where, n_grid)


def _label_sums(
    blocks: list[np.ndarray],
    labels: np.ndarray,
    values: np.ndarray,
    usable: np.ndarray,
    *,
    weeks: int,
    trend: tuple[float, float],
    relative: bool,
    detail: list[dict[str, Any]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pooled sums for each labelling of the events (one row of ``labels`` each).

    Args:
        blocks: Per event, the positions from :func:`_positions`.
        labels: Shape (B, E): the week, in -K..K, that plays each event; 0 is the real one.
        values: The hourly grid plus one trailing sink cell (positions outside the series).
        usable: Same shape: value present and not inside an event left out of the test.
        weeks: K, the baseline half-width in weeks.
        trend: Slope per week and its pivot from :func:`_trend_per_week`.
        relative: Trend as a share of the level (else in the unit).
        detail: If a list, per-event masks of the first labelling are appended to it.

    Returns:
        ``sy``, ``sb``, ``n`` of shape (V, E) for the V valid labellings: sums over
        matched hours of the labelled values and of their baselines, and the matched
        hours; ``valid`` (B,): no two labelled blocks share an hour. A baseline hour
        must be usable and not labelled by any event in that labelling, so a week that
        plays an event never serves as another event's baseline at the same time, as
        with the real calendar.
    """
    n_cfg, n_events = labels.shape
    centre, sink = 2 * weeks, len(values) - 1
    taken = np.zeros((n_cfg, len(values)), dtype=np.int16)
    cfg = np.arange(n_cfg)[:, None]
    chosen = [block[centre + labels[:, e]] for e, block in enumerate(blocks)]  # (B, H) each
    for where in chosen:
        taken[cfg, where] += 1
    taken[:, sink] = 0
    valid = np.ones(n_cfg, dtype=bool)
    for where in chosen:
        valid &= (taken[cfg, where] <= 1).all(axis=1)
    if not valid.all():  # score only possible calendars
        labels, taken = labels[valid], taken[valid]
        chosen = [where[valid] for where in chosen]
        n_cfg = len(labels)
        cfg = np.arange(n_cfg)[:, None]
    lags = np.arange(-weeks, weeks + 1)
    slope, pivot = trend
    out = np.zeros((3, n_cfg, n_events))
    for e, (block, where) in enumerate(zip(blocks, chosen, strict=True)):
        rows = centre + labels[:, e][:, None] + lags  # (B, 2K+1)
        near = block[rows]  # (B, 2K+1, H)
        ok = usable[near] & (taken[cfg[:, :, None], near] == 0)
        count = ok.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(ok, values[near], 0.0).sum(axis=1) / count
            lag = (ok * lags[None, :, None]).sum(axis=1) / count  # mean distance in weeks
        if relative:  # the local share per week of a level that grows linearly
            week = block[centre].mean() / WEEK_HOURS + labels[:, e]
            local = slope / np.maximum(1 + slope * (week - pivot), 0.05)
            base = mean / np.maximum(1 + local[:, None] * lag, 0.05)
        else:
            base = mean - slope * lag
        matched = usable[where] & (count > 0)
        out[0, :, e] = np.where(matched, values[where], 0.0).sum(axis=1)
        out[1, :, e] = np.where(matched, base, 0.0).sum(axis=1)
        out[2, :, e] = matched.sum(axis=1)
        if detail is not None:
            sides = ok[0] & matched[0][None, :]
            detail.append(
                {
                    "present": int(usable[where[0]].sum()),
                    "matched": int(matched[0].sum()),
                    "one_sided": int(
                        (matched[0] & ~(sides[:weeks].any(0) & sides[weeks + 1 :].any(0))).sum()
                    ),
                    "baseline_values": int(sides.sum()),
                    "positions": near[0][sides],
                }
            )
    return out[0], out[1], out[2], valid


def _statistic(sy: np.ndarray, sb: np.ndarray, n: np.ndarray, relative: bool) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.abs(np.log(sy / sb)) if relative else np.abs((sy - sb) / n)
    return np.nan_to_num(value, nan=0.0, posinf=np.inf)


def _randomisation_p(
    blocks: list[np.ndarray],
    values: np.ndarray,
    usable: np.ndarray,
    observed: float,
    matched: np.ndarray,
    *,
    weeks: int,
    trend: tuple[float, float],
    relative: bool,
    n_perm: int,
    rng: np.random.Generator,
) -> tuple[float, dict[str, Any]]:
    """Placebo-week randomisation p-value (exact when the combinations are few).

    A week in -K..K is a placebo candidate for an event if it has values for at least
    half as many hours as the event has matched hours. Labellings in which two events'
    blocks share an hour are impossible calendars and are rejected.
    """
    centre = 2 * weeks
    candidates = []
    for block, n_e in zip(blocks, matched, strict=True):
        present = usable[block[centre - weeks : centre + weeks + 1]].sum(axis=1)
        candidates.append(
            np.union1d(np.flatnonzero(present >= MIN_MATCHED_SHARE * n_e) - weeks, [0])
        )
    sizes = np.array([len(c) for c in candidates])
    log10_combinations = float(np.log10(sizes).sum())
    exact = log10_combinations <= math.log10(n_perm)
    width = max(len(values), max(b.shape[0] * b.shape[1] for b in blocks))
    cap = max(1, _CELLS // width)
    tolerance = 1e-9 * max(observed, 1e-12)
    extreme = kept = tried = possible = 0
    every = itertools.product(*candidates)
    padded = np.zeros((len(blocks), sizes.max()), dtype="int64")
    for i, c in enumerate(candidates):
        padded[i, : len(c)] = c
    events = np.arange(len(blocks))
    while True:
        if exact:
            labels = np.array(list(itertools.islice(every, cap)), dtype="int64")
            if labels.size == 0:
                break
        else:  # enough draws for the calendars still wanted, at the acceptance seen so far
            accept = max(possible / tried, 0.05) if tried else 1.0
            size = min(cap, int((n_perm - kept) / accept * 1.1) + 8)
            draws = (rng.random((size, len(blocks))) * sizes).astype("int64")
            labels = padded[events, draws]
        sy, sb, n, _ = _label_sums(
            blocks, labels, values, usable, weeks=weeks, trend=trend, relative=relative
        )
        t = _statistic(sy.sum(1), sb.sum(1), n.sum(1), relative)[
            : n_perm - kept if not exact else None
        ]
        tried += len(labels)
        possible += len(sy)
        kept += len(t)
        extreme += int(np.sum(t >= observed - tolerance))
        if not exact and (kept >= n_perm or tried >= _MAX_TRIES * n_perm):
            break
    p = extreme / kept if exact else (1 + extreme) / (1 + kept)
    info = {
        "test": "placebo_week_randomisation",
        "exact": exact,
        "n_draws": kept,
        "n_draws_rejected_overlap": tried - possible,
        "log10_combinations": log10_combinations,
        "placebo_weeks_per_event": (sizes - 1).tolist(),
        "statistic": observed,
    }
    return float(min(p, 1.0)), info


def _event_interval(
    sy: np.ndarray, sb: np.ndarray, n: np.ndarray, relative: bool
) -> tuple[float, float, float]:
    """95 % interval of the pooled effect with events as clusters; returns (low, high, se).

    The ratio (or difference) of sums is linearised per event; the variance of the
    linearised values with the factor k/(k-1) gives the standard error, and the
    critical value is Student's t with k-1 degrees of freedom. Relative effects get
    their interval on the log scale, so that it stays above -100 %.
    """
    k = len(sy)
    crit = float(stats.t.ppf(0.975, k - 1))
    if relative:
        ratio = sy.sum() / sb.sum()
        linear = (sy - ratio * sb) / sb.mean()
        se = float(np.sqrt(np.sum(linear**2) / (k * (k - 1))))
        if ratio > 0:
            spread = math.exp(crit * se / ratio)
            return ratio / spread - 1, ratio * spread - 1, se
        return ratio - 1 - crit * se, ratio - 1 + crit * se, se
    difference = (sy.sum() - sb.sum()) / n.sum()
    linear = (sy - sb - difference * n) / n.mean()
    se = float(np.sqrt(np.sum(linear**2) / (k * (k - 1))))
    return difference - crit * se, difference + crit * se, se


def _hourly_grid(values: pd.Series) -> tuple[np.ndarray, int]:
    """Values on a gap-free hourly grid (NaN where missing) and the grid's first hour."""
    hour = ((values.index - _EPOCH) // _HOUR).to_numpy(dtype="int64")
    origin = int(hour.min())
    grid = np.full(int(hour.max()) - origin + 1, np.nan)
    grid[hour - origin] = values.to_numpy()
    return grid, origin


def _screen_events(
    blocks: list[np.ndarray],
    windows: np.ndarray,
    values: np.ndarray,
    usable: np.ndarray,
    matching: Mapping[str, Any],
) -> tuple[list[str | None], dict[str, int]]:
    """Why each event cannot be used (``None`` if it can), and hour counts over all events.

    An event is used when at least half of its hours inside the series are matched;
    otherwise it is dropped for ``"gaps"`` (under half have a value) or ``"no_baseline"``.
    """
    detail: list[dict[str, Any]] = []
    real = np.zeros((1, len(blocks)), dtype="int64")
    _label_sums(blocks, real, values, usable, **matching, detail=detail)
    dropped: list[str | None] = []
    for block, d in zip(blocks, detail, strict=True):
        need = MIN_MATCHED_SHARE * block.shape[1]
        if d["matched"] > 0 and d["matched"] >= need:
            dropped.append(None)
        else:
            dropped.append("gaps" if d["present"] < need else "no_baseline")
    inside = sum(b.shape[1] for b in blocks)
    counts = {
        "event_hours": inside,
        "hours_outside_series": int((windows[:, 1] - windows[:, 0]).sum()) - inside,
        "hours_missing": inside - sum(d["present"] for d in detail),
        "hours_no_baseline": sum(d["present"] - d["matched"] for d in detail),
        "n_events_dropped_gaps": dropped.count("gaps"),
        "n_events_dropped_no_baseline": dropped.count("no_baseline"),
    }
    return dropped, counts


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
        DataError: If ``series`` is not a numeric hourly Series with timezone-aware
            timestamps, ``events`` lacks timezone-aware ``start``/``end``, or an option
            is out of range.

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
    options = {
        "metric": metric, "unit": unit, "event_label": event_label, "alpha": alpha,
        "baseline_weeks": baseline_weeks, "n_perm": n_perm, "seed": seed,
        "effect": effect, "after_hours": after_hours, "scope": scope,
    }  # fmt: skip
    _check_inputs(series, events, options)
    scope = dict(scope or {})
    relative = effect == "relative"
    effect_unit = "fraction" if relative else unit
    method = (
        f"matched_baseline(baseline_weeks={baseline_weeks}, after_hours={after_hours}, "
        f"effect={effect}, alpha={alpha}; test=placebo_week_randomisation(n_perm={n_perm}, "
        f"seed={seed}), ci=event_cluster_t)"
    )

    def nothing(reason: str, detail: str, evidence: Mapping[str, Any], **numbers: Any) -> Finding:
        return no_finding(
            analysis=ANALYSIS,
            metric=metric,
            reason=reason,
            detail=detail,
            method=method,
            unit=effect_unit,
            scope=scope,
            evidence=evidence,
            **numbers,
        )

    values = pd.to_numeric(series, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values)).dropna()
    windows, counts = _windows(events, after_hours)
    counts.update(baseline_weeks=baseline_weeks, after_hours=after_hours, alpha=alpha)
    if len(values) == 0:
        return nothing("empty", f"series {metric} has no values", counts)
    duplicated = int(values.index.duplicated().sum())
    if duplicated:
        return nothing(
            "duplicate_timestamps",
            f"series has {duplicated} duplicate timestamps; aggregate to one value per hour first",
            counts,
        )
    grid, origin = _hourly_grid(values)
    first_ts, last_ts = values.index.min(), values.index.max()
    counts.update(series_start=first_ts, series_end=last_ts, series_hours=len(grid))
    counts["series_hours_missing"] = len(grid) - len(values)
    windows = windows - origin
    inside = (windows[:, 1] > 0) & (windows[:, 0] < len(grid))
    counts["n_events_outside"] = int((~inside).sum())
    in_span = int(inside.sum())
    if in_span == 0:
        if len(windows):
            detail = (
                f"none of the {len(windows)} {event_label} falls inside the series "
                f"({first_ts:%Y-%m-%d %H:%M} to {last_ts:%Y-%m-%d %H:%M} UTC)"
            )
        elif len(events):
            detail = f"none of the {len(events)} {event_label} has a start and an end after it"
        else:
            detail = f"no {event_label} to compare: the events table is empty"
        return nothing("no_events", detail, counts)
    if in_span < MIN_EVENTS:
        return nothing(
            "too_few_events",
            f"too few {event_label}: {in_span} inside the series, need ≥ {MIN_EVENTS} "
            "to tell an effect from one event's chance shock",
            counts,
        )
    present = grid[np.isfinite(grid)]
    if np.ptp(present) == 0:
        return nothing(
            "constant", f"{metric} is constant at {format_number(float(present[0]))} {unit}",
            counts,
        )  # fmt: skip
    if relative and present.min() < 0:
        return nothing(
            "negative_values",
            f"{metric} has negative values (down to {format_number(float(present.min()))}), "
            "so a relative change is undefined; use effect='absolute'",
            counts,
        )

    windows = windows[inside]
    blocks = [_positions(int(a), int(b), len(grid), baseline_weeks) for a, b in windows]
    in_event = np.zeros(len(grid) + 1, dtype=bool)
    for block in blocks:
        in_event[block[2 * baseline_weeks]] = True
    usable = np.append(np.isfinite(grid), False)  # trailing sink: positions outside the series
    trend = _trend_per_week(grid, usable[:-1] & ~in_event[:-1], relative)
    cells = np.append(np.nan_to_num(grid), 0.0)
    matching = {"weeks": baseline_weeks, "trend": trend, "relative": relative}
    dropped, screened = _screen_events(blocks, windows, cells, usable, matching)
    counts.update(screened, trend_per_week=trend[0])
    counts["trend_reference"] = _EPOCH + pd.Timedelta(hours=round(trend[1] * WEEK_HOURS + origin))
    used = [i for i, reason in enumerate(dropped) if reason is None]
    if len(used) < MIN_EVENTS:
        reason = "gaps" if dropped.count("gaps") >= dropped.count("no_baseline") else "no_baseline"
        why = {
            "gaps": "the series has no values for over half of their hours",
            "no_baseline": "no matching weekday-hours outside events lie within "
            f"{baseline_weeks} weeks",
        }[reason]
        other = dropped.count("no_baseline") if reason == "gaps" else 0
        return nothing(
            reason,
            f"too few {event_label} can be compared: {len(used)} of {in_span} usable, need ≥ "
            f"{MIN_EVENTS}; {dropped.count(reason)} dropped because {why}"
            + (f", {other} for lack of a baseline" if other else ""),
            counts,
        )
    for i, reason in enumerate(dropped):  # dropped events stay out of every baseline
        if reason is not None:
            usable[blocks[i][2 * baseline_weeks]] = False
    usable[-1] = False
    blocks = [blocks[i] for i in used]
    detail: list[dict[str, Any]] = []
    real = np.zeros((1, len(blocks)), dtype="int64")
    sy, sb, n, _ = _label_sums(blocks, real, cells, usable, **matching, detail=detail)
    sy, sb, n = sy[0], sb[0], n[0]
    mean_during, mean_base = sy.sum() / n.sum(), sb.sum() / n.sum()
    counts.update(
        n_events=len(used),
        hours_matched=int(n.sum()),
        baseline_values=sum(d["baseline_values"] for d in detail),
        baseline_hours_distinct=len(np.unique(np.concatenate([d["positions"] for d in detail]))),
        one_sided_hours=sum(d["one_sided"] for d in detail),
        mean_during=mean_during,
        mean_baseline=mean_base,
        difference=mean_during - mean_base,
        ratio=mean_during / mean_base if mean_base > 0 else None,
    )
    if relative and mean_base <= 0:
        return nothing(
            "zero_baseline",
            f"the matched baseline of {metric} averages {format_number(mean_base)} {unit}, "
            "so a relative change is undefined; use effect='absolute'",
            counts,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        own = sy / sb - 1 if relative else (sy - sb) / n
    counts["per_event"] = [
        {
            "start": _EPOCH + pd.Timedelta(hours=int(windows[i, 0] + origin)),
            "end": _EPOCH + pd.Timedelta(hours=int(windows[i, 1] + origin)),
            "hours": int(n[j]),
            "mean": sy[j] / n[j],
            "baseline": sb[j] / n[j],
            "effect": float(own[j]),
        }
        for j, i in enumerate(used)
    ]
    observed = float(_statistic(sy.sum(), sb.sum(), n.sum(), relative))
    rng = np.random.default_rng(seed)
    p_value, test = _randomisation_p(
        blocks, cells, usable, observed, n, **matching, n_perm=n_perm, rng=rng
    )
    low, high, se = _event_interval(sy, sb, n, relative)
    estimate = mean_during / mean_base - 1 if relative else mean_during - mean_base
    evidence = {**counts, **test, "standard_error": se, "n_perm": n_perm, "seed": seed}
    numbers = {
        "evidence": {**evidence, "effect_kind": effect},
        "effect": estimate,
        "ci_low": min(low, estimate),
        "ci_high": max(high, estimate),
        "p_value": p_value,
    }
    if relative:
        size = f"{abs(estimate) * 100:.1f} %"
        interval = f"{low * 100:+.1f} % to {high * 100:+.1f} %"
    else:
        size = f"{format_number(abs(estimate))} {unit}".rstrip()
        interval = f"{format_number(low)} to {format_number(high)} {unit}".rstrip()
    weeks = f"{baseline_weeks} week{'s' if baseline_weeks > 1 else ''}"
    after = f" and the {after_hours} h after each" if after_hours else ""
    during = f"the {len(used)} {event_label}{after} ({int(n.sum()):,} h)"
    against = f"the same weekday and hour in the surrounding {weeks}"
    if p_value >= alpha:
        sign = "+" if estimate >= 0 else "-"
        return nothing(
            "not_significant",
            f"no significant change in hourly {metric} during {during}: {sign}{size} against "
            f"{against} (95 % CI {interval}; {format_p(p_value)}, not below alpha {alpha})",
            **numbers,
        )
    if low <= 0 <= high:  # the test and the interval must agree before it is reported
        sign = "+" if estimate >= 0 else "-"
        return nothing(
            "inconclusive",
            f"no clear change in hourly {metric} during {during}: {sign}{size} against "
            f"{against}; the test gives {format_p(p_value)} but the interval across events "
            f"({interval}) includes no change, so the effect is not reported",
            **numbers,
        )
    direction = "above" if estimate > 0 else "below"
    return Finding(
        id=finding_id(ANALYSIS, metric, scope),
        kind=ANALYSIS,
        statement=f"during {during}, hourly {metric} ran {size} {direction} {against} "
        f"(95 % CI {interval}; {format_p(p_value)})",
        metric=metric,
        method=method,
        severity="medium",
        scope=scope,
        unit=effect_unit,
        **numbers,
    )
