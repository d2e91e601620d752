"""Incident KPIs, computed on the canonical tickets table."""

from __future__ import annotations

import pandas as pd

from csi_helpers.kpis.base import KpiResult, empty, in_period


def incident_volume(tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """Number of tickets opened in the period.

    Formula: count of tickets with start ≤ opened_at < end.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True)})
        >>> incident_volume(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                 end=pd.Timestamp("2026-01-31", tz="UTC")).value
        1.0
    """
    n = int(in_period(tickets["opened_at"], start, end).sum())
    return KpiResult(value=float(n), n=n)


def mean_time_to_resolve(
    tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Mean hours from opening to resolution (24×7 clock) of tickets resolved in the period.

    Formula: mean(resolved_at − opened_at) in hours over tickets with
    start ≤ resolved_at < end. Tickets opened in the period but not yet
    resolved are excluded and counted.

    Example:
        >>> t = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-01-01 00:00", "2026-01-01 00:00"], utc=True),
        ...     "resolved_at": pd.to_datetime(["2026-01-01 02:00", None], utc=True)})
        >>> r = mean_time_to_resolve(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                          end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (r.value, r.excluded)
        (2.0, 1)
    """
    resolved = tickets[in_period(tickets["resolved_at"], start, end)]
    opened = in_period(tickets["opened_at"], start, end)
    unresolved = int((opened & tickets["resolved_at"].isna()).sum())
    if resolved.empty:
        return empty("no ticket was resolved in the period")
    hours = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    note = f"{unresolved} ticket(s) opened in the period are unresolved; MTTR excludes them"
    return KpiResult(
        value=float(hours.mean()),
        n=len(resolved),
        excluded=unresolved,
        note=note if unresolved else "",
    )


def sla_compliance(tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """Percentage of tickets opened in the period whose SLA flag is true.

    Formula: 100 × count(made_sla) / count(tickets opened in the period with a flag).
    Uses the export's own SLA flag; tickets without a flag are excluded and counted.

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-02"] * 4, utc=True),
        ...                   "made_sla": [True, True, False, None]})
        >>> r = sla_compliance(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                    end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (round(r.value, 2), r.excluded)
        (66.67, 1)
    """
    scoped = tickets.loc[in_period(tickets["opened_at"], start, end), "made_sla"]
    flagged = scoped.dropna()
    if flagged.empty:
        return empty("no ticket with an SLA flag was opened in the period")
    missing = len(scoped) - len(flagged)
    note = f"{missing} ticket(s) have no SLA flag; excluded" if missing else ""
    return KpiResult(
        value=100.0 * float(flagged.astype(bool).mean()),
        n=len(flagged),
        excluded=missing,
        note=note,
    )
