"""Step 7: findings become candidate actions by rule."""

from __future__ import annotations

from datetime import date

import pytest

from csi_helpers.actions import recommend_actions, review_previous_actions
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


def test_review_compares_each_earlier_action_with_its_kpi():
    import pandas as pd

    earlier = actions_for(finding("target_gap", "downtime", 500.0, "high"))
    card = pd.DataFrame(
        {"kpi_id": ["downtime"], "previous": [566.7], "actual": [283.4], "direction": ["lower"]}
    )
    review = review_previous_actions(earlier, card)
    assert review.loc[0, "change_pct"] == pytest.approx(-49.99, abs=0.01)
    assert bool(review.loc[0, "improved"])
