"""Issues, not facts: step 5's findings grouped by the cause they share.

A cycle's findings are many single facts (a knee in latency, a campaign effect, an
exhausted error budget, a red downtime KPI, ...). An *issue* is one problem told once:
a headline in plain words, the KPIs it hurts, the findings that are its evidence, how
sure we are, and what is still unexplained. Findings are linked along the chain an IT
service runs on,

    load → utilisation → latency, errors → downtime → tickets → SLA

and by time: hours above a capacity knee and the hours of known events (campaigns).

* **Capacity at the peak.** A capacity threshold (latency or errors rise past a
  utilisation knee) is the mechanism that ties load, utilisation, latency and error
  findings together; downtime joins it when at least half of the downtime minutes
  fall in hours above the knee or inside calendar events (the share is stated).
  A finding that happens at given hours (an anomaly's episodes) joins only when
  one of its hours is such a hot hour: a latency spike at 3 a.m. on a quiet night is
  not the peak's problem, and stays an issue of its own (counted in what the
  capacity issue leaves unexplained).
* **Ticket handling.** A concentration or driver finding on SLA breaches (a group, a
  category, a priority that breaches far more often) explains the ticket and SLA
  findings of the cycle.
* Every other finding stays an issue of its own.

Good news (severity ``low``) and measurements that are not problems (a KPI on target)
are left out. Pure functions: findings and frames in, :class:`Issue` records out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from csi_helpers.analysis._hot_hours import downtime_in_hot_hours, hot_hours, overlaps
from csi_helpers.analysis.findings import Finding, format_number

__all__ = ["CHAIN", "Issue", "build_issues", "node_of", "price_issues"]

#: The service chain, upstream first; a finding sits on one node.
CHAIN = ("load", "utilisation", "latency", "errors", "downtime", "tickets", "sla")
#: Library KPI → node.
_KPI_NODES = {
    "peak_utilisation": "utilisation",
    "utilisation_p99": "utilisation",
    "latency_p95": "latency",
    "latency_p95_of_interval_p95": "latency",
    "error_rate": "errors",
    "downtime_minutes": "downtime",
    "availability": "downtime",
    "incident_volume": "tickets",
    "backlog": "tickets",
    "backlog_age_median": "tickets",
    "mean_time_to_resolve": "tickets",
    "median_time_to_resolve": "tickets",
    "p90_time_to_resolve": "tickets",
    "reopen_rate": "tickets",
    "sla_compliance": "sla",
}
#: Words of a finding's metric → node, first match wins.
_WORDS = (
    ("utilisation", "utilisation"),
    ("latency", "latency"),
    ("response time", "latency"),
    ("error", "errors"),
    ("downtime", "downtime"),
    ("availability", "downtime"),
    ("breach", "sla"),
    ("sla", "sla"),
    ("time to resolve", "tickets"),
    ("incident", "tickets"),
    ("backlog", "tickets"),
    ("request", "load"),
    ("load", "load"),
)
_SEVERITY = {"high": 0, "medium": 1, "low": 2, "info": 3}
CAPACITY_NODES = frozenset({"load", "utilisation", "latency", "errors"})
TICKET_NODES = frozenset({"tickets", "sla"})
MIN_DOWNTIME_SHARE = 0.5  # of downtime minutes in hot hours, for downtime to join


@dataclass
class Issue:
    """One problem of the cycle, told once, with its evidence."""

    id: str
    headline: str
    severity: str
    confidence: str  # high / medium / low
    kpis: list[str]  # KPI ids of the scorecard it hurts
    findings: list[str]  # ids of the findings that are its evidence
    unexplained: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def node_of(finding: Finding, kpi_of: Mapping[str, str] | None = None) -> str | None:
    """The chain node a finding is about, from its KPI or the words of its metric.

    Example:
        >>> from csi_helpers.analysis.findings import Finding
        >>> f = Finding(id="t", kind="trend", statement="rising", metric="daily requests",
        ...             method="m", severity="medium")
        >>> node_of(f)
        'load'
    """
    kpi = finding.evidence.get("kpi")
    if kpi is None and kpi_of is not None:
        kpi = kpi_of.get(str(finding.metric)) or kpi_of.get(str(finding.scope.get("kpi")))
    if kpi in _KPI_NODES:
        return _KPI_NODES[kpi]
    words = str(finding.metric).lower()
    return next((node for word, node in _WORDS if word in words), None)


def build_issues(
    findings: Iterable[Finding],
    card: pd.DataFrame,
    *,
    hourly: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> list[Issue]:
    """Group a cycle's findings into issues, most severe first.

    Args:
        findings: step 5's findings after the report-wide control.
        card: the scorecard (``kpi_id``, ``kpi``, ``status``).
        hourly: step 4's hourly series (``hour``, ``peak_utilisation``,
            ``downtime_min``), to place downtime in the hot hours.
        events: known calendar events (``start``, ``end``), e.g. campaigns.

    Returns:
        The issues; a finding belongs to at most one.
    """
    problems = [
        f
        for f in findings
        if f.is_finding and f.severity in ("high", "medium") and f.kind != "baseline"
    ]
    kpi_of = dict(zip(card["kpi_id"].astype(str), card["kpi"].astype(str), strict=True))
    nodes = {f.id: node_of(f, kpi_of) for f in problems}
    issues: list[Issue] = []
    taken: set[str] = set()
    capacity = _capacity_issue(problems, nodes, hourly, events)
    if capacity is not None:
        issues.append(capacity)
        taken |= set(capacity.findings)
    handling = _handling_issue([f for f in problems if f.id not in taken], nodes)
    if handling is not None:
        issues.append(handling)
        taken |= set(handling.findings)
    for issue in _event_issues([f for f in problems if f.id not in taken], nodes):
        issues.append(issue)
        taken |= set(issue.findings)
    issues += [_single(f) for f in problems if f.id not in taken]
    for issue in issues:
        members = [f for f in problems if f.id in issue.findings]
        issue.kpis = _kpis(members, kpi_of)
    return sorted(issues, key=lambda i: (_SEVERITY.get(i.severity, 9), -len(i.findings)))


def _capacity_issue(
    problems: list[Finding],
    nodes: Mapping[str, str | None],
    hourly: pd.DataFrame | None,
    events: pd.DataFrame | None,
) -> Issue | None:
    knees = [f for f in problems if f.kind == "capacity_threshold"]
    if not knees:
        return None
    latency = [f for f in knees if "latency" in str(f.evidence.get("y", f.metric))]
    knee = float((latency or knees)[0].evidence["threshold"])  # latency's knee, if it has one
    hot = hot_hours(hourly, events, knee)
    chain = [f for f in problems if nodes[f.id] in CAPACITY_NODES]
    members = [f for f in chain if hot is None or overlaps(f, hot)]
    downtime = downtime_in_hot_hours(hot)
    joined = downtime is not None and downtime["share"] >= MIN_DOWNTIME_SHARE
    if joined:
        members += [f for f in problems if nodes[f.id] == "downtime"]
    numbers = {"knee_pct": 100 * knee, **(downtime or {})}
    numbers |= _event_numbers(members)
    unexplained = []
    if downtime is not None:
        rest = downtime["total_min"] - downtime["hot_min"]
        unexplained.append(
            f"{format_number(rest)} of the {format_number(downtime['total_min'])} downtime "
            "minutes fall outside those hours"
            + ("" if joined else "; downtime is reported as an issue of its own")
        )
    apart = [f for f in chain if f not in members]
    if apart:
        numbers["episodes_elsewhere"] = len(apart)
        metrics = ", ".join(dict.fromkeys(str(f.metric) for f in apart))
        unexplained.append(
            f"{len(apart)} anomaly finding(s) of {metrics} fall outside the hot hours and "
            "are reported on their own"
        )
    unexplained = "; ".join(unexplained)
    tests = [f for f in members if f.p_value is not None]
    return Issue(
        id="issue:capacity",
        headline=_capacity_headline(numbers, members, joined),
        severity=_worst(members),
        confidence="high" if len(knees) + len(tests) >= 3 else "medium",
        kpis=[],
        findings=[f.id for f in members],
        unexplained=unexplained,
        numbers=numbers,
    )


def _event_numbers(members: list[Finding]) -> dict[str, Any]:
    """The campaigns' count and their effect on latency and errors, from event impacts."""
    out: dict[str, Any] = {}
    for f in members:
        if f.kind != "event_impact" or f.effect is None:
            continue
        out.setdefault("events", f.evidence.get("n_events"))
        node = "latency" if "latency" in f.metric else "errors" if "error" in f.metric else None
        if node is not None:
            out[f"{node}_during_events_pct"] = 100 * float(f.effect)
    for f in members:
        if f.kind == "error_budget" and f.evidence.get("consumption_pct") is not None:
            out.setdefault("budget_consumed_pct", float(f.evidence["consumption_pct"]))
    return out


def _capacity_headline(numbers: Mapping[str, Any], members: list[Finding], joined: bool) -> str:
    events = numbers.get("events")
    where = f"On the {events} campaign days" if events else "At the busiest hours"
    parts = [f"{where} load passes the {format_number(numbers['knee_pct'])} % utilisation knee"]
    rises = [
        f"{word} {numbers[key]:+.0f} %"
        for key, word in (("latency_during_events_pct", "latency"),
                          ("errors_during_events_pct", "errors"))
        if key in numbers
    ]  # fmt: skip
    during = f" ({', '.join(rises)} during the campaigns)" if rises else ""
    parts.append(f"latency and errors rise{during}")
    if "budget_consumed_pct" in numbers:
        used = format_number(numbers["budget_consumed_pct"])
        parts.append(f"the latency budget is spent ({used} % of it used)")
    if joined:
        parts.append(
            f"{format_number(numbers['hot_min'])} of the {format_number(numbers['total_min'])} "
            "downtime minutes fall in those hours"
        )
    return _sentence(parts)


def _handling_issue(problems: list[Finding], nodes: Mapping[str, str | None]) -> Issue | None:
    causes = [f for f in problems if f.kind in ("concentration", "drivers")]
    if not causes:
        return None
    members = [f for f in problems if nodes[f.id] in TICKET_NODES]
    top = max(  # the value that explains the most outcomes beyond the overall rate
        (f for f in causes if f.kind == "concentration"),
        key=lambda f: (float(f.evidence.get("excess") or 0), float(f.effect or 0)),
        default=causes[0],
    )
    # "Web Platform (assignment_group) holds 68 % of SLA breaches with 37 % of tickets (rate ..."
    headline = re.sub(r" \([^)]*\)", "", top.statement, count=1).split(" (rate")[0]
    gaps = [f for f in members if f.kind == "target_gap" and nodes[f.id] == "sla"]
    if gaps:
        headline += "; " + gaps[0].statement.split(";")[0].rstrip(".")
    return Issue(
        id="issue:ticket-handling",
        headline=headline[0].upper() + headline[1:],
        severity=_worst(members),
        confidence="high" if len(causes) >= 2 else "medium",
        kpis=[],
        findings=[f.id for f in members],
        unexplained="",
        numbers={"causes": [f.id for f in causes], "lead": top.id},  # lead: the headline's
    )


def _event_issues(problems: list[Finding], nodes: Mapping[str, str | None]) -> list[Issue]:
    """An event effect on a node (downtime during campaigns, say) with that node's KPI gaps."""
    issues = []
    for impact in (f for f in problems if f.kind == "event_impact"):
        node = nodes[impact.id]
        gaps = [f for f in problems if f.kind == "target_gap" and node and nodes[f.id] == node]
        if not gaps:
            continue
        members = [impact, *gaps]
        gap = gaps[0].statement.split(";")[0].rstrip(".")
        events = impact.scope.get("events", "events")
        issues.append(
            Issue(
                id=f"issue:{node}-during-{events}",
                headline=f"{gap}; {impact.statement.split(' (95 %')[0]}.",
                severity=_worst(members),
                confidence="medium",
                kpis=[],
                findings=[f.id for f in members],
            )
        )
        problems = [f for f in problems if f not in members]
    return issues


def _single(f: Finding) -> Issue:
    return Issue(
        id=f"issue:{f.id}",
        headline=f.statement,
        severity=f.severity,
        confidence="medium" if f.p_value is not None else "measured",
        kpis=[],
        findings=[f.id],
    )


def _kpis(members: list[Finding], kpi_of: Mapping[str, str]) -> list[str]:
    seen: list[str] = []
    for f in members:
        ids = [f.metric] if f.kind == "target_gap" else []
        ids += [str(k) for k in f.evidence.get("linked_kpis") or []]
        seen += [k for k in ids if k in kpi_of and k not in seen]
    return seen


def _worst(members: list[Finding]) -> str:
    return min((f.severity for f in members), key=lambda s: _SEVERITY.get(s, 9), default="medium")


def _sentence(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0] + "."
    return (
        f"{parts[0]}: "
        + ", ".join(parts[1:-1])
        + (" and " if len(parts) > 2 else "")
        + (parts[-1] + ".")
    )


def price_issues(issues: list[Issue], impact: pd.DataFrame | None) -> list[Issue]:
    """Attach to each issue the money at stake on the KPIs it hurts, and rank by it.

    ``impact`` is step 5's money table (``kpi_id``, ``amount``, ``currency``,
    ``formula``). An issue takes the largest amount among its KPIs, never their sum:
    KPIs such as downtime and availability price the same outages. Issues are ranked by
    that amount (none counts as zero), then by severity, then by their evidence.
    """
    if impact is not None and not impact.empty:
        priced = impact.set_index("kpi_id")
        for issue in issues:
            mine = priced.loc[[k for k in issue.kpis if k in priced.index]]
            if not mine.empty:
                top = mine.sort_values("amount", ascending=False).iloc[0]
                issue.numbers["money"] = {
                    "kpi_id": str(top.name),
                    "amount": float(top["amount"]),
                    "currency": str(top["currency"]),
                    "formula": str(top["formula"]),
                }
    money = [i.numbers.get("money", {}).get("amount", 0.0) for i in issues]
    order = sorted(
        range(len(issues)),
        key=lambda n: (-money[n], _SEVERITY.get(issues[n].severity, 9), -len(issues[n].findings)),
    )
    return [issues[n] for n in order]
