"""Change management KPIs: how changes turn out, how many are emergencies, what they break.

**Changes completed in the period** are those whose completion time lies in
[start, end): ``actual_end``, or ``planned_end`` when the change has no actual
end (a change that never ran then counts in the period it was planned to end,
with whatever outcome it was given, e.g. "Cancelled"). Changes with neither are
excluded and counted when they began in the period (``actual_start``, else
``planned_start``). Outcome and type values are matched case-insensitively,
ignoring surrounding blanks.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from csi_helpers.kpis.base import KpiDefinition, KpiResult, define, empty, in_period


def _folded(values: pd.Series) -> pd.Series:
    """Text casefolded and stripped; missing (or blank) stays missing."""
    text = values.astype("string").str.strip().str.casefold()
    return text.mask(text == "")


def _completed(
    changes: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[pd.DataFrame, int]:
    """Changes completed in the period, and how many that began in it have no end date."""
    no_date = pd.Series(pd.NaT, index=changes.index, dtype=changes["actual_end"].dtype)
    finished = changes["actual_end"].fillna(changes.get("planned_end", no_date))
    began = changes.get("actual_start", no_date).fillna(changes.get("planned_start", no_date))
    undated = int((finished.isna() & in_period(began, start, end)).sum())
    return changes[in_period(finished, start, end)], undated


def _share_of(
    completed: pd.DataFrame,
    undated: int,
    column: str,
    wanted: tuple[str, ...],
    what: str,
) -> KpiResult:
    """Percentage of completed changes whose ``column`` is one of ``wanted``."""
    values = _folded(completed[column])
    known = values.dropna()
    missing = len(values) - len(known)
    notes = []
    if missing:
        notes.append(f"{missing} completed change(s) have no {column} and are left out")
    if undated:
        notes.append(f"{undated} change(s) have no actual or planned end and are left out")
    if known.empty:
        return KpiResult(
            value=None,
            n=0,
            excluded=missing + undated,
            note="; ".join(notes) or "no change completed in the period",
        )
    hits = int(known.isin({w.strip().casefold() for w in wanted}).sum())
    return KpiResult(
        value=100.0 * hits / len(known),
        n=len(known),
        excluded=missing + undated,
        note="; ".join(notes),
        details={what: hits, "others": len(known) - hits, "matched": list(wanted)},
    )


def change_success_rate(
    changes: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    successful: tuple[str, ...] = ("Successful",),
) -> KpiResult:
    """Percentage of the changes completed in the period whose outcome was successful.

    Option ``successful`` (default ["Successful"]): the outcome values that count
    as a success, matched case-insensitively. Completed changes without an
    outcome are excluded and counted.

    Formula: 100 × count(outcome in successful) / count(changes completed in the
    period with an outcome), completion = actual_end, else planned_end.

    Example:
        >>> c = pd.DataFrame({
        ...     "actual_end": pd.to_datetime(["2026-01-05", "2026-01-06", None, "2026-01-08"],
        ...                                  utc=True),
        ...     "planned_end": pd.to_datetime(["2026-01-05", None, "2026-01-07", None], utc=True),
        ...     "outcome": ["successful", "Failed", "SUCCESSFUL ", None]})
        >>> r = change_success_rate(c, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                         end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (round(r.value, 2), r.n, r.excluded)
        (66.67, 3, 1)
    """
    completed, undated = _completed(changes, start, end)
    return _share_of(completed, undated, "outcome", successful, "successful")


def emergency_change_share(
    changes: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    emergency: tuple[str, ...] = ("Emergency",),
) -> KpiResult:
    """Percentage of the changes completed in the period that were emergency changes.

    Option ``emergency`` (default ["Emergency"]): the ``type`` values that mark an
    emergency change, matched case-insensitively. Completed changes without a
    type are excluded and counted.

    Formula: 100 × count(type in emergency) / count(changes completed in the period
    with a type), completion = actual_end, else planned_end.

    Example:
        >>> c = pd.DataFrame({
        ...     "actual_end": pd.to_datetime(["2026-01-05"] * 4, utc=True),
        ...     "planned_end": pd.to_datetime(["2026-01-05"] * 4, utc=True),
        ...     "type": ["Normal", "emergency", "Standard", "Standard"]})
        >>> emergency_change_share(c, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                        end=pd.Timestamp("2026-02-01", tz="UTC")).value
        25.0
    """
    completed, undated = _completed(changes, start, end)
    return _share_of(completed, undated, "type", emergency, "emergency")


def incidents_caused_by_changes(
    tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Number of incidents opened in the period that a change caused.

    The details give their share (%) of all incidents opened in the period.

    Formula: count(tickets with start ≤ opened_at < end and caused_by present).

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-05"] * 4, utc=True),
        ...                   "caused_by": ["CHG1", None, "CHG2", " "]})
        >>> r = incidents_caused_by_changes(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                                 end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (r.value, r.n, r.details["share_pct"])
        (2.0, 4, 50.0)
    """
    cause = _folded(tickets.loc[in_period(tickets["opened_at"], start, end), "caused_by"])
    if cause.empty:
        return empty("no ticket was opened in the period")
    caused = int(cause.notna().sum())
    return KpiResult(
        value=float(caused),
        n=len(cause),
        details={"share_pct": 100.0 * caused / len(cause), "changes": int(cause.nunique())},
    )


# planned_end and the start columns are used when the source has them.
_COMPLETION = ("actual_end",)

_kpi = partial(define, "changes")

DEFINITIONS: tuple[KpiDefinition, ...] = (
    _kpi(change_success_rate, "Successful changes", "%", (*_COMPLETION, "outcome"), "higher"),
    _kpi(emergency_change_share, "Emergency changes", "%", (*_COMPLETION, "type"), "lower"),
    define(
        "tickets",
        incidents_caused_by_changes,
        "Incidents caused by changes",
        "tickets",
        ("opened_at", "caused_by"),
        "lower",
    ),
)
