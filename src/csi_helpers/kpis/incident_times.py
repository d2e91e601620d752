"""Incident duration KPIs: time to acknowledge and time to resolve, on the service clock.

Also the shared pieces of the incident family: typed column access, service-clock
durations with pauses, and SLA resolution targets per priority.

Durations are hours of service time on the KPI's ``calendar`` (24×7 unless the
params give one), minus the clock-stopping ``pauses`` when an event log supplies
them. Tickets whose end lies before their start are data errors: they are left
out and counted, as are tickets in scope that have not ended yet. Registered in
:mod:`csi_helpers.kpis.incidents` (``DEFINITIONS``) with the rest of the family.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from csi_helpers.kpis.base import KpiResult, in_period, named_after
from csi_helpers.kpis.clock import TWENTY_FOUR_SEVEN, ServiceCalendar, paused_hours

Scope = Literal["resolved_in_period", "opened_in_period"]


def ticket_times(tickets: pd.DataFrame, column: str) -> pd.Series:
    """A timestamp column as UTC; all NaT when the table lacks it (or it is all missing)."""
    if column not in tickets.columns:
        return pd.Series(pd.NaT, index=tickets.index, dtype="datetime64[us, UTC]", name=column)
    return pd.to_datetime(tickets[column], utc=True)


def ticket_numbers(tickets: pd.DataFrame, column: str) -> pd.Series:
    """A count column as floats (NaN when missing); all NaN when the table lacks it."""
    if column not in tickets.columns:
        return pd.Series(np.nan, index=tickets.index, name=column)
    return pd.to_numeric(tickets[column], errors="coerce").astype("float64")


def service_durations(
    tickets: pd.DataFrame,
    since: pd.Series,
    until: pd.Series,
    *,
    calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
    pauses: pd.DataFrame | None = None,
) -> tuple[pd.Series, float]:
    """Hours of service time from ``since`` to ``until`` per ticket, less paused time.

    Pauses are matched on ``ticket_id`` and clipped to each ticket's own span, so a
    duration never goes below zero. NaN where an instant is missing or ``until <
    since``. Returns the hours and the total paused hours subtracted.

    Example:
        >>> t = pd.DataFrame({"ticket_id": ["A"]})
        >>> s = pd.Series(pd.to_datetime(["2026-01-05 09:00"], utc=True))
        >>> u = pd.Series(pd.to_datetime(["2026-01-05 15:00"], utc=True))
        >>> p = pd.DataFrame({"ticket_id": ["A"],
        ...     "start": pd.to_datetime(["2026-01-05 10:00"], utc=True),
        ...     "end": pd.to_datetime(["2026-01-05 12:00"], utc=True)})
        >>> hours, paused = service_durations(t, s, u, pauses=p)
        >>> (hours.tolist(), paused)
        ([4.0], 2.0)
    """
    hours = calendar.elapsed_hours(since, until)
    if pauses is None or pauses.empty or "ticket_id" not in tickets.columns:
        return hours, 0.0
    ids = tickets["ticket_id"]
    paused = paused_hours(
        pauses,
        calendar,
        until=pd.Series(until.array, index=ids),
        since=pd.Series(since.array, index=ids),
    )
    per_row = pd.Series(paused.reindex(ids).to_numpy(), index=hours.index).fillna(0.0)
    per_row = per_row.where(hours.notna(), 0.0)
    return (hours - per_row).clip(lower=0.0), float(per_row.sum())


def exclusion_note(total: int, parts: Mapping[str, int]) -> str:
    """'3 of 120 tickets in scope excluded: 2 unresolved, 1 …' ('' when nothing is left out).

    Example:
        >>> exclusion_note(120, {"unresolved": 2, "without opened_at": 0, "reversed": 1})
        '3 of 120 tickets in scope excluded: 2 unresolved, 1 reversed'
        >>> exclusion_note(24918, {"unresolved": 1556})
        '1,556 of 24,918 tickets in scope excluded: 1,556 unresolved'
    """
    excluded = sum(parts.values())
    listed = ", ".join(f"{k:,} {label}" for label, k in parts.items() if k)
    return f"{excluded:,} of {total:,} tickets in scope excluded: {listed}" if excluded else ""


@dataclass(frozen=True)
class Durations:
    """Service-clock durations of the tickets in a KPI's scope, and what was left out."""

    hours: pd.Series  # one value per measured ticket
    exclusions: dict[str, int]  # reason -> tickets in scope left out
    paused: float  # paused hours subtracted in total
    pauses_ignored: bool  # pauses were given but the tickets carry no ticket_id

    def result(self, value: float | None) -> KpiResult:
        """The KpiResult for ``value``, with the exclusions in note and details."""
        excluded = sum(self.exclusions.values())
        note = exclusion_note(len(self.hours) + excluded, self.exclusions)
        if self.pauses_ignored:
            note = "; ".join(filter(None, [note, "pauses ignored: tickets carry no ticket_id"]))
        if value is None:
            note = f"nothing to measure ({note or 'no ticket in scope'})"
        details = {**self.exclusions, "paused_hours": round(self.paused, 6)}
        return KpiResult(value, len(self.hours), excluded, note, details)


def measure(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    until: str,
    scope: Literal["ended_in_period", "opened_in_period"],
    not_ended: str,
    calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
    pauses: pd.DataFrame | None = None,
) -> Durations:
    """Durations from opened_at to column ``until`` for the tickets in scope.

    Scope ``ended_in_period``: tickets whose ``until`` lies in [start, end); tickets
    opened in the period with no ``until`` at all are left out as ``not_ended``.
    Scope ``opened_in_period``: tickets opened in [start, end), whatever their end
    (one after the period counts); those with no ``until`` are left out as ``not_ended``.
    Tickets that end before they open, or lack opened_at, are left out too.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-05 09:00"] * 3, utc=True),
        ...     "resolved_at": pd.to_datetime(["2026-01-05 11:00", None, "2026-01-05 08:00"],
        ...                                   utc=True)})
        >>> d = measure(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...             end=pd.Timestamp("2026-02-01", tz="UTC"), until="resolved_at",
        ...             scope="opened_in_period", not_ended="unresolved")
        >>> (d.hours.tolist(), d.result(2.0).note)
        ([2.0], '2 of 3 tickets in scope excluded: 1 unresolved, 1 ended before they were opened')
    """
    opened, ended = ticket_times(tickets, "opened_at"), ticket_times(tickets, until)
    opened_in = in_period(opened, start, end)
    pending = int((opened_in & ended.isna()).sum())
    measured = in_period(ended, start, end) if scope == "ended_in_period" else opened_in
    measured = measured & ended.notna()
    chosen = tickets.loc[measured]
    hours, paused = service_durations(
        chosen, opened[measured], ended[measured], calendar=calendar, pauses=pauses
    )
    no_start = int(opened[measured].isna().sum())
    exclusions = {
        not_ended: pending,
        "ended before they were opened": int(hours.isna().sum()) - no_start,
        "without opened_at": no_start,
    }
    ignored = pauses is not None and not pauses.empty and "ticket_id" not in tickets.columns
    return Durations(hours.dropna(), exclusions, paused, ignored)


def _on_resolution_times(statistic: Callable[[np.ndarray], float]) -> Callable[..., KpiResult]:
    """A time-to-resolve KPI: the decorated statistic of resolution times, with its name and doc.

    The KPI takes the canonical tickets table, the period [start, end), the reserved
    ``calendar`` and ``pauses``, and the options ``resolution`` and ``scope``
    (see :func:`mean_time_to_resolve`). ``statistic`` gets the hours of the tickets
    in scope, at least one.
    """

    def kpi(
        tickets: pd.DataFrame,
        *,
        start: pd.Timestamp,
        end: pd.Timestamp,
        calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
        pauses: pd.DataFrame | None = None,
        resolution: Literal["resolved_at", "closed_at"] = "resolved_at",
        scope: Scope = "resolved_in_period",
    ) -> KpiResult:
        d = measure(
            tickets,
            start=start,
            end=end,
            until=resolution,
            scope="ended_in_period" if scope == "resolved_in_period" else "opened_in_period",
            not_ended="unresolved",
            calendar=calendar,
            pauses=pauses,
        )
        return d.result(float(statistic(d.hours.to_numpy())) if len(d.hours) else None)

    return named_after(kpi, statistic)


@_on_resolution_times
def mean_time_to_resolve(hours: np.ndarray) -> float:
    """Mean hours of service time from opening to resolution (MTTR).

    Formula: mean over tickets in scope of service hours on the calendar from
    opened_at to the resolution timestamp, minus clock-stopped (paused) hours.

    Args:
        tickets: canonical tickets table.
        start: period start (inclusive, UTC).
        end: period end (exclusive, UTC).
        calendar: service calendar (reserved; default 24×7).
        pauses: clock-stopping intervals ``ticket_id, start, end`` (reserved; default none).
        resolution: which timestamp marks resolution: ``"resolved_at"`` (default) or
            ``"closed_at"``.
        scope: ``"resolved_in_period"`` (default): tickets resolved in [start, end);
            tickets opened in the period and never resolved are excluded and counted.
            ``"opened_in_period"``: tickets opened in [start, end), including those
            resolved after it; the unresolved ones are excluded and counted.

    Tickets resolved before they were opened are excluded and counted; the note
    says how many of how many.

    Example:
        >>> t = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:00"], utc=True),
        ...     "resolved_at": pd.to_datetime(["2026-01-01 02:00", None], utc=True)})
        >>> r = mean_time_to_resolve(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                          end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (r.value, r.excluded, r.note)
        (2.0, 1, '1 of 2 tickets in scope excluded: 1 unresolved')
    """
    return float(np.mean(hours))


@_on_resolution_times
def median_time_to_resolve(hours: np.ndarray) -> float:
    """Median hours of service time from opening to resolution.

    Formula: median over tickets in scope of service hours on the calendar from
    opened_at to the resolution timestamp, minus paused hours.

    Options, defaults and exclusions as :func:`mean_time_to_resolve`:
    ``resolution="resolved_at"``, ``scope="resolved_in_period"``.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-01"] * 3, utc=True),
        ...     "resolved_at": pd.to_datetime(["2026-01-01 01:00", "2026-01-01 03:00",
        ...                                    "2026-01-02 00:00"], utc=True)})
        >>> median_time_to_resolve(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                        end=pd.Timestamp("2026-02-01", tz="UTC")).value
        3.0
    """
    return float(np.median(hours))


@_on_resolution_times
def p90_time_to_resolve(hours: np.ndarray) -> float:
    """90th percentile of service hours from opening to resolution.

    Formula: 90th percentile (linear interpolation, as numpy.percentile) over tickets
    in scope of service hours on the calendar from opened_at to resolution, minus
    paused hours.

    Options, defaults and exclusions as :func:`mean_time_to_resolve`:
    ``resolution="resolved_at"``, ``scope="resolved_in_period"``.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-01"] * 11, utc=True),
        ...     "resolved_at": pd.to_datetime("2026-01-01", utc=True)
        ...                    + pd.to_timedelta(range(1, 12), unit="h")})
        >>> p90_time_to_resolve(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                     end=pd.Timestamp("2026-02-01", tz="UTC")).value
        10.0
    """
    return float(np.percentile(hours, 90))


def mean_time_to_acknowledge(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
    pauses: pd.DataFrame | None = None,
    until: Literal["acknowledged", "assigned"] = "acknowledged",
) -> KpiResult:
    """Mean hours of service time from opening to first response (MTTA).

    Formula: mean over tickets opened in the period of service hours on the
    calendar from opened_at to acknowledged_at (or assigned_at), minus paused hours.

    Args:
        tickets: canonical tickets table.
        start: period start (inclusive, UTC).
        end: period end (exclusive, UTC).
        calendar: service calendar (reserved; default 24×7).
        pauses: clock-stopping intervals (reserved; default none).
        until: what ends the wait: ``"acknowledged"`` (default; first
            acknowledgement, acknowledged_at) or ``"assigned"`` (first assignment,
            assigned_at).

    Tickets opened in the period that were never acknowledged (assigned), and
    tickets acknowledged before they were opened, are excluded and counted.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-05 09:00"] * 2, utc=True),
        ...     "acknowledged_at": pd.to_datetime(["2026-01-05 09:30", None], utc=True),
        ...     "assigned_at": pd.to_datetime(["2026-01-05 10:00", "2026-01-05 11:00"], utc=True)})
        >>> period = {"start": pd.Timestamp("2026-01-01", tz="UTC"),
        ...           "end": pd.Timestamp("2026-02-01", tz="UTC")}
        >>> r = mean_time_to_acknowledge(t, **period)
        >>> (r.value, r.excluded)
        (0.5, 1)
        >>> mean_time_to_acknowledge(t, **period, until="assigned").value
        1.5
    """
    d = measure(
        tickets,
        start=start,
        end=end,
        until=f"{until}_at",
        scope="opened_in_period",
        not_ended=f"never {until}",
        calendar=calendar,
        pauses=pauses,
    )
    return d.result(float(d.hours.mean()) if len(d.hours) else None)


_RANK = re.compile(r"^\s*p?\s*(\d+)(?!\d)\s*[-–:.)]?\s*(.*)$", re.IGNORECASE)


def _rank_and_label(text: str) -> tuple[str | None, str]:
    found = _RANK.match(text)
    if not found:
        return None, text.strip().casefold()
    return str(int(found.group(1))), found.group(2).strip().casefold()


def priority_targets(priority: pd.Series, targets: Mapping[str, float]) -> pd.Series:
    """Target hours for each ticket's priority; NaN where no key matches.

    A priority value matches a key, in this order:

    1. exactly, ignoring case and surrounding spaces (``"2 - High"`` ↔ ``"2 - high"``);
    2. by rank, the leading number with an optional ``P`` (``"P1"`` ↔ ``"1"`` ↔
       ``"1 - Critical"`` ↔ ``"p1 critical"``);
    3. by the label after the rank (``"Critical"`` ↔ ``"1 - Critical"``).

    Raises:
        ValueError: a target is negative, or two keys of one rank or label disagree.

    Example:
        >>> p = pd.Series(["1 - Critical", "P2", "High", "5 - Planning", None])
        >>> priority_targets(p, {"P1": 4, "2": 8, "3 - High": 24}).tolist()
        [4.0, 8.0, 24.0, nan, nan]
    """
    by_text: dict[str, float] = {}
    by_rank: dict[str, float] = {}
    by_label: dict[str, float] = {}
    for key, hours in targets.items():
        hours = float(hours)
        if not hours >= 0:
            raise ValueError(f"SLA target for priority {key!r} must be hours ≥ 0, got {hours}")
        rank, label = _rank_and_label(str(key))
        for table, k in (
            (by_text, str(key).strip().casefold()),
            (by_rank, rank),
            (by_label, label),
        ):
            if not k:
                continue
            if k in table and table[k] != hours:
                raise ValueError(
                    f"SLA targets disagree for priority {k!r}: "
                    f"{table[k]} h and {hours} h; give each priority once"
                )
            table[k] = hours

    def lookup(value: object) -> float:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return np.nan
        text = str(value)
        rank, label = _rank_and_label(text)
        for table, k in ((by_text, text.strip().casefold()), (by_rank, rank), (by_label, label)):
            if k and k in table:
                return table[k]
        return np.nan

    values = priority.astype("object")
    mapping = {v: lookup(v) for v in pd.unique(values.dropna())}
    return values.map(mapping).astype("float64")
