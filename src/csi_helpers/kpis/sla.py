"""SLA compliance of incidents: by the export's own flag, or by service hours against targets.

Registered in :mod:`csi_helpers.kpis.incidents` (``DEFINITIONS``) with the rest of
the incident family; the service clock and the per-priority targets it measures
against come from :mod:`csi_helpers.kpis.incident_times`.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from csi_helpers.kpis.base import KpiResult, empty, in_period
from csi_helpers.kpis.clock import TWENTY_FOUR_SEVEN, ServiceCalendar
from csi_helpers.kpis.incident_times import (
    exclusion_note,
    priority_targets,
    service_durations,
    ticket_times,
)


def sla_compliance(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
    pauses: pd.DataFrame | None = None,
    method: Literal["flag", "targets"] = "flag",
    targets: dict[str, float] | None = None,
) -> KpiResult:
    """Percentage of tickets opened in the period that met their SLA.

    Formula: 100 × met / (met + breached) over tickets opened in the period.

    Args:
        tickets: canonical tickets table.
        start: period start (inclusive, UTC).
        end: period end (exclusive, UTC).
        calendar: service calendar for ``method="targets"`` (reserved; default 24×7).
        pauses: clock-stopping intervals for ``method="targets"`` (reserved; default none).
        method: ``"flag"`` (default): the export's own ``made_sla``; tickets without
            a flag are excluded and counted. ``"targets"``: service hours from
            opened_at to resolved_at (less pauses) against ``targets``; met when
            ≤ target. A ticket with no resolved_at whose age at period end already
            exceeds its target counts as breached; one still within it is excluded
            and counted, as are tickets whose priority matches no target.
        targets: hours per priority for ``method="targets"`` (default None; required
            then). Keys match priority values exactly, by rank (``"P1"``, ``"1"``,
            ``"1 - Critical"``) or by label; see :func:`priority_targets`.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-02"] * 4, utc=True),
        ...                   "made_sla": [True, True, False, None]})
        >>> r = sla_compliance(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                    end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (round(r.value, 2), r.excluded)
        (66.67, 1)
    """
    scoped = tickets.loc[in_period(ticket_times(tickets, "opened_at"), start, end)]
    if method == "flag":
        return _sla_by_flag(scoped)
    if not targets:
        raise ValueError(
            "sla_compliance with method 'targets' needs option targets: "
            "hours per priority, e.g. {'P1': 4, 'P2': 8}"
        )
    if scoped.empty:
        return empty("no ticket was opened in the period")
    return _sla_by_targets(scoped, targets, end=end, calendar=calendar, pauses=pauses)


def _sla_by_flag(scoped: pd.DataFrame) -> KpiResult:
    """SLA compliance of the tickets in scope by the export's own ``made_sla`` flag."""
    flags = (
        scoped["made_sla"] if "made_sla" in scoped.columns else pd.Series(pd.NA, index=scoped.index)
    ).astype("boolean")
    flagged = flags.dropna()
    if flagged.empty:
        return empty("no ticket with an SLA flag (made_sla) was opened in the period")
    missing = {"without an SLA flag": len(flags) - len(flagged)}
    value = 100.0 * float(flagged.astype(bool).mean())
    note = exclusion_note(len(flags), missing)
    details = {"met": int(flagged.sum())}
    return KpiResult(value, len(flagged), len(flags) - len(flagged), note, details)


def breached_by_targets(
    tickets: pd.DataFrame,
    targets: dict[str, float],
    *,
    end: pd.Timestamp,
    calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
    pauses: pd.DataFrame | None = None,
) -> pd.Series:
    """Per ticket, whether it breached its SLA target, as ``method="targets"`` counts it:
    True when resolved late or still open past its target at ``end``, False when resolved
    within it, missing when it has no target for its priority, is still open within it, or
    was resolved before it was opened. For the breach analysis of an export without an SLA
    flag.

    Example:
        >>> t = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-01-02 08:00"] * 3, utc=True),
        ...     "resolved_at": pd.to_datetime(["2026-01-02 10:00", "2026-01-02 20:00", None],
        ...                                   utc=True),
        ...     "priority": ["P1", "P1", "P3"]})
        >>> breached_by_targets(t, {"P1": 4, "P3": 24},
        ...                     end=pd.Timestamp("2026-01-03", tz="UTC")).tolist()
        [False, True, <NA>]
    """
    outcome = _against_targets(tickets, targets, end=end, calendar=calendar, pauses=pauses)
    breached = pd.Series(pd.NA, index=tickets.index, dtype="boolean")
    breached[outcome["met"]] = False
    breached[outcome["breached"]] = True
    return breached


def _against_targets(
    scoped: pd.DataFrame,
    targets: dict[str, float],
    *,
    end: pd.Timestamp,
    calendar: ServiceCalendar,
    pauses: pd.DataFrame | None,
) -> dict[str, pd.Series]:
    """Each ticket's service hours against its target, as masks: met, breached (resolved
    late, or open and already past target), waiting (open within target), backwards
    (resolved before opened), known (has a target), open_now."""
    target = priority_targets(scoped.get("priority", pd.Series(index=scoped.index)), targets)
    opened = ticket_times(scoped, "opened_at")
    resolved = ticket_times(scoped, "resolved_at")
    open_now = resolved.isna()
    until = resolved.where(~open_now, end)
    hours, _ = service_durations(scoped, opened, until, calendar=calendar, pauses=pauses)
    known = target.notna()
    return {
        "known": known,
        "open_now": open_now,
        "met": known & ~open_now & (hours <= target),
        "breached": known & (hours > target),
        "waiting": known & open_now & (hours <= target),
        "backwards": known & hours.isna(),
    }


def _sla_by_targets(
    scoped: pd.DataFrame,
    targets: dict[str, float],
    *,
    end: pd.Timestamp,
    calendar: ServiceCalendar,
    pauses: pd.DataFrame | None,
) -> KpiResult:
    """SLA compliance of the tickets in scope (at least one): service hours against targets.

    Open tickets are aged at ``end``: breached once past their target, else left out.
    """
    o = _against_targets(scoped, targets, end=end, calendar=calendar, pauses=pauses)
    met, breached = o["met"], o["breached"]
    counted = int(met.sum() + breached.sum())
    parts = {
        "with no target for their priority": int((~o["known"]).sum()),
        "still open within target": int(o["waiting"].sum()),
        "resolved before they were opened": int(o["backwards"].sum()),
    }
    details = {
        "met": int(met.sum()),
        "breached": int(breached.sum()),
        "breached_while_open": int((breached & o["open_now"]).sum()),
    }
    value = 100.0 * float(met.sum()) / counted if counted else None
    note = exclusion_note(len(scoped), parts) or ("" if counted else "nothing to count")
    return KpiResult(value, counted, sum(parts.values()), note, details)
