"""Issues from findings: the chain and the hours link them (issue 15 point 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import Finding
from csi_helpers.analysis.synthesis import build_issues, node_of

CARD = pd.DataFrame(
    {
        "kpi_id": ["downtime", "latency-budget", "sla", "csat"],
        "kpi": ["downtime_minutes", "error_budget_remaining", "sla_compliance", "csat_mean"],
    }
)
HOURS = pd.date_range("2026-04-01", periods=24 * 14, freq="h", tz="UTC")
EVENTS = pd.DataFrame({"start": [HOURS[18], HOURS[24 * 7 + 18]]}).assign(
    end=lambda t: t["start"] + pd.Timedelta(hours=5)
)


def finding(kind: str, metric: str, *, severity: str = "high", **extra) -> Finding:
    evidence = extra.pop("evidence", {})
    return Finding(
        id=f"{kind}:{metric}", kind=kind, statement=f"{metric} {kind} statement",
        metric=metric, method="test", severity=severity, evidence=evidence,
        p_value=extra.pop("p_value", 0.001),
        effect=extra.pop("effect", 0.4), **extra,
    )  # fmt: skip


def hourly(downtime_in_events: float, downtime_elsewhere: float) -> pd.DataFrame:
    """Utilisation 50 % but 90 % in the event hours; downtime spread over both."""
    inside = np.zeros(len(HOURS), dtype=bool)
    for start, end in zip(EVENTS["start"], EVENTS["end"], strict=True):
        inside |= (start <= HOURS) & (end > HOURS)
    down = np.where(inside, downtime_in_events / inside.sum(), downtime_elsewhere / (~inside).sum())
    return pd.DataFrame(
        {"hour": HOURS, "peak_utilisation": np.where(inside, 0.9, 0.5), "downtime_min": down}
    )


CAPACITY = [
    finding("capacity_threshold", "p95 latency", evidence={"threshold": 0.751, "y": "latency"}),
    finding("event_impact", "p95 latency", effect=0.13, evidence={"n_events": 2},
            scope={"events": "campaigns"}),
    finding("event_impact", "error rate", effect=0.5, evidence={"n_events": 2},
            scope={"events": "campaigns"}),
    finding("error_budget", "p95 latency ≤ 300 ms", evidence={"consumption_pct": 266.0}),
    finding("target_gap", "downtime", evidence={"kpi": "downtime_minutes"}, p_value=None),
]  # fmt: skip
TICKETS = [
    finding("concentration", "breached", effect=3.0),
    finding("target_gap", "sla", evidence={"kpi": "sla_compliance"}, p_value=None),
]


def test_the_capacity_chain_is_one_issue_with_downtime_in_its_hours():
    issues = build_issues(CAPACITY + TICKETS, CARD, hourly=hourly(300, 100), events=EVENTS)
    capacity = next(i for i in issues if i.id == "issue:capacity")
    assert set(capacity.findings) == {f.id for f in CAPACITY}
    assert capacity.headline == (
        "On the 2 campaign days load passes the 75.1 % utilisation knee: latency and errors rise "
        "(latency +13 %, errors +50 % during the campaigns), the latency budget is spent "
        "(266 % of it used) and 300 of the 400 downtime minutes fall in those hours."
    )
    assert capacity.unexplained.startswith("100 of the 400 downtime minutes fall outside")
    assert "downtime" in capacity.kpis
    handling = next(i for i in issues if i.id == "issue:ticket-handling")
    assert set(handling.findings) == {f.id for f in TICKETS}


def test_downtime_mostly_outside_the_hot_hours_stays_an_issue_of_its_own():
    issues = build_issues(CAPACITY, CARD, hourly=hourly(100, 300), events=EVENTS)
    capacity = next(i for i in issues if i.id == "issue:capacity")
    assert "target_gap:downtime" not in capacity.findings
    assert "downtime minutes" not in capacity.headline
    assert any(i.findings == ["target_gap:downtime"] for i in issues)


def test_an_anomaly_joins_the_capacity_issue_only_when_its_hours_are_hot():
    """Episodes are linked by time: one inside a campaign evening joins; one at 3 a.m.
    on a quiet day (utilisation 50 %, no event) stays an issue of its own, and the
    capacity issue says it leaves it unexplained."""
    at = lambda hour: {"start": str(HOURS[hour]), "end": str(HOURS[hour + 1])}  # noqa: E731
    evening = finding("anomaly", "p95 latency", evidence={"episodes": [at(24 * 7 + 19)]})
    night = finding("anomaly", "error rate", evidence={"episodes": [at(24 * 3 + 3)]})
    issues = build_issues([*CAPACITY, evening, night], CARD, hourly=hourly(300, 100), events=EVENTS)
    capacity = next(i for i in issues if i.id == "issue:capacity")
    assert evening.id in capacity.findings and night.id not in capacity.findings
    assert any(i.findings == [night.id] for i in issues)
    assert "1 anomaly finding(s) of error rate fall outside the hot hours" in capacity.unexplained
    # without the hourly series nothing says which hours are hot: the chain alone links
    blind = build_issues([*CAPACITY, night], CARD)
    assert night.id in next(i for i in blind if i.id == "issue:capacity").findings


def test_without_a_knee_or_a_cause_the_findings_stay_single():
    alone = CAPACITY[1:] + TICKETS[1:]
    issues = build_issues(alone, CARD, hourly=hourly(300, 100), events=EVENTS)
    assert all(i.id != "issue:capacity" and i.id != "issue:ticket-handling" for i in issues)
    assert sum(len(i.findings) for i in issues) == len(alone)


def test_good_news_and_no_findings_make_no_issue():
    good = finding("change_point", "daily peak utilisation", severity="low")
    assert build_issues([good], CARD) == []
    assert build_issues([], CARD) == []


def test_findings_sit_on_the_chain_by_their_kpi_or_words():
    assert node_of(finding("trend", "daily requests")) == "load"
    assert node_of(finding("target_gap", "x", evidence={"kpi": "availability"})) == "downtime"
    assert node_of(finding("concentration", "breached")) == "sla"
    assert node_of(finding("trend", "weekly mean time to resolve")) == "tickets"


def test_an_issue_takes_its_costliest_kpis_money_never_the_sum_and_ranks_by_it():
    """Downtime and availability price the same outages: the issue takes the larger amount.
    A medium issue with money comes before a high one without."""
    from csi_helpers.analysis.synthesis import Issue, price_issues

    outages = Issue("issue:a", "outages", "medium", "high", ["downtime", "availability"], ["f1"])
    tickets = Issue("issue:b", "tickets", "high", "high", ["csat"], ["f2", "f3"])
    impact = pd.DataFrame(
        {
            "kpi_id": ["downtime", "availability"],
            "amount": [50_756.0, 48_000.0],
            "currency": ["EUR", "EUR"],
            "formula": ["283.4 min × …", "…"],
        }
    )
    ranked = price_issues([tickets, outages], impact)
    assert [i.id for i in ranked] == ["issue:a", "issue:b"]
    assert ranked[0].numbers["money"]["amount"] == 50_756.0
    assert ranked[0].numbers["money"]["kpi_id"] == "downtime"
    assert "money" not in ranked[1].numbers
    unpriced = Issue("issue:a", "outages", "medium", "high", ["downtime"], ["f1"])
    assert [i.id for i in price_issues([unpriced, tickets], None)] == ["issue:b", "issue:a"]


def test_the_ticket_issue_is_named_after_the_value_that_explains_most_breaches():
    """A priority holding 4.5 % of breaches at a high rate ratio (effect 3.0, 20 excess
    breaches) against a group holding 60 % (effect 2.0, 900 excess): the group heads."""
    small = finding("concentration", "breached", effect=3.0, evidence={"excess": 20.0})
    small = Finding(
        **{**small.__dict__, "id": "c:priority", "statement": "2 - High (priority) holds 4.5 %"}
    )
    large = finding("concentration", "breached", effect=2.0, evidence={"excess": 900.0})
    large = Finding(
        **{**large.__dict__, "id": "c:group", "statement": "Group 10 (group) holds 60 %"}
    )
    [issue] = [i for i in build_issues([small, large, *TICKETS[1:]], CARD) if "handling" in i.id]
    assert issue.headline.startswith("Group 10 holds 60 %")
