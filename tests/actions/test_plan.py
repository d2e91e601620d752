"""The action plan from issues: one action per issue, few, none that should not be there
(issue 15 point 3)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd

from csi_helpers.actions.plan import plan_actions
from csi_helpers.actions.rules import STAGGER
from csi_helpers.analysis.findings import Finding, no_finding
from csi_helpers.register.sync import proposed_entries

CARD = pd.DataFrame(
    {
        "kpi_id": ["downtime", "latency-p95", "sla", "peak-utilisation"],
        "kpi": ["downtime_minutes", "latency_p95", "sla_compliance", "peak_utilisation"],
        "status": ["red", "green", "red", "amber"],
        "owner": ["Head of E-commerce", "Ops", "IT Ops", "Ops"],
        "target": [60.0, 300.0, 90.0, 75.0],
        "actual": [566.7, 193.4, 77.8, 80.0],
        "direction": ["lower", "lower", "higher", "lower"],
    }
)
CYCLE = {"cycle_start": date(2026, 4, 1), "cycle_end": date(2026, 6, 30), "cycle_id": "2026q2"}


def finding(kind: str, metric: str, *, severity: str = "high", **fields) -> Finding:
    return Finding(
        id=f"{kind}:{metric}", kind=kind, statement=f"{metric} {kind}", metric=metric,
        method="test", severity=severity, **fields,
    )  # fmt: skip


LATENCY_DURING = finding(
    "event_impact", "p95 latency", effect=0.13, scope={"events": "campaigns"}, unit="fraction"
)
DOWNTIME_GAP = finding("target_gap", "downtime", evidence={"kpi": "downtime_minutes"})
KNEE = finding("capacity_threshold", "p95 latency", evidence={"threshold": 0.75})
GROUP = finding(
    "concentration", "breached", evidence={"by": "assignment_group", "value": "Web Platform",
                                           "rate_ratio": 3.7},
)  # fmt: skip


def issue(name: str, *members: Finding) -> dict:
    return {"id": f"issue:{name}", "findings": [f.id for f in members]}


def plan(findings, issues, **options) -> pd.DataFrame:
    return plan_actions(findings, issues, CARD, **CYCLE, **options)


def test_one_action_per_issue_in_the_issues_order_and_no_more_than_the_limit():
    findings = [LATENCY_DURING, DOWNTIME_GAP, KNEE, GROUP]
    issues = [issue("capacity", LATENCY_DURING, DOWNTIME_GAP, KNEE), issue("handling", GROUP)]
    full = plan(findings, issues)
    assert full["issue_id"].tolist() == ["issue:capacity", "issue:handling"]
    assert full["action_id"].tolist() == ["2026q2-a1", "2026q2-a2"]
    assert plan(findings, issues, limit=1)["issue_id"].tolist() == ["issue:capacity"]


def test_an_issue_takes_the_action_that_moves_its_red_kpi():
    """The campaign action is matched by the latency effect (green KPI) and by the
    downtime gap (red KPI): the plan attaches it to downtime, the KPI it has to move."""
    issues = [issue("c", LATENCY_DURING, DOWNTIME_GAP)]
    [action] = plan([LATENCY_DURING, DOWNTIME_GAP], issues).itertuples()
    assert action.title == STAGGER and action.kpi == "downtime_minutes"
    assert action.expected_change == -0.5  # "halve downtime minutes", as a number to review
    assert action.owner == "Head of E-commerce" and action.due == "2026-07-30"


def test_no_action_repeats_one_open_or_verified_in_the_register():
    issues = [issue("c", LATENCY_DURING, DOWNTIME_GAP, KNEE)]
    [action] = plan([LATENCY_DURING, DOWNTIME_GAP, KNEE], issues, taken={STAGGER}).itertuples()
    assert action.title.startswith("Add capacity before campaigns")


def test_no_action_from_an_anomaly_or_an_earlier_cycles_change_point():
    anomaly = finding("anomaly", "request load", effect=-5000.0)
    earlier = finding(
        "change_point", "daily incidents", effect=3.0, evidence={"date": "2026-03-20"}
    )
    now = finding("change_point", "daily errors", effect=3.0, evidence={"date": "2026-05-20"})
    issues = [issue("a", anomaly), issue("e", earlier), issue("n", now)]
    assert plan([anomaly, earlier, now], issues)["issue_id"].tolist() == ["issue:n"]


def test_no_capacity_planning_that_the_forecast_contradicts():
    growth = finding("trend", "daily requests", effect=200.0)
    stays_below = finding("capacity_forecast", "peak load", evidence={"crossing_date": None})
    reaches = finding("capacity_forecast", "peak load", evidence={"crossing_date": "2026-10-02"})
    assert plan([growth, stays_below], [issue("g", growth)]).empty
    [action] = plan([growth, reaches], [issue("g", growth)]).itertuples()
    assert action.title == "Revise the capacity plan for the load growth"
    gone = no_finding(analysis="capacity_forecast", metric="peak load", reason="no_crossing",
                      detail="stays below", method="m")  # fmt: skip
    assert plan([growth, gone], [issue("g", growth)]).empty


def test_good_news_gets_no_action():
    better = finding("change_point", "daily errors", severity="low", effect=-3.0,
                     evidence={"date": "2026-05-20"})  # fmt: skip
    assert plan([better], [issue("b", better)]).empty


def test_a_target_no_better_than_the_baseline_is_not_given_to_an_action():
    """On a real export a KPI at 285 got an action with target 500 (lower is better): the
    register entry gets no target then, rather than one that the KPI already meets."""
    card = CARD.assign(actual=[40.0, 193.4, 77.8, 80.0])  # downtime 40 < target 60
    actions = pd.DataFrame(
        {"title": [STAGGER], "metric": ["downtime"], "kpi": ["downtime_minutes"]}
    )
    [row] = proposed_entries(actions, scorecard=card, run_id="r",
                             review_date=date(2026, 9, 30)).itertuples()  # fmt: skip
    assert row.base_value == 40.0 and row.target_value is None
    [row] = proposed_entries(actions, scorecard=CARD, run_id="r",
                             review_date=date(2026, 9, 30)).itertuples()  # fmt: skip
    assert row.target_value == 60.0


def test_an_action_on_a_knee_issue_says_how_much_capacity_it_needs():
    """Busiest hour at 107.6 % of capacity, knee at 75.1 %: capacity ×1.43 (107.6 / 75.1)."""
    card = CARD.assign(actual=[566.7, 193.4, 77.8, 107.6])
    knee_issue = issue("capacity", DOWNTIME_GAP) | {"numbers": {"knee_pct": 75.1}}
    [action] = plan_actions(
        [DOWNTIME_GAP], [knee_issue], card, **CYCLE
    ).itertuples()  # fmt: skip
    assert action.expected == (
        "halve downtime minutes; estimate: the busiest hour ran at 107.6 % of capacity, so "
        "capacity ×1.43 or more (or that much less peak load) keeps it below the 75.1 % knee "
        "where latency and errors rise"
    )
    [plain] = plan([DOWNTIME_GAP], [issue("other", DOWNTIME_GAP)]).itertuples()
    assert plain.expected == "halve downtime minutes"


def test_an_action_on_a_concentration_says_what_the_rests_rate_would_give():
    """A group breaches at 40 % of its 300 tickets, the other 700 at 10 %: at the rest's
    rate the group would have had 90 fewer breaches, so SLA compliance 90 % instead of
    81 % (computed here from the tickets, by hand)."""
    import numpy as np

    from csi_helpers.analysis.concentration import pareto_findings

    rng = np.random.default_rng(0)
    group = np.array(["Web"] * 300 + [f"G{i}" for i in range(700)], dtype=object)
    group[300:] = rng.choice(["Desk", "Network", "Storage"], 700)
    breached = np.r_[np.arange(300) < 120, np.arange(700) < 70]
    tickets = pd.DataFrame({"assignment_group": group, "breached": breached})
    [found] = [f for f in pareto_findings(tickets, by=["assignment_group"]) if f.is_finding]
    rest = tickets.loc[tickets["assignment_group"] != "Web", "breached"].mean()
    fewer = 120 - 300 * rest
    compliance_then = 100 * (1 - (190 - fewer) / 1000)
    [action] = plan([found], [issue("handling", found)]).itertuples()
    assert f"would have had {fewer:,.0f} fewer of the 1,000 tickets breached" in action.expected
    assert action.expected.endswith(
        f"(SLA compliance {compliance_then:.1f} % instead of {100 * (1 - 0.19):.1f} %)"
    )


def test_the_action_acts_on_what_the_issues_headline_names():
    """A ticket-handling issue led by a category (its headline names Category 46) proposes
    for that category, not "Rebalance" the group another of its findings names (seen on the
    UCI log's sniffed report), and the other way round."""
    category = dataclasses.replace(
        finding("concentration", "breached",
                evidence={"by": "category", "value": "Category 46", "rate_ratio": 1.6}),
        id="concentration:breached:category",
    )  # fmt: skip
    led = {**issue("handling", GROUP, category), "numbers": {"lead": category.id}}
    [action] = plan([GROUP, category], [led]).itertuples()
    assert "Category 46" in action.title and action.finding_id == category.id
    led = {**issue("handling", category, GROUP), "numbers": {"lead": GROUP.id}}
    [action] = plan([GROUP, category], [led]).itertuples()
    assert action.title.startswith("Rebalance Web Platform") and action.finding_id == GROUP.id
