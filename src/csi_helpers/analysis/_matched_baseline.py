"""The matched baseline of :func:`~csi_helpers.analysis.impact.event_impact`.

Event windows as whole hours on the gap-free hourly grid of the series, each event
hour's baseline for any labelling of the events (the real calendar or a placebo
one), and which events have enough matched hours to be used. The test and the
interval built on these sums are in :mod:`csi_helpers.analysis._placebo`.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MIN_MATCHED_SHARE = 0.5  # share of an event's in-series hours that must be matched to use it
WEEK_HOURS = 168
HOUR = pd.Timedelta(hours=1)
EPOCH = pd.Timestamp(0, tz="UTC")


def event_windows(events: pd.DataFrame, after_hours: int) -> tuple[np.ndarray, dict[str, int]]:
    """Event windows as whole hours ``[first, stop)`` since the epoch, overlaps merged.

    An hour belongs to an event when it overlaps ``[start, end + after_hours)``; an
    instantaneous event covers the hour it falls in.
    """
    start = events["start"].dt.tz_convert("UTC")
    end = events["end"].dt.tz_convert("UTC")
    valid = (start.notna() & end.notna() & (end >= start)).to_numpy()
    first = ((start[valid] - EPOCH) // HOUR).to_numpy(dtype="int64")
    reach = end[valid] - EPOCH + pd.Timedelta(hours=after_hours)
    stop = (-((-reach) // HOUR)).to_numpy(dtype="int64")
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


def block_overlaps(
    blocks: list[np.ndarray], *, weeks: int, sink: int
) -> dict[tuple[int, int], np.ndarray]:
    """Which hours of each event's shifted blocks another event's labelled block covers.

    Args:
        blocks: Per event, the positions from :func:`_positions`.
        weeks: K, the baseline half-width in weeks.
        sink: The position that stands for hours outside the series (never covered).

    Returns:
        For each pair ``(e, f)`` (``f`` may be ``e``) whose blocks share an hour, a
        boolean array ``cover`` of shape (2K+1, 4K+1, H_e): ``cover[l + K, r, h]`` says
        that hour ``h`` of row ``r`` of event ``e`` is an hour of event ``f`` labelled
        ``l``. Pairs that share no hour cannot interact in any labelling and are absent.
    """
    centre, width = 2 * weeks, 2 * weeks + 1
    rows = [block[centre - weeks : centre + weeks + 1] for block in blocks]  # labelled blocks
    owner = np.concatenate([np.full(r.size, f) for f, r in enumerate(rows)]).astype("int64")
    label = np.concatenate([np.repeat(np.arange(width), r.shape[1]) for r in rows])
    where = np.concatenate([r.ravel() for r in rows]).astype("int64")
    keep = where != sink
    order = np.argsort(where[keep], kind="stable")
    owner, label, where = owner[keep][order], label[keep][order], where[keep][order]
    overlaps = {}
    for e, block in enumerate(blocks):
        low = np.searchsorted(where, block.ravel(), side="left")
        many = np.searchsorted(where, block.ravel(), side="right") - low
        cell = np.repeat(np.arange(block.size), many)
        hit = np.arange(many.sum()) - np.repeat(np.cumsum(many) - many, many) + np.repeat(low, many)
        for f in np.unique(owner[hit]).tolist():
            mine = owner[hit] == f
            cover = np.zeros((width, block.size), dtype=bool)
            cover[label[hit][mine], cell[mine]] = True
            overlaps[e, f] = cover.reshape(width, *block.shape)
    return overlaps


def _valid(
    labels: np.ndarray, overlaps: Mapping[tuple[int, int], np.ndarray], weeks: int
) -> np.ndarray:
    """Per labelling: no two labelled blocks share an hour (a possible calendar)."""
    centre, valid = 2 * weeks, np.ones(len(labels), dtype=bool)
    for (e, f), cover in overlaps.items():
        if e < f:
            clash = cover[:, centre - weeks : centre + weeks + 1].any(axis=2)  # (l_f, l_e)
            valid &= ~clash[labels[:, f] + weeks, labels[:, e] + weeks]
    return valid


def _event_sums(
    e: int,
    keys: np.ndarray,
    others: list[int],
    context: Mapping[str, Any],
    detail: list[dict[str, Any]] | None,
) -> np.ndarray:
    """``sy``, ``sb``, ``n`` (shape (3, U)) of event ``e`` for each distinct labelling
    ``keys`` of the event (column 0) and of the ``others`` that can touch its hours."""
    weeks, values, usable = context["weeks"], context["values"], context["usable"]
    block, overlaps = context["blocks"][e], context["overlaps"]
    centre, lags = 2 * weeks, np.arange(-weeks, weeks + 1)
    rows = centre + keys[:, :1] + lags  # (U, 2K+1)
    near = block[rows]  # (U, 2K+1, H)
    taken = np.zeros(near.shape, dtype=bool)
    for column, f in enumerate([e, *others]):
        if (e, f) in overlaps:
            taken |= overlaps[e, f][keys[:, column : column + 1] + weeks, rows]
    where = near[:, weeks]
    ok = usable[near] & ~taken
    count = ok.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(ok, values[near], 0.0).sum(axis=1) / count
        lag = (ok * lags[None, :, None]).sum(axis=1) / count  # mean distance in weeks
    slope, pivot = context["trend"]
    if context["relative"]:  # the local share per week of a level that grows linearly
        week = block[centre].mean() / WEEK_HOURS + keys[:, 0]
        local = slope / np.maximum(1 + slope * (week - pivot), 0.05)
        base = mean / np.maximum(1 + local[:, None] * lag, 0.05)
    else:
        base = mean - slope * lag
    matched = usable[where] & (count > 0)
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
    return np.stack(
        [
            np.where(matched, values[where], 0.0).sum(axis=1),
            np.where(matched, base, 0.0).sum(axis=1),
            matched.sum(axis=1),
        ]
    )


def label_sums(
    blocks: list[np.ndarray],
    labels: np.ndarray,
    values: np.ndarray,
    usable: np.ndarray,
    *,
    weeks: int,
    trend: tuple[float, float],
    relative: bool,
    overlaps: Mapping[tuple[int, int], np.ndarray] | None = None,
    detail: list[dict[str, Any]] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pooled sums for each labelling of the events (one row of ``labels`` each).

    An event's sums depend only on its own label and on the labels of the events whose
    blocks share an hour with its block (:func:`block_overlaps`), so each event is
    computed once per distinct combination of those labels, not once per labelling.

    Args:
        blocks: Per event, the positions from :func:`_positions`.
        labels: Shape (B, E): the week, in -K..K, that plays each event; 0 is the real one.
        values: The hourly grid plus one trailing sink cell (positions outside the series).
        usable: Same shape: value present and not inside an event left out of the test.
        weeks: K, the baseline half-width in weeks.
        trend: Slope per week and its pivot from :func:`_trend_per_week`.
        relative: Trend as a share of the level (else in the unit).
        overlaps: :func:`block_overlaps` of ``blocks`` if already computed.
        detail: If a list, per-event masks of the first labelling are appended to it.

    Returns:
        ``sy``, ``sb``, ``n`` of shape (V, E) for the V valid labellings: sums over
        matched hours of the labelled values and of their baselines, and the matched
        hours; ``valid`` (B,): no two labelled blocks share an hour. A baseline hour
        must be usable and not labelled by any event in that labelling, so a week that
        plays an event never serves as another event's baseline at the same time, as
        with the real calendar.
    """
    if overlaps is None:
        overlaps = block_overlaps(blocks, weeks=weeks, sink=len(values) - 1)
    valid = _valid(labels, overlaps, weeks)
    labels = labels[valid]
    context = {"blocks": blocks, "overlaps": overlaps, "weeks": weeks, "trend": trend}
    context |= {"values": values, "usable": usable, "relative": relative}
    out = np.zeros((3, len(labels), len(blocks)))
    for e in range(len(blocks) if len(labels) else 0):
        others = [f for f in range(len(blocks)) if f != e and (e, f) in overlaps]
        keys, back = np.unique(labels[:, [e, *others]], axis=0, return_inverse=True)
        out[:, :, e] = _event_sums(e, keys, others, context, detail)[:, back.reshape(-1)]
    return out[0], out[1], out[2], valid


def hourly_grid(values: pd.Series) -> tuple[np.ndarray, int]:
    """Values on a gap-free hourly grid (NaN where missing) and the grid's first hour."""
    hour = ((values.index - EPOCH) // HOUR).to_numpy(dtype="int64")
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
    label_sums(blocks, real, values, usable, **matching, detail=detail)
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


@dataclass
class Matching:
    """The events' hours on the grid, their matched baselines, and which events are used.

    Attributes:
        blocks: Per event, the grid positions of its hours shifted by -2K..2K weeks.
        cells: The grid values (0 where missing) and one trailing sink cell.
        usable: Per cell: a value present and not inside an event (nor an event left out).
        options: ``weeks``, ``trend`` and ``relative`` for :func:`label_sums`.
        dropped: Per event, why it cannot be used (None if it can).
        counts: Hour counts over all events (see :func:`_screen_events`).
    """

    blocks: list[np.ndarray]
    cells: np.ndarray
    usable: np.ndarray
    options: dict[str, Any]
    dropped: list[str | None]
    counts: dict[str, Any]

    @property
    def used(self) -> list[int]:
        return [i for i, reason in enumerate(self.dropped) if reason is None]

    def keep_used(self) -> None:
        """Leave the dropped events out of every baseline, and out of the blocks."""
        weeks = self.options["weeks"]
        for i, reason in enumerate(self.dropped):
            if reason is not None:
                self.usable[self.blocks[i][2 * weeks]] = False
        self.usable[-1] = False
        self.blocks = [self.blocks[i] for i in self.used]


def match_events(grid: np.ndarray, windows: np.ndarray, *, weeks: int, relative: bool) -> Matching:
    """Match every event hour with the same weekday and hour in the ``weeks`` around it."""
    blocks = [_positions(int(a), int(b), len(grid), weeks) for a, b in windows]
    in_event = np.zeros(len(grid) + 1, dtype=bool)
    for block in blocks:
        in_event[block[2 * weeks]] = True
    usable = np.append(np.isfinite(grid), False)  # trailing sink: positions outside the series
    trend = _trend_per_week(grid, usable[:-1] & ~in_event[:-1], relative)
    cells = np.append(np.nan_to_num(grid), 0.0)
    options = {"weeks": weeks, "trend": trend, "relative": relative}
    dropped, counts = _screen_events(blocks, windows, cells, usable, options)
    return Matching(blocks, cells, usable, options, dropped, counts)


def pooled(matching: Matching) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Per used event, the sums of its matched values and baselines and its matched hours;
    and the pooled means and counts of the real calendar.
    """
    detail: list[dict[str, Any]] = []
    real = np.zeros((1, len(matching.blocks)), dtype="int64")
    sy, sb, n, _ = label_sums(
        matching.blocks, real, matching.cells, matching.usable, **matching.options, detail=detail
    )
    sy, sb, n = sy[0], sb[0], n[0]
    mean_during, mean_base = sy.sum() / n.sum(), sb.sum() / n.sum()
    counts = {
        "hours_matched": int(n.sum()),
        "baseline_values": sum(d["baseline_values"] for d in detail),
        "baseline_hours_distinct": len(np.unique(np.concatenate([d["positions"] for d in detail]))),
        "one_sided_hours": sum(d["one_sided"] for d in detail),
        "mean_during": mean_during,
        "mean_baseline": mean_base,
        "difference": mean_during - mean_base,
        "ratio": mean_during / mean_base if mean_base > 0 else None,
    }
    return sy, sb, n, counts


def per_event(
    sy: np.ndarray, sb: np.ndarray, n: np.ndarray, windows: np.ndarray, *, relative: bool
) -> list[dict[str, Any]]:
    """Each used event's window (``windows``: whole hours since the epoch), means and effect."""
    with np.errstate(divide="ignore", invalid="ignore"):
        own = sy / sb - 1 if relative else (sy - sb) / n
    return [
        {
            "start": EPOCH + pd.Timedelta(hours=int(windows[j, 0])),
            "end": EPOCH + pd.Timedelta(hours=int(windows[j, 1])),
            "hours": int(n[j]),
            "mean": sy[j] / n[j],
            "baseline": sb[j] / n[j],
            "effect": float(own[j]),
        }
        for j in range(len(sy))
    ]
