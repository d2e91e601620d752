"""Step 7: findings become candidate actions by rule."""

from __future__ import annotations

from datetime import date

from csi_helpers.actions import recommend_actions
from csi_helpers.analysis import Finding


def finding(kind: str, metric: str, effect: float, severity: str = "medium") -> Finding:
    return Finding(
        id=f"{kind}:{metric}",
        kind=kind,
        statement="s",
        metric=metric,
        method="m",
        severity=severity,
        effect=effect,
    )


def actions_for(*findings: Finding):
    return recommend_actions(
        list(findings),
        owners={"downtime": "Head of E-commerce"},
        cycle_end=date(2026, 6, 30),
        cycle_id="q2",
    )


def test_rules_map_findings_to_owned_dated_actions():
    plan = actions_for(finding("target_gap", "downtime", 500.0, "high"))
    assert plan["title"].str.startswith("Stagger campaigns").tolist() == [True]
    assert plan.loc[0, "owner"] == "Head of E-commerce" and plan.loc[0, "due"] == "2026-07-30"
    assert plan.loc[0, "action_id"] == "q2-a1" and plan.loc[0, "status"] == "proposed"


def test_growth_rules_ignore_a_falling_trend():
    assert actions_for(finding("trend", "daily incidents", -3.0)).empty
    rising = actions_for(finding("trend", "daily incidents", +3.0))
    assert rising["title"].tolist() == ["Investigate the drivers of the incident trend"]


def test_a_gap_no_rule_knows_still_gets_an_action():
    plan = actions_for(finding("target_gap", "cpu-hours", 12.0))
    assert plan["title"].tolist() == ["Find and remove the causes of the cpu-hours gap"]


def test_analytical_findings_map_to_actions_that_name_their_evidence():
    crowded = Finding(
        id="concentration:breached@by=assignment_group&value=Web Platform",
        kind="concentration",
        statement="s",
        metric="breached",
        method="m",
        severity="high",
        effect=3.4,
        evidence={"value": "Web Platform", "rate_ratio": 3.36, "by": "assignment_group"},
    )
    campaigns = Finding(
        id="event_impact:downtime minutes@events=campaigns",
        kind="event_impact",
        statement="s",
        metric="downtime minutes",
        method="m",
        severity="high",
        effect=0.64,
        unit="min/h",
        scope={"events": "campaigns"},
    )
    runway = Finding(
        id="capacity_forecast:peak load",
        kind="capacity_forecast",
        statement="s",
        metric="peak load",
        method="m",
        severity="medium",
        effect=60.0,
        evidence={"crossing_date": "2026-11-29"},
    )
    plan = actions_for(crowded, campaigns, runway).set_index("title")
    rebalance = plan.loc[
        "Rebalance Web Platform: review its staffing, skills and routing of breaching tickets"
    ]
    assert (
        rebalance["expected"] == "Web Platform's breach rate down to the rest's (now 3.4× as high)"
    )
    assert rebalance["kpi"] == "sla_compliance"
    stagger = plan.loc[
        "Stagger campaigns away from the evening peak and add capacity before each one"
    ]
    assert "+0.64 min/h above it" in stagger["expected"] and stagger["kpi"] == "downtime_minutes"
    assert plan.loc["Plan a capacity increase before 2026-11-29", "kpi"] == "peak_utilisation"


def test_good_news_and_improving_effects_get_no_action():
    improved = finding("change_point", "daily p95 latency", -200.0, "low")
    fell = finding("event_impact", "downtime minutes", -0.5, "medium")  # rising_only rule
    assert actions_for(improved, fell).empty


def test_every_action_gets_the_kpi_it_bears_on_and_that_kpis_owner():
    import pandas as pd

    from csi_helpers.actions import owners_of

    card = pd.DataFrame(
        {
            "kpi_id": ["sla", "p1-sla", "peak"],
            "kpi": ["sla_compliance", "sla_compliance", "peak_utilisation"],
            "owner": ["Ops manager", "Desk lead", "Head of E-commerce"],
        }
    )
    owners = owners_of(card)
    assert owners["sla_compliance"] == "Ops manager" and owners["p1-sla"] == "Desk lead"
    spike = Finding(
        id="anomaly:load", kind="anomaly", statement="s", metric="request load", method="m",
        severity="medium", effect=0.5, evidence={"linked_kpis": ["peak_utilisation"]},
    )  # fmt: skip
    crowded = Finding(
        id="concentration:breached", kind="concentration", statement="s", metric="breached",
        method="m", severity="high", effect=3.4,
        evidence={"value": "Web Platform", "by": "assignment_group",
                  "linked_kpis": ["sla_compliance"]},
    )  # fmt: skip
    plan = recommend_actions(
        [spike, crowded], owners=owners, cycle_end=date(2026, 6, 30), cycle_id="q2"
    )
    assert plan.set_index("metric")["kpi"].to_dict() == {
        "request load": "peak_utilisation",
        "breached": "sla_compliance",
    }
    assert plan.set_index("metric")["owner"].to_dict() == {
        "request load": "Head of E-commerce",
        "breached": "Ops manager",
    }
