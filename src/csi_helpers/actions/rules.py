"""Findings → candidate improvement actions, by rule.

Rules map a finding kind (and the metric it is about) to an action with the
KPI it should move. Step 6 shows the plan in the management report, step 7
(:mod:`csi_helpers.steps.implement`) puts it into the CSI register: both call
:func:`recommendations`, so the report and the register never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from csi_helpers.analysis import Finding


@dataclass(frozen=True)
class Rule:
    """Finding kind (and subject) → a candidate action and the KPI effect expected of it.

    ``subject_contains`` is matched against the finding's KPI library id when it has
    one (target gaps), else against its metric; ``""`` matches any. ``title`` and
    ``expected`` may name fields of :func:`_fields` in braces, e.g. ``{value}``.
    """

    kind: str
    subject_contains: str
    title: str
    expected: str
    rising_only: bool = False  # applies only when the finding's effect is positive
    scope_key: str = ""  # applies only when the finding's scope names this key (e.g. events)
    kpi: str = ""  # the KPI library id the action should move (default: the finding's)
    promise: float | None = None  # the KPI change it promises, as a fraction (−0.5: halve it)


STAGGER = "Stagger campaigns away from the evening peak and add capacity before each one"

RULES: tuple[Rule, ...] = (
    # The campaign/capacity action first: where it applies it is the root-cause action.
    Rule(
        "event_impact",
        "downtime",
        STAGGER,
        "downtime during campaigns back to its matched baseline (now {effect_text} above it)",
        rising_only=True,
        kpi="downtime_minutes",
    ),
    Rule(
        "event_impact",
        "latency",
        STAGGER,
        "p95 latency during campaigns back to its matched baseline (now {effect_text} above it)",
        rising_only=True,
        kpi="latency_p95",
    ),
    Rule(
        "target_gap",
        "availability",
        STAGGER,
        "halve downtime minutes",
        promise=-0.5,
    ),
    Rule(
        "target_gap",
        "downtime",
        STAGGER,
        "halve downtime minutes",
        promise=-0.5,
    ),
    Rule(
        "capacity_threshold",
        "latency",
        "Add capacity before campaigns so peak utilisation stays below {threshold_pct} %",
        "p95 latency back under target at peak",
        kpi="latency_p95",
    ),
    Rule(
        "capacity_forecast",
        "",
        "Plan a capacity increase before {crossing}",
        "peak load stays below the usable capacity",
        kpi="peak_utilisation",
    ),
    Rule(
        "event_impact",
        "requests",
        "Schedule campaigns outside the busiest hours and warn operations before each one",
        "campaign peaks ({effect_text} extra load) absorbed below the capacity threshold",
        rising_only=True,
        kpi="peak_utilisation",
    ),
    Rule(
        "event_impact",
        "incidents",
        "Tighten change risk assessment and post-change checks for {events}",
        "no rise in incidents after changes (now {effect_text} per hour)",
        rising_only=True,
        kpi="incidents_caused_by_changes",
    ),
    Rule(
        "concentration",
        "assignment_group",
        "Rebalance {value}: review its staffing, skills and routing of breaching tickets",
        "{value}'s breach rate down to the rest's (now {rate_ratio}× as high)",
        kpi="sla_compliance",
    ),
    Rule(
        "concentration",
        "category",
        "Run a problem review of {value} tickets that breach their SLA",
        "{value}'s breach rate down to the rest's (now {rate_ratio}× as high)",
        kpi="sla_compliance",
    ),
    Rule(
        "concentration",
        "priority",
        "Check the SLA target and escalation path of priority {value}",
        "{value}'s breach rate down to the rest's (now {rate_ratio}× as high)",
        kpi="sla_compliance",
    ),
    Rule(
        "error_budget",
        "",
        "Freeze risky changes and put reliability work first until the {metric} budget recovers",
        "burn rate back under 1 (now {burn_rate})",
    ),
    Rule(
        "change_point",
        "",
        "Find what changed in {metric} on {date} and undo or contain it",
        "{metric} back to its level before {date}",
        rising_only=True,
    ),
    Rule(
        "anomaly",
        "",
        "Review the causes of the {metric} anomalies and alert on them",
        "episodes caught by alerts before customers notice",
    ),
    Rule(
        "target_gap",
        "latency",
        "Tune or scale the web tier for peak hours",
        "p95 latency under target",
    ),
    Rule(
        "target_gap",
        "utilisation",
        "Plan capacity for campaign peaks",
        "peak utilisation under target",
    ),
    Rule(
        "target_gap",
        "sla",
        "Review assignment and escalation of breaching groups",
        "SLA compliance to target",
    ),
    Rule(
        "target_gap",
        "time_to_resolve",
        "Run a problem review of the longest-running incidents",
        "time to resolve to target",
    ),
    Rule("target_gap", "csat", "Follow up low survey scores with the customers", "CSAT to target"),
    Rule(
        "trend",
        "incidents",
        "Investigate the drivers of the incident trend",
        "stop the incident growth",
        rising_only=True,
    ),
    Rule(
        "trend",
        "requests",
        "Revise the capacity plan for the load growth",
        "capacity ahead of demand",
        rising_only=True,
    ),
)

ACTION_COLUMNS = [
    "action_id",
    "title",
    "finding_id",
    "metric",
    "kpi",
    "expected",
    "owner",
    "due",
    "status",
]


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _fields(f: Finding) -> dict[str, str]:
    """The values a rule's text may name, formatted for a reader."""
    e, scope = f.evidence, f.scope
    fields = {"metric": f.metric, "events": str(scope.get("events", "the events"))}
    if f.effect is not None:
        fields["effect_text"] = (
            f"{100 * f.effect:+.0f} %" if f.unit == "fraction" else f"{f.effect:+,.3g} {f.unit}"
        )
    for key, name in (("value", "value"), ("date", "date"), ("crossing_date", "crossing")):
        if e.get(key) is not None:
            fields[name] = str(e[key]) if key == "value" else str(e[key])[:10]
    if e.get("threshold") is not None:
        fields["threshold_pct"] = f"{100 * float(e['threshold']):.0f}"
    for key in ("rate_ratio", "burn_rate"):
        if e.get(key) is not None:
            fields[key] = f"{float(e[key]):.2g}"
    return fields


def _subject(f: Finding) -> str:
    """What a rule's ``subject_contains`` is matched against: KPI, metric and dimension."""
    return " ".join(str(v) for v in (f.evidence.get("kpi") or f.metric, f.evidence.get("by")) if v)


def owners_of(card: pd.DataFrame) -> dict[str, str]:
    """KPI entry id and KPI library id → the owner of the objective the KPI serves.

    A library id measured by several entries takes the first entry's owner.
    """
    owners = {}
    for row in card[["kpi_id", "kpi", "owner"]].itertuples(index=False):
        owners.setdefault(str(row.kpi), row.owner)
        owners[str(row.kpi_id)] = row.owner
    return owners


def _kpi_of(f: Finding) -> str:
    """The KPI an action on ``f`` should move: the one it names, else the first it bears on."""
    linked = f.evidence.get("linked_kpis") or [""]
    return str(f.evidence.get("kpi") or linked[0])


def recommend_actions(
    findings: list[Finding], *, owners: dict[str, str], cycle_end: date, cycle_id: str
) -> pd.DataFrame:
    """Candidate actions for the findings, one per distinct action title.

    Args:
        findings: ranked findings of step 5 (no-finding records are skipped, and so
            are findings of severity low or info: good news needs no action).
        owners: KPI entry id or KPI library id → owner (:func:`owners_of`).
        cycle_end: the cycle's last day; actions are due 30 days later.
        cycle_id: prefix of the action ids.

    A rule marked ``rising_only`` skips a falling effect. A target gap that no rule
    names gets a generic action for its KPI, so every gap has an owner and a due date.
    """
    rows: dict[str, dict] = {}

    def add(title: str, f: Finding, expected: str, kpi: str) -> None:
        rows[title] = {
            "action_id": f"{cycle_id}-a{len(rows) + 1}",
            "title": title,
            "finding_id": f.id,
            "metric": f.metric,
            "kpi": kpi,
            "expected": expected,
            "owner": owners.get(f.metric) or owners.get(kpi, ""),
            "due": (cycle_end + timedelta(days=30)).isoformat(),
            "status": "proposed",
        }

    for f in findings:
        if not f.is_finding or f.severity in ("low", "info"):
            continue
        subject = _subject(f)
        matched = [
            r
            for r in RULES
            if f.kind == r.kind
            and r.subject_contains in subject
            and not (r.rising_only and (f.effect or 0) <= 0)
            and (not r.scope_key or r.scope_key in f.scope)
        ]
        fields = _Blank(_fields(f))
        for rule in matched:
            title = rule.title.format_map(fields)
            if title not in rows:
                add(title, f, rule.expected.format_map(fields), rule.kpi or _kpi_of(f))
        if not matched and f.kind == "target_gap":
            kpi = str(f.evidence.get("kpi") or "")
            add(
                f"Find and remove the causes of the {f.metric} gap", f, f"{f.metric} to target", kpi
            )
    return pd.DataFrame(list(rows.values()), columns=ACTION_COLUMNS)


RECOMMENDATION_COLUMNS = {
    "title": "Action",
    "kpi": "KPI it should move",
    "expected": "Expected improvement",
    "owner": "Owner",
    "due": "Due",
}


def recommendations(
    findings: list[Finding], card: pd.DataFrame, *, cycle_end: date, cycle_id: str
) -> pd.DataFrame:
    """The action plan of a cycle: :func:`recommend_actions` with the owners of the scorecard.

    Step 6 shows it in the report and step 7 puts it into the CSI register, from the
    same findings, so the two never disagree.
    """
    owners = owners_of(card)
    return recommend_actions(findings, owners=owners, cycle_end=cycle_end, cycle_id=cycle_id)
