"""Issues → a short, ranked action plan: one action per issue, at most ``actions.max``.

Actions follow from issues (:mod:`csi_helpers.analysis.synthesis`), not from single
findings: each issue, in its rank, gets the action of the best rule that matches one
of its findings (:data:`~csi_helpers.actions.rules.RULES`, in their order, a rule that
moves a red KPI first), and the plan stops at ``limit`` actions. Left out:

* findings that explain nothing: anomalies (no known cause to act on);
* findings of an earlier cycle: a change point dated before this cycle;
* actions a forecast of the same report contradicts: capacity planning for load
  growth when the capacity forecast reaches no limit within its horizon;
* actions already open or verified in the CSI register (``taken``): the register
  carries them, the plan does not propose them again;
* good news and issues no rule knows how to act on (they stay in the report as
  issues; a generic "find the causes" action is not an action).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from csi_helpers.actions.rules import (
    ACTION_COLUMNS,
    RULES,
    Rule,
    _Blank,
    _fields,
    _kpi_of,
    _subject,
    owners_of,
)
from csi_helpers.analysis.findings import Finding

__all__ = ["PLAN_COLUMNS", "plan_actions"]

#: The plan's columns: those of the rules' table, the change the action promises (a
#: fraction, when its rule names one) and the issue it answers.
PLAN_COLUMNS = [*ACTION_COLUMNS, "expected_change", "issue_id"]
#: Rules whose action a capacity forecast that reaches no limit contradicts.
_CAPACITY_PLANNING = frozenset({"trend", "capacity_forecast"})


def plan_actions(
    findings: Iterable[Finding],
    issues: Iterable[Mapping[str, Any]],
    card: pd.DataFrame,
    *,
    cycle_start: date,
    cycle_end: date,
    cycle_id: str,
    limit: int = 5,
    taken: Iterable[str] = (),
) -> pd.DataFrame:
    """The cycle's action plan, one action per issue in the issues' order.

    Args:
        findings: step 5's findings (after the report-wide control).
        issues: step 5's issues, ranked (``id``, ``findings``).
        card: the scorecard (``kpi_id``, ``kpi``, ``status``, ``owner``).
        cycle_start, cycle_end: the cycle; actions are due 30 days after its end.
        cycle_id: prefix of the action ids.
        limit: most actions to propose.
        taken: titles of actions open or verified in the register (from other runs).

    Returns:
        The plan (:data:`PLAN_COLUMNS`), at most ``limit`` rows.
    """
    by_id = {f.id: f for f in findings}
    owners = owners_of(card)
    red = set(card.loc[card["status"] == "red", "kpi"].astype(str))
    red |= set(card.loc[card["status"] == "red", "kpi_id"].astype(str))
    contradicted = _forecast_reaches_no_limit(by_id.values())
    titles = set(taken)
    rows: list[dict[str, Any]] = []
    for issue in issues:
        if len(rows) >= limit:
            break
        members = [by_id[i] for i in issue["findings"] if i in by_id]
        lead = (issue.get("numbers") or {}).get("lead")
        choice = _best_action(members, red, titles, cycle_start, contradicted, lead=lead)
        if choice is None:
            continue
        rule, f, fields = choice
        title, kpi = rule.title.format_map(fields), rule.kpi or _kpi_of(f)
        titles.add(title)
        expected = rule.expected.format_map(fields) + _estimate(issue, f, card)
        rows.append(
            {
                "action_id": f"{cycle_id}-a{len(rows) + 1}",
                "title": title,
                "finding_id": f.id,
                "metric": f.metric,
                "kpi": kpi,
                "expected": expected,
                "owner": owners.get(f.metric) or owners.get(kpi, ""),
                "due": (cycle_end + timedelta(days=30)).isoformat(),
                "status": "proposed",
                "expected_change": rule.promise,
                "issue_id": issue["id"],
            }
        )
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _estimate(issue: Mapping[str, Any], f: Finding, card: pd.DataFrame) -> str:
    """How big the action's effect should be and how that was estimated, where the
    evidence allows it: a knee issue's capacity, a concentration's breaches."""
    if f.kind == "concentration":
        return _concentration_estimate(f)
    return _capacity_estimate(issue, card)


def _concentration_estimate(f: Finding) -> str:
    """The outcome rate the cycle would have had if the value that concentrates the
    outcome (a group, say) had the rest's rate: its excess outcomes removed.

    Example:
        >>> from csi_helpers.analysis.findings import Finding
        >>> f = Finding(id="c", kind="concentration", statement="s", metric="breached",
        ...     method="m", severity="high", evidence={"value": "Web Platform",
        ...     "n_tickets": 1371, "overall_rate": 0.2195, "tickets": 511, "rate": 0.403,
        ...     "rest_rate": 0.110})
        >>> text = _concentration_estimate(f)
        >>> "150 fewer of the 1,371 tickets breached, 11.0 % instead of 21.9 %" in text
        True
        >>> text.endswith("(SLA compliance 89.0 % instead of 78.0 %)")
        True
    """
    e = f.evidence
    needed = ("value", "n_tickets", "overall_rate", "tickets", "rate", "rest_rate")
    if any(e.get(k) is None for k in needed) or not e["n_tickets"]:
        return ""
    fewer = float(e["tickets"]) * (float(e["rate"]) - float(e["rest_rate"]))
    before = float(e["overall_rate"])
    after = before - fewer / float(e["n_tickets"])
    text = (
        f"; estimate: at the rest's rate ({100 * float(e['rest_rate']):.1f} %) {e['value']} "
        f"would have had {fewer:,.0f} fewer of the {int(e['n_tickets']):,} "
        f"tickets {f.metric}, {100 * after:.1f} % instead of {100 * before:.1f} %"
    )
    if f.metric == "breached":
        text += f" (SLA compliance {100 * (1 - after):.1f} % instead of {100 * (1 - before):.1f} %)"
    return text


def _capacity_estimate(issue: Mapping[str, Any], card: pd.DataFrame) -> str:
    """How much capacity the action needs, for an issue built around a utilisation knee.

    The busiest hour's utilisation over the knee is the factor by which capacity must
    grow (or the peak load shrink, by staggering) for the busiest hour to stay below the
    knee, where latency and errors start to rise. Empty for other issues.
    """
    knee = (issue.get("numbers") or {}).get("knee_pct")
    peak = card.loc[card["kpi"].astype(str) == "peak_utilisation", "actual"].dropna()
    if knee is None or peak.empty or float(peak.iloc[0]) <= knee:
        return ""
    busiest = float(peak.iloc[0])
    return (
        f"; estimate: the busiest hour ran at {busiest:.1f} % of capacity, so capacity "
        f"×{busiest / knee:.2f} or more (or that much less peak load) keeps it below the "
        f"{knee:.1f} % knee where latency and errors rise"
    )


def _best_action(
    members: list[Finding],
    red: set[str],
    taken: set[str],
    cycle_start: date,
    contradicted: bool,
    *,
    lead: str | None = None,
) -> tuple[Rule, Finding, _Blank] | None:
    """The first rule (a red KPI's first, then the issue's headline finding's: ``lead``)
    that matches an actionable finding of the issue, so that the action acts on what the
    headline says (a ticket-handling issue led by a category proposes for that category,
    not for the group another finding names)."""
    candidates = []
    for f in members:
        if not _actionable(f, cycle_start):
            continue
        fields = _Blank(_fields(f))
        for rank, rule in enumerate(RULES):
            if not _matches(rule, f) or (contradicted and rule.kind in _CAPACITY_PLANNING):
                continue
            if rule.title.format_map(fields) in taken:
                continue
            moves_red = (rule.kpi or _kpi_of(f)) in red or f.metric in red
            candidates.append((not moves_red, f.id != lead, rank, rule, f, fields))
    if not candidates:
        return None
    *_, rule, f, fields = min(candidates, key=lambda c: c[:3])
    return rule, f, fields


def _matches(rule: Rule, f: Finding) -> bool:
    return (
        f.kind == rule.kind
        and rule.subject_contains in _subject(f)
        and not (rule.rising_only and (f.effect or 0) <= 0)
        and (not rule.scope_key or rule.scope_key in f.scope)
    )


def _actionable(f: Finding, cycle_start: date) -> bool:
    """A finding an action may follow from: a problem of this cycle with a known shape."""
    if not f.is_finding or f.severity in ("low", "info") or f.kind == "anomaly":
        return False
    if f.kind == "change_point" and f.evidence.get("date"):
        return str(f.evidence["date"])[:10] >= cycle_start.isoformat()
    return True


def _forecast_reaches_no_limit(findings: Iterable[Finding]) -> bool:
    """Whether a capacity forecast of the report sees no limit reached within its horizon."""
    for f in findings:
        forecast = f.kind == "capacity_forecast" or f.metric == "peak load"
        if forecast and (f.kind == "no_finding" or not f.evidence.get("crossing_date")):
            return f.evidence.get("reason") != "too_short"
    return False
