"""Incident KPIs, computed on the canonical tickets table.

This module holds the whole incident family's ``DEFINITIONS``; the duration KPIs
(MTTA, MTTR and its median and p90) live in :mod:`csi_helpers.kpis.incident_times`
and SLA compliance in :mod:`csi_helpers.kpis.sla`; both are re-exported here.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import numpy as np
import pandas as pd

from csi_helpers.kpis.base import KpiDefinition, KpiResult, define, empty, in_period
from csi_helpers.kpis.incident_times import (
    exclusion_note,
    mean_time_to_acknowledge,
    mean_time_to_resolve,
    median_time_to_resolve,
    p90_time_to_resolve,
    priority_targets,
    ticket_numbers,
    ticket_times,
)
from csi_helpers.kpis.sla import sla_compliance

Resolution = Literal["resolved_at", "closed_at"]


def incident_volume(tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """Number of tickets opened in the period.

    Formula: count of tickets with start ≤ opened_at < end.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True)})
        >>> incident_volume(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                 end=pd.Timestamp("2026-01-31", tz="UTC")).value
        1.0
    """
    opened = ticket_times(tickets, "opened_at")
    if opened.notna().sum() == 0:
        return empty("no ticket has an opened_at")
    n = int(in_period(opened, start, end).sum())
    return KpiResult(value=float(n), n=n)


_REOPEN_COLUMN = {"after_resolution": "reopen_count", "after_closure": "reopen_after_close_count"}
_AGE_BUCKETS = ("<1d", "1-7d", "7-30d", "30d+")


def _open_at_end(
    tickets: pd.DataFrame, end: pd.Timestamp, resolution: Resolution
) -> tuple[pd.Series, pd.Series, int]:
    """Mask of tickets open at ``end``, their age in days there, and how many lack opened_at."""
    opened = ticket_times(tickets, "opened_at")
    done = ticket_times(tickets, resolution)
    if resolution == "resolved_at":  # closed without a resolution (e.g. cancelled): not open
        done = done.fillna(ticket_times(tickets, "closed_at"))
    is_open = (opened < end).fillna(False).astype(bool) & ~(done < end).fillna(False).astype(bool)
    age_days = (end - opened[is_open]).dt.total_seconds() / 86_400
    return is_open, age_days, int(opened.isna().sum())


def backlog(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    resolution: Resolution = "resolved_at",
) -> KpiResult:
    """Tickets still open at the end of the period, with their ageing.

    Formula: count of tickets with opened_at < end and no resolution before end.

    ``details`` holds the backlog's ageing at period end in calendar days (wall-clock
    time, not service time): ``median_age_days`` and ``age_buckets`` counts for
    ``<1d`` [0, 1), ``1-7d`` [1, 7), ``7-30d`` [7, 30) and ``30d+`` [30, ∞) days.

    Args:
        tickets: canonical tickets table.
        start: period start (unused: the backlog is a stock at ``end``).
        end: period end (exclusive, UTC): the moment the backlog is taken.
        resolution: the timestamp that ends a ticket: ``"resolved_at"`` (default;
            a ticket closed without resolved_at counts as ended at closed_at) or
            ``"closed_at"`` (resolved but not closed tickets stay in the backlog).

    Tickets without opened_at cannot be placed and are excluded and counted.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-01", "2026-01-30",
        ...                                                "2026-01-10"], utc=True),
        ...                   "resolved_at": pd.to_datetime([None, None, "2026-01-20"], utc=True)})
        >>> r = backlog(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...             end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (r.value, r.details["age_buckets"])
        (2.0, {'<1d': 0, '1-7d': 1, '7-30d': 0, '30d+': 1})
    """
    if tickets.empty:
        return empty("the tickets table is empty")
    is_open, age, no_opened = _open_at_end(tickets, end, resolution)
    if no_opened == len(tickets):
        return empty("no ticket has an opened_at")
    counts = np.histogram(age.to_numpy(), bins=[0, 1, 7, 30, np.inf])[0] if len(age) else [0] * 4
    details = {
        "median_age_days": float(age.median()) if len(age) else None,
        "age_buckets": dict(zip(_AGE_BUCKETS, (int(c) for c in counts), strict=True)),
    }
    note = exclusion_note(len(tickets), {"without opened_at": no_opened})
    n = int(is_open.sum())
    return KpiResult(value=float(n), n=n, excluded=no_opened, note=note, details=details)


def backlog_age_median(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    resolution: Resolution = "resolved_at",
) -> KpiResult:
    """Median age, in days, of the tickets still open at the end of the period.

    Formula: median of (end − opened_at) in calendar days over tickets with
    opened_at < end and no resolution before end.

    Age is wall-clock time (24×7), so it reads in plain days. Option ``resolution``
    (default ``"resolved_at"``) as in :func:`backlog`.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-01", "2026-01-30",
        ...                                                "2026-01-25"], utc=True),
        ...                   "resolved_at": pd.NaT})
        >>> backlog_age_median(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                    end=pd.Timestamp("2026-02-01", tz="UTC")).value
        7.0
    """
    if tickets.empty:
        return empty("the tickets table is empty")
    _, age, no_opened = _open_at_end(tickets, end, resolution)
    if age.empty:
        return KpiResult(
            value=None, n=0, excluded=no_opened, note="no ticket was open at the end of the period"
        )
    note = exclusion_note(len(tickets), {"without opened_at": no_opened})
    return KpiResult(value=float(age.median()), n=len(age), excluded=no_opened, note=note)


def _share_of_resolved(
    tickets: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    column: str,
    test: Literal["zero", "positive"],
) -> KpiResult:
    """Percentage of tickets resolved in the period whose ``column`` is 0 / above 0."""
    resolved = in_period(ticket_times(tickets, "resolved_at"), start, end)
    counts = ticket_numbers(tickets, column)[resolved]
    known = counts.dropna()
    if known.empty:
        why = "no ticket was resolved in the period" if counts.empty else f"{column} is missing"
        return empty(why)
    hits = (known == 0) if test == "zero" else (known > 0)
    missing = len(counts) - len(known)
    note = exclusion_note(len(counts), {f"without {column}": missing})
    details = {"matching": int(hits.sum()), f"mean_{column}": float(known.mean())}
    return KpiResult(
        value=100.0 * float(hits.mean()), n=len(known), excluded=missing, note=note, details=details
    )


def reopen_rate(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    definition: Literal["after_resolution", "after_closure"] = "after_resolution",
) -> KpiResult:
    """Percentage of tickets resolved in the period that were reopened.

    Formula: 100 × count(reopens > 0) / count(tickets resolved in the period with a count).

    Args:
        tickets: canonical tickets table.
        start: period start (inclusive, UTC).
        end: period end (exclusive, UTC).
        definition: ``"after_resolution"`` (default): reopen_count, returns to an
            active state after resolution. ``"after_closure"``:
            reopen_after_close_count, returns after closure.

    Tickets without the count are excluded and counted.

    Example:
        >>> t = pd.DataFrame({"resolved_at": pd.to_datetime(["2026-01-02"] * 4, utc=True),
        ...                   "reopen_count": [0, 1, 0, 2],
        ...                   "reopen_after_close_count": [0, 1, 0, 0]})
        >>> period = {"start": pd.Timestamp("2026-01-01", tz="UTC"),
        ...           "end": pd.Timestamp("2026-02-01", tz="UTC")}
        >>> reopen_rate(t, **period).value
        50.0
        >>> reopen_rate(t, **period, definition="after_closure").value
        25.0
    """
    column = _REOPEN_COLUMN[definition]
    return _share_of_resolved(tickets, start, end, column, "positive")


def first_assignment_resolution(
    tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Percentage of tickets resolved in the period without ever being reassigned.

    Formula: 100 × count(reassignment_count = 0) / count(tickets resolved in the
    period with a reassignment_count).

    Tickets without a reassignment_count are excluded and counted.

    Example:
        >>> t = pd.DataFrame({"resolved_at": pd.to_datetime(["2026-01-02"] * 4, utc=True),
        ...                   "reassignment_count": [0, 0, 3, None]})
        >>> r = first_assignment_resolution(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                                 end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (round(r.value, 2), r.excluded)
        (66.67, 1)
    """
    return _share_of_resolved(tickets, start, end, "reassignment_count", "zero")


def reassignment_rate(
    tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Percentage of tickets resolved in the period that were reassigned at least once.

    Formula: 100 × count(reassignment_count > 0) / count(tickets resolved in the
    period with a reassignment_count).

    ``details["mean_reassignment_count"]`` is the mean number of reassignments over
    the same tickets. Tickets without a count are excluded and counted.

    Example:
        >>> t = pd.DataFrame({"resolved_at": pd.to_datetime(["2026-01-02"] * 4, utc=True),
        ...                   "reassignment_count": [0, 0, 3, 1]})
        >>> r = reassignment_rate(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                       end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (r.value, r.details["mean_reassignment_count"])
        (50.0, 1.0)
    """
    return _share_of_resolved(tickets, start, end, "reassignment_count", "positive")


_OPENED, _RESOLVED = ("opened_at",), ("resolved_at",)
_RESOLUTION = {"resolution": {"resolved_at": _RESOLVED, "closed_at": ("closed_at",)}}
_UNTIL = {"until": {"acknowledged": ("acknowledged_at",), "assigned": ("assigned_at",)}}
_METHOD = {"method": {"flag": ("made_sla",), "targets": ("priority", "resolved_at")}}
_REOPEN = {
    "definition": {
        "after_resolution": ("reopen_count",),
        "after_closure": ("reopen_after_close_count",),
    }
}
_REASSIGNED = ("resolved_at", "reassignment_count")

_kpi = partial(define, "tickets")

DEFINITIONS: tuple[KpiDefinition, ...] = (
    _kpi(incident_volume, "Incidents opened", "tickets", _OPENED, "lower"),
    _kpi(mean_time_to_acknowledge, "Mean time to acknowledge", "h", _OPENED, "lower", _UNTIL),
    _kpi(mean_time_to_resolve, "Mean time to resolve", "h", _OPENED, "lower", _RESOLUTION),
    _kpi(median_time_to_resolve, "Median time to resolve", "h", _OPENED, "lower", _RESOLUTION),
    _kpi(p90_time_to_resolve, "p90 time to resolve", "h", _OPENED, "lower", _RESOLUTION),
    _kpi(sla_compliance, "SLA compliance", "%", _OPENED, "higher", _METHOD),
    _kpi(backlog, "Open incidents at period end", "tickets", _OPENED, "lower", _RESOLUTION),
    _kpi(backlog_age_median, "Median age of open incidents", "d", _OPENED, "lower", _RESOLUTION),
    _kpi(reopen_rate, "Reopen rate", "%", _RESOLVED, "lower", _REOPEN),
    _kpi(first_assignment_resolution, "Resolved without reassignment", "%", _REASSIGNED, "higher"),
    _kpi(reassignment_rate, "Reassignment rate", "%", _REASSIGNED, "lower"),
)

__all__ = [
    "DEFINITIONS",
    "backlog",
    "backlog_age_median",
    "first_assignment_resolution",
    "incident_volume",
    "mean_time_to_acknowledge",
    "mean_time_to_resolve",
    "median_time_to_resolve",
    "p90_time_to_resolve",
    "priority_targets",
    "reassignment_rate",
    "reopen_rate",
    "sla_compliance",
]
