"""Problem management KPIs: how incidents are tied to problems, how long problems stay open."""

from __future__ import annotations

import pandas as pd

from csi_helpers.kpis.base import KpiDefinition, KpiResult, define, empty, in_period

# States that mean a problem is no longer open, matched case-insensitively at the start.
_DONE_STATES = ("resolved", "closed", "cancel")


def _present(values: pd.Series) -> pd.Series:
    """True where a text value is present and not blank."""
    text = values.astype("string").str.strip()
    return (text.notna() & (text != "")).fillna(False).astype(bool)


def problem_linked_share(
    tickets: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Percentage of incidents opened in the period that are linked to a problem record.

    Formula: 100 × count(problem_id present) / count(tickets with start ≤ opened_at < end).

    Example:
        >>> t = pd.DataFrame({"opened_at": pd.to_datetime(["2026-01-05"] * 4, utc=True),
        ...                   "problem_id": ["PRB1", None, "PRB2", ""]})
        >>> problem_linked_share(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                      end=pd.Timestamp("2026-02-01", tz="UTC")).value
        50.0
    """
    ids = tickets.loc[in_period(tickets["opened_at"], start, end), "problem_id"]
    if ids.empty:
        return empty("no ticket was opened in the period")
    linked = int(_present(ids).sum())
    return KpiResult(
        value=100.0 * linked / len(ids),
        n=len(ids),
        details={"linked": linked, "unlinked": len(ids) - linked},
    )


def _done_before(problems: pd.DataFrame, end: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """Masks of the problems resolved or closed before ``end``, and of those done by state only.

    The second holds problems with no resolution or closure date whose ``state``
    says resolved, closed or cancelled: they cannot be placed in time.
    """
    missing = pd.Series(pd.NaT, index=problems.index, dtype=problems["opened_at"].dtype)
    done_at = pd.concat(
        [problems.get("resolved_at", missing), problems.get("closed_at", missing)], axis=1
    ).min(axis=1)
    done = (done_at < end).fillna(False).astype(bool)
    state = problems.get("state", pd.Series(pd.NA, index=problems.index)).astype("string")
    says_done = state.str.strip().str.casefold().str.startswith(_DONE_STATES).fillna(False)
    return done, ~done & done_at.isna() & says_done.astype(bool)


def open_problem_age_median(
    problems: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Median age in days, at the period end, of the problems still open at that moment.

    A problem is open at ``end`` when it was opened before it and neither
    resolved nor closed before it (``resolved_at``/``closed_at`` missing or later).
    Problems with no resolution or closure date whose ``state`` says resolved,
    closed or cancelled cannot be placed in time: they are excluded and counted.
    ``start`` is not used: a backlog is measured at one moment.

    Formula: median(end − opened_at) in days over problems open at ``end``.

    Example:
        >>> p = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-01-01", "2026-01-21", "2026-01-11",
        ...                                  "2026-01-02"], utc=True),
        ...     "resolved_at": pd.to_datetime([None, None, None, "2026-01-05"], utc=True)})
        >>> r = open_problem_age_median(p, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                             end=pd.Timestamp("2026-01-31", tz="UTC"))
        >>> (r.value, r.n, r.details["resolved_or_closed"])
        (20.0, 3, 1)
    """
    opened = problems["opened_at"]
    existing = problems[(opened < end).fillna(False).astype(bool)]
    if existing.empty:
        return empty("no problem was opened before the period end")
    done, undated = _done_before(existing, end)
    open_now = existing[~done & ~undated]
    left_out = int(undated.sum())
    details: dict[str, object] = {
        "open": len(open_now),
        "resolved_or_closed": int(done.sum()),
        "closed_without_date": left_out,
    }
    note = (
        f"{left_out} problem(s) are resolved or closed by state but carry no date; "
        "they are left out"
        if left_out
        else ""
    )
    if open_now.empty:
        return KpiResult(
            None, 0, left_out, note or "no problem was open at the period end", details
        )
    age = (end - open_now["opened_at"]).dt.total_seconds() / 86_400
    details |= {
        "older_than_30_days": int((age > 30).sum()),
        "older_than_90_days": int((age > 90).sum()),
        "oldest_days": round(float(age.max()), 3),
    }
    return KpiResult(float(age.median()), len(open_now), left_out, note, details)


_LINKED, _OPEN = ("opened_at", "problem_id"), ("opened_at", "resolved_at")

DEFINITIONS: tuple[KpiDefinition, ...] = (
    define(
        "tickets", problem_linked_share, "Incidents linked to a problem", "%", _LINKED, "higher"
    ),
    define(
        "problems", open_problem_age_median, "Median age of open problems", "days", _OPEN, "lower"
    ),
)
