"""Step 7's action list → new ``proposed`` register entries, each with its baseline.

:func:`proposed_entries` is pure (actions and scorecard in, rows out);
:func:`sync_actions` writes them in one transaction. Syncing is idempotent and
never touches an entry that exists: a run adds each action once, and an action
whose title is already open in the register (from an earlier cycle) is left to
that entry.

Baselines: the base value is the KPI's actual in the run that proposes the
action, the target value its target, and the review date the end of the next
cycle. An action whose KPI had no value (or that names no KPI of the
scorecard) gets no review date, since there is nothing to verify it against;
it stays in the register for a person to judge.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa

from csi_helpers.errors import RegisterError
from csi_helpers.register import lifecycle
from csi_helpers.register.schema import ENTRIES
from csi_helpers.register.store import Register


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_actions` did with each action."""

    added: list[str] = field(default_factory=list)  # new entry ids
    present: list[str] = field(default_factory=list)  # entries this run had added before
    updated: list[str] = field(default_factory=list)  # of those, proposed ones given new values
    open_elsewhere: dict[str, str] = field(default_factory=dict)  # title → open entry id
    without_review: list[str] = field(default_factory=list)  # added, but with no baseline

    def __str__(self) -> str:
        parts = [f"{len(self.added)} added"]
        if self.present:
            parts.append(f"{len(self.present)} already in the register from this run")
        if self.updated:
            parts.append(f"{len(self.updated)} of those updated: {', '.join(self.updated)}")
        if self.open_elsewhere:
            ids = ", ".join(sorted(set(self.open_elsewhere.values())))
            parts.append(f"{len(self.open_elsewhere)} already open as {ids}")
        if self.without_review:
            parts.append(
                f"{len(self.without_review)} without a baseline, so not scheduled for review: "
                + ", ".join(self.without_review)
            )
        return "; ".join(parts)


def next_cycle_end(start: date, end: date) -> date:
    """The last day of the cycle after ``start``–``end``, taken to be as long.

    A cycle of whole calendar months is followed by as many months (a quarter
    ending 30 June by one ending 30 September); any other by as many days.

    Example:
        >>> next_cycle_end(date(2026, 4, 1), date(2026, 6, 30))
        datetime.date(2026, 9, 30)
        >>> next_cycle_end(date(2026, 1, 5), date(2026, 1, 18))
        datetime.date(2026, 2, 1)
    """
    last_day = calendar.monthrange(end.year, end.month)[1]
    if start.day == 1 and end.day == last_day:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        index = end.year * 12 + end.month - 1 + months
        year, month = divmod(index, 12)
        return date(year, month + 1, calendar.monthrange(year, month + 1)[1])
    return end + timedelta(days=(end - start).days + 1)


def proposed_entries(
    actions: pd.DataFrame, *, scorecard: pd.DataFrame, run_id: str, review_date: date
) -> pd.DataFrame:
    """Register rows for step 7's actions, with KPI, base and target from the scorecard.

    The KPI of an action is the scorecard row whose ``kpi_id`` is the action's
    metric, else the first row (in scorecard order) measuring the action's
    library KPI. Ids are left to :func:`sync_actions`.

    Example:
        >>> actions = pd.DataFrame({
        ...     "action_id": ["q2-a1"], "title": ["Stagger campaigns"], "finding_id": ["f1"],
        ...     "metric": ["downtime"], "kpi": ["downtime_minutes"], "expected": ["halve it"],
        ...     "owner": ["Ops"], "due": ["2026-07-30"], "status": ["proposed"]})
        >>> card = pd.DataFrame({"kpi_id": ["downtime"], "kpi": ["downtime_minutes"],
        ...                      "target": [60.0], "actual": [566.7]})
        >>> row = proposed_entries(actions, scorecard=card, run_id="web-q2",
        ...                        review_date=date(2026, 9, 30)).iloc[0]
        >>> row.kpi_id, float(row.base_value), float(row.target_value), str(row.review_date)
        ('downtime', 566.7, 60.0, '2026-09-30')
    """
    rows = _candidates(actions, scorecard=scorecard, run_id=run_id, review_date=review_date)
    return pd.DataFrame(rows, columns=list(_ROW_KEYS))


def _candidates(
    actions: pd.DataFrame, *, scorecard: pd.DataFrame, run_id: str, review_date: date
) -> list[dict[str, Any]]:
    if "title" not in actions.columns:
        raise RegisterError(
            f"the action list has no title column (columns: {', '.join(map(str, actions.columns))})"
        )
    missing = [c for c in ("kpi_id", "kpi", "target", "actual") if c not in scorecard.columns]
    if missing:
        raise RegisterError(
            f"the scorecard has no {', '.join(missing)} column(s); pass step 5's "
            "analyse/scorecard table"
        )
    by_id = {str(r["kpi_id"]): r for r in scorecard.to_dict("records")}
    by_kpi: dict[str, dict[str, Any]] = {}
    for r in scorecard.to_dict("records"):
        by_kpi.setdefault(str(r["kpi"]), r)
    rows = []
    for a in actions.to_dict("records"):
        metric, kpi = _text(a.get("metric")), _text(a.get("kpi"))
        card = by_id.get(metric or "") or by_kpi.get(kpi or "")
        base = _number(card.get("actual")) if card else None
        target = _number(card.get("target")) if card else None
        if not _better(target, base, card.get("direction") if card else None):
            target = None  # a target no better than now is no target for an action
        rows.append(
            {
                "title": str(a["title"]),
                "finding_id": _text(a.get("finding_id")),
                "action_id": _text(a.get("action_id")),
                "kpi_id": _text(card["kpi_id"]) if card else None,
                "kpi": _text(card["kpi"]) if card else kpi,
                "metric": metric,
                "owner": _text(a.get("owner")),
                "due": _date(a.get("due")),
                "expected": _text(a.get("expected")),
                "expected_change": _number(a.get("expected_change")),
                "base_value": base,
                "target_value": target,
                "review_date": review_date if base is not None else None,
                "baseline_run_id": run_id if base is not None else None,
                "created_run_id": run_id,
            }
        )
    return rows


_ROW_KEYS = (
    "title",
    "finding_id",
    "action_id",
    "kpi_id",
    "kpi",
    "metric",
    "owner",
    "due",
    "expected",
    "expected_change",
    "base_value",
    "target_value",
    "review_date",
    "baseline_run_id",
    "created_run_id",
)


def sync_actions(
    register: Register,
    actions: pd.DataFrame,
    *,
    run_id: str,
    scorecard: pd.DataFrame,
    cycle_start: date,
    cycle_end: date,
    review_date: date | None = None,
) -> SyncResult:
    """Add step 7's actions to the register as ``proposed`` entries, in one transaction.

    Args:
        register: an open register (opened with ``writer=run_id`` by a run).
        actions: :func:`csi_helpers.actions.recommend_actions`' table.
        run_id: the run proposing them; it becomes their baseline run.
        scorecard: that run's scorecard (``kpi_id``, ``kpi``, ``target``, ``actual``).
        cycle_start, cycle_end: that run's cycle.
        review_date: when to check the effect; default the end of the next cycle
            (:func:`next_cycle_end`).

    An action this run added before is not added again, whatever its entry's
    status now; if that entry is still ``proposed`` (nobody has decided on it), a
    re-run of the cycle brings its baseline, target and review date up to date, each
    change in its history. An action whose title is open in the register from
    another run is left to that entry; no other entry is changed.
    """
    review = review_date or next_cycle_end(cycle_start, cycle_end)
    rows = _candidates(actions, scorecard=scorecard, run_id=run_id, review_date=review)
    added: list[str] = []
    present: list[str] = []
    elsewhere: dict[str, str] = {}
    without: list[str] = []
    with register.transaction() as conn:
        existing = conn.execute(
            sa.select(ENTRIES.c.id, ENTRIES.c.title, ENTRIES.c.created_run_id, ENTRIES.c.status)
        ).all()
        mine = {e.title: e.id for e in existing if e.created_run_id == run_id}
        undecided = {e.id for e in existing if e.status == "proposed"}
        refresh: dict[str, dict[str, Any]] = {}
        open_titles = {e.title: e.id for e in existing if e.status in lifecycle.OPEN}
        taken = {e.id for e in existing}
        new_rows = []
        for row in rows:
            title = row["title"]
            if title in mine:
                present.append(mine[title])
                if mine[title] in undecided:
                    refresh[mine[title]] = row
                continue
            if title in open_titles:
                elsewhere[title] = open_titles[title]
                continue
            row["id"] = _next_id(run_id, taken)
            taken.add(row["id"])
            mine[title] = row["id"]
            new_rows.append(row)
            added.append(row["id"])
            if row["review_date"] is None:
                without.append(row["id"])
        register._insert(conn, new_rows, by=run_id, note=f"proposed by run {run_id}")
    return SyncResult(
        added=added,
        present=present,
        updated=_refresh(register, refresh, run_id),
        open_elsewhere=elsewhere,
        without_review=without,
    )


def _refresh(register: Register, rows: dict[str, dict[str, Any]], run_id: str) -> list[str]:
    """Bring a re-run's own ``proposed`` entries up to date; the ids of those changed."""
    updated = []
    for entry_id, row in rows.items():
        before = register.get(entry_id)
        values = {
            k: row[k] for k in _REFRESHED if row[k] is not None and row[k] != getattr(before, k)
        }
        if values:
            register.update(entry_id, by=run_id, note=f"updated by a re-run of {run_id}", **values)
            updated.append(entry_id)
    return updated


#: What a re-run of the cycle brings up to date in its own entries still ``proposed``.
_REFRESHED = ("base_value", "target_value", "review_date", "baseline_run_id")


def _better(target: float | None, base: float | None, direction: Any) -> bool:
    """Whether ``target`` improves on ``base`` in the KPI's direction (unknown: yes)."""
    if target is None or base is None or direction not in ("lower", "higher"):
        return True
    return target < base if direction == "lower" else target > base


def _next_id(run_id: str, taken: set[str]) -> str:
    n = 1
    while f"{run_id}-a{n}" in taken:
        n += 1
    return f"{run_id}-a{n}"


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _date(value: Any) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
