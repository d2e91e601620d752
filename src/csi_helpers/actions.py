"""Step 7: findings → candidate improvement actions, and the review of earlier actions.

Rules map a finding kind (and the metric it is about) to an action with the
KPI it should move. The register with its lifecycle arrives with step 7's
full version; this module gives the action list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from csi_helpers.analysis import Finding


@dataclass(frozen=True)
class Rule:
    kind: str
    metric_contains: str  # "" matches any metric
    title: str
    expected: str
    rising_only: bool = False  # a trend rule that applies only when the metric grows


RULES: tuple[Rule, ...] = (
    Rule(
        "capacity_threshold",
        "latency",
        "Add capacity before campaigns so peak utilisation stays below the latency threshold",
        "p95 latency back under target at peak",
    ),
    Rule(
        "target_gap",
        "availability",
        "Stagger campaigns away from the Friday-evening peak and add capacity",
        "halve downtime minutes",
    ),
    Rule(
        "target_gap",
        "downtime",
        "Stagger campaigns away from the Friday-evening peak and add capacity",
        "halve downtime minutes",
    ),
    Rule(
        "target_gap",
        "latency",
        "Tune or scale the web tier for peak hours",
        "p95 latency under target",
    ),
    Rule(
        "target_gap",
        "peak-utilisation",
        "Plan capacity for campaign peaks",
        "peak utilisation under 75 %",
    ),
    Rule(
        "target_gap",
        "sla",
        "Review assignment and escalation of breaching groups",
        "SLA compliance to target",
    ),
    Rule(
        "target_gap",
        "mttr",
        "Run a problem review of the longest-running incidents",
        "MTTR to target",
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
    "expected",
    "owner",
    "due",
    "status",
]


def recommend_actions(
    findings: list[Finding], *, owners: dict[str, str], cycle_end: date, cycle_id: str
) -> pd.DataFrame:
    """Candidate actions for the findings, one per distinct action title.

    Args:
        findings: ranked findings of step 5 (no-finding records are skipped).
        owners: KPI entry id → owner (the objective's owner).
        cycle_end: the cycle's last day; actions are due 30 days later.
        cycle_id: prefix of the action ids.

    A trend rule marked ``rising_only`` skips a falling trend. A target gap that no
    rule names (a KPI entry id the rules do not know) gets a generic action for its
    KPI, so every gap has an owner and a due date.
    """
    rows: dict[str, dict] = {}

    def add(title: str, f: Finding, expected: str) -> None:
        rows[title] = {
            "action_id": f"{cycle_id}-a{len(rows) + 1}",
            "title": title,
            "finding_id": f.id,
            "metric": f.metric,
            "expected": expected,
            "owner": owners.get(f.metric, ""),
            "due": (cycle_end + timedelta(days=30)).isoformat(),
            "status": "proposed",
        }

    for f in findings:
        if not f.is_finding:
            continue
        matched = [r for r in RULES if f.kind == r.kind and r.metric_contains in f.metric]
        matched = [r for r in matched if not (r.rising_only and (f.effect or 0) <= 0)]
        for rule in matched:
            if rule.title not in rows:
                add(rule.title, f, rule.expected)
        if not matched and f.kind == "target_gap":
            add(f"Find and remove the causes of the {f.metric} gap", f, f"{f.metric} to target")
    return pd.DataFrame(list(rows.values()), columns=ACTION_COLUMNS)


def review_previous_actions(previous: pd.DataFrame, card: pd.DataFrame) -> pd.DataFrame:
    """Earlier actions beside their KPI's value then and now (a first, untested comparison)."""
    if previous.empty:
        return previous.assign(before=[], after=[], change_pct=[], improved=[])
    kpis = card.set_index("kpi_id")
    before = previous["metric"].map(kpis["previous"])
    after = previous["metric"].map(kpis["actual"])
    better = previous["metric"].map(kpis["direction"])
    change = 100 * (after - before) / before.abs()
    improved = [
        None if pd.isna(c) else (c > 0) == (d == "higher")
        for c, d in zip(change, better, strict=True)
    ]
    return previous.assign(before=before, after=after, change_pct=change, improved=improved)
