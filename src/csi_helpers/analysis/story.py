"""The report's story: how the KPIs stand, what is wrong, what it costs, what to do.

Pure functions of the scorecard, step 5's issues and findings, and the action plan,
for the first screen of the management report (step 6) and its issue sections:

* :func:`status_counts`: KPIs met, amber, red and not measurable, now and in the
  previous cycle (the previous cycle's value against this cycle's target);
* :func:`plain`: a finding's statement without its statistics (intervals, p-values,
  method names), which the methodology appendix keeps;
* :func:`issue_sections`: the issues the report tells, each with a short title, its
  money, its proposed action, one chart (never one shown before) and its findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from csi_helpers.analysis.findings import Finding
from csi_helpers.kpis.scorecard import rag_status

__all__ = ["STATUSES", "IssueSection", "issue_sections", "kpi_names", "plain", "status_counts"]

#: The scorecard's colours in the order a manager reads them, with their words.
STATUSES = {"green": "met", "amber": "amber", "red": "red", "grey": "not measurable"}
#: A part of a parenthesis that is statistics, not news: it goes to the appendix.
_STATISTICS = re.compile(
    r"95 % CI|\bp [=<≤]|p-value|Holm|BIC|\bAUC\b|Mann-Kendall|rate ratio|\bz = |\bq = |"
    r"values? tested|Sen slope|\bperiod \d|permutation|bootstrap|seasonal ",
    re.IGNORECASE,
)
#: Which finding's chart tells an issue best, first choice first.
_CHART_ORDER = (
    "capacity_threshold",
    "event_impact",
    "concentration",
    "change_point",
    "trend",
    "event_episode",
    "anomaly",
    "error_budget",
    "capacity_forecast",
    "drivers",
    "target_gap",  # the KPI against its target: when no other chart shows the issue
)
_TITLES = {"issue:capacity": "Capacity at the peak", "issue:ticket-handling": "Ticket handling"}


def status_counts(card: pd.DataFrame) -> dict[str, tuple[int, int | None]]:
    """Per colour (:data:`STATUSES`): KPIs of that colour now and in the previous cycle.

    The previous cycle's colour is its value against this cycle's target and amber
    tolerance (targets may have moved); ``None`` when no KPI has a previous value.

    Example:
        >>> card = pd.DataFrame({"status": ["red", "green", "grey"], "actual": [9.0, 1.0, None],
        ...     "previous": [20.0, 3.0, None], "target": [5.0, 5.0, 5.0],
        ...     "amber": [10.0, 10.0, 10.0], "direction": ["lower"] * 3})
        >>> status_counts(card)
        {'green': (1, 1), 'amber': (0, 0), 'red': (1, 1), 'grey': (1, 1)}
    """
    now = card["status"].value_counts()
    before = [_previous_status(row) for row in card.to_dict("records")]
    known = any(status is not None for status in before)
    then = pd.Series([s or "grey" for s in before], dtype="object").value_counts()
    return {
        status: (int(now.get(status, 0)), int(then.get(status, 0)) if known else None)
        for status in STATUSES
    }


def _previous_status(row: Mapping[str, Any]) -> str | None:
    previous, target = row.get("previous"), row.get("target")
    if previous is None or pd.isna(previous) or target is None or pd.isna(target):
        return None
    amber = row.get("amber")
    return rag_status(
        float(previous),
        target=float(target),
        amber=None if amber is None or pd.isna(amber) else float(amber),
        direction=str(row.get("direction") or "higher"),
    )


def plain(statement: str) -> str:
    """A statement without its statistics: each parenthesis keeps only its parts that
    are news (a rate, a share) and is dropped when none is left.

    Example:
        >>> plain("Web holds 68 % of breaches (rate 40 % vs 11 % elsewhere; rate ratio 3.65, "
        ...       "95 % CI 2.9 to 4.5; Holm-adjusted p < 0.001, 15 values tested)")
        'Web holds 68 % of breaches (rate 40 % vs 11 % elsewhere)'
        >>> plain("daily requests: increasing by 196 requests per day (95 % CI 156 to 248; "
        ...       "p < 0.001), +7 % over 90 days (seasonal Mann-Kendall, period 7)")
        'daily requests: increasing by 196 requests per day, +7 % over 90 days'
    """

    def keep_news(match: re.Match[str]) -> str:
        parts = [p for p in match.group(1).split("; ") if not _STATISTICS.search(p)]
        return f" ({'; '.join(parts)})" if parts else ""

    return re.sub(r"\s*\(([^()]*)\)", keep_news, statement).strip()


@dataclass
class IssueSection:
    """One issue as the report tells it."""

    number: int
    title: str
    headline: str
    money: dict[str, Any] | None
    action: dict[str, Any] | None
    chart: Finding | None  # the finding whose chart shows the evidence
    findings: list[Finding] = field(default_factory=list)
    unexplained: str = ""
    in_hand: dict[str, Any] | None = None  # an open register entry on its KPIs


def issue_sections(
    issues: Iterable[Mapping[str, Any]],
    findings: Iterable[Finding],
    plan: pd.DataFrame,
    card: pd.DataFrame,
    *,
    entries: pd.DataFrame | None = None,
    limit: int = 5,
) -> list[IssueSection]:
    """The first ``limit`` issues, each with its title, money, action, chart and findings.

    A chart is the issue's finding with a figure, in the order of :data:`_CHART_ORDER`,
    whose figure no earlier section shows: every figure appears once in a report. An
    issue without a new action names the open register entry (``entries``: ``title``,
    ``kpi_id``, ``status``) on one of its KPIs, if there is one: it is in hand.
    """
    by_id = {f.id: f for f in findings}
    names = kpi_names(card)
    actions = {} if plan.empty else {r["issue_id"]: r for r in plan.to_dict("records")}
    shown: set[str] = set()
    sections = []
    for number, issue in enumerate(list(issues)[:limit], start=1):
        members = [by_id[i] for i in issue["findings"] if i in by_id]
        chart = _chart(members, shown)
        if chart is not None:
            shown.add(str(chart.figure))
        sections.append(
            IssueSection(
                number=number,
                title=_title(issue, members, names),
                headline=str(issue["headline"]),
                money=(issue.get("numbers") or {}).get("money"),
                action=actions.get(issue["id"]),
                chart=chart,
                findings=members,
                unexplained=str(issue.get("unexplained") or ""),
                in_hand=_in_hand(issue, entries),
            )
        )
    return sections


def _in_hand(issue: Mapping[str, Any], entries: pd.DataFrame | None) -> dict[str, Any] | None:
    """The register entry (of an earlier run) already on the issue's KPIs: the one that
    follows from the headline's finding first, then one in progress, then the first."""
    if entries is None or entries.empty:
        return None
    mine = entries[entries["kpi_id"].astype(str).isin(issue.get("kpis") or [])]
    if mine.empty:
        return None
    lead = (issue.get("numbers") or {}).get("lead")
    findings = mine["finding_id"] if "finding_id" in mine else pd.Series("", index=mine.index)
    rank = pd.DataFrame(
        {"lead": findings.astype(str) != str(lead), "idle": mine["status"] != "in_progress"}
    )
    return mine.loc[rank.sort_values(["lead", "idle"], kind="stable").index[0]].to_dict()


def _chart(members: list[Finding], shown: set[str]) -> Finding | None:
    drawn = [f for f in members if f.figure and str(f.figure) not in shown]
    rank = {kind: n for n, kind in enumerate(_CHART_ORDER)}
    return min(drawn, key=lambda f: rank.get(f.kind, len(rank)), default=None)


def _title(issue: Mapping[str, Any], members: list[Finding], names: Mapping[str, str]) -> str:
    """A few words that name the issue: its kind, or the KPI or metric it is about."""
    if issue["id"] in _TITLES:
        return _TITLES[issue["id"]]
    if issue["id"].startswith("issue:") and "-during-" in issue["id"]:
        node, events = issue["id"].removeprefix("issue:").split("-during-", 1)
        return f"{node.capitalize()} during {events}"
    if not members:
        return str(issue["headline"]).split(":")[0][:60]
    metric = str(members[0].metric)
    name = names.get(metric, metric)
    return name[:1].upper() + name[1:]


def kpi_names(card: pd.DataFrame) -> dict[str, str]:
    """KPI id → its name on the scorecard (empty for a card without names)."""
    if "kpi_name" not in card or "kpi_id" not in card:
        return {}
    return dict(zip(card["kpi_id"].astype(str), card["kpi_name"].astype(str), strict=True))
