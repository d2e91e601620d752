"""The report's story: tiles, plain words, one section per issue (issue 16 point 1)."""

from __future__ import annotations

import pandas as pd

from csi_helpers.analysis.findings import Finding
from csi_helpers.analysis.story import issue_sections, plain, status_counts

CARD = pd.DataFrame(
    {
        "kpi_id": ["downtime", "sla", "csat"],
        "kpi_name": ["Downtime", "SLA compliance", "Customer satisfaction"],
        "status": ["red", "amber", "green"],
        "actual": [241.8, 81.2, 4.3],
        "previous": [483.7, 78.0, 3.9],
        "target": [60.0, 90.0, 4.2],
        "amber": [120.0, 80.0, 4.0],
        "direction": ["lower", "higher", "higher"],
    }
)


def finding(name: str, kind: str, *, figure: str | None = None, metric: str = "m") -> Finding:
    return Finding(
        id=f"{kind}:{name}", kind=kind, statement=f"{name} statement", metric=metric,
        method="test", severity="high", figure=figure,
    )  # fmt: skip


def test_status_counts_hold_the_previous_cycle_against_this_cycles_targets():
    """Previous values: downtime 483.7 (red past 120), SLA 78.0 (red below 80), CSAT 3.9
    (red below 4.0): now one red, one amber, one green; then three red."""
    assert status_counts(CARD) == {
        "green": (1, 0), "amber": (1, 0), "red": (1, 3), "grey": (0, 0),
    }  # fmt: skip
    fresh = CARD.assign(previous=float("nan"))
    assert status_counts(fresh)["red"] == (1, None)


def test_plain_words_keep_the_news_and_leave_statistics_to_the_appendix():
    assert (
        plain(
            "error rate rises once utilisation passes 74.8 % (95 % CI 73.6 % to 75.9 %): "
            "slope 0.078 % per point (p < 0.001)"
        )
        == "error rate rises once utilisation passes 74.8 %: slope 0.078 % per point"
    )
    assert plain("Downtime is 242 min against a target of 60 min (red).") == (
        "Downtime is 242 min against a target of 60 min (red)."
    )


def test_sections_show_each_chart_once_and_name_the_action_or_the_register_entry():
    knee = finding("knee", "capacity_threshold", figure="analyse/figures/knee.png")
    gap = finding("downtime", "target_gap", metric="downtime")
    again = finding("knee2", "event_impact", figure="analyse/figures/knee.png")
    other = finding("group", "concentration", figure="analyse/figures/group.png")
    issues = [
        {"id": "issue:capacity", "headline": "h1", "findings": [gap.id, knee.id],
         "kpis": ["downtime"]},
        {"id": "issue:x", "headline": "h2", "findings": [again.id, other.id], "kpis": ["sla"]},
        {"id": "issue:y", "headline": "h3", "findings": [], "kpis": ["csat"]},
    ]  # fmt: skip
    plan = pd.DataFrame([{"issue_id": "issue:x", "title": "Rebalance", "owner": "Ops", "due": "d"}])
    entries = pd.DataFrame([{"title": "Stagger", "kpi_id": "downtime", "status": "in_progress"}])
    sections = issue_sections(issues, [knee, gap, again, other], plan, CARD, entries=entries)
    assert [s.title for s in sections] == ["Capacity at the peak", "M", "h3"]
    assert sections[0].chart is knee and sections[1].chart is other  # the knee chart once
    assert sections[0].action is None and sections[0].in_hand["title"] == "Stagger"
    assert sections[1].action["title"] == "Rebalance" and sections[1].in_hand is None
    assert sections[2].in_hand is None and sections[2].chart is None


def test_an_entry_on_the_headlines_finding_is_shown_beside_a_further_proposal():
    """The demo's Q3: Web Platform heads the ticket-handling issue, and rebalancing it was
    proposed in Q2; this cycle proposes a problem review of Performance tickets. The report
    says both, the register's entry first, rather than the new proposal alone under a
    headline about Web Platform."""
    from csi_helpers.steps.story import _action_words

    group = finding("concentration:group", "concentration")
    issue = {
        "id": "issue:ticket-handling", "headline": "Web Platform holds 60 % of SLA breaches",
        "findings": [group.id], "kpis": ["sla"], "numbers": {"lead": group.id},
    }  # fmt: skip
    entries = pd.DataFrame(
        [
            {"title": "Other", "kpi_id": "sla", "status": "in_progress", "finding_id": "x"},
            {"title": "Rebalance Web Platform", "kpi_id": "sla", "status": "proposed",
             "finding_id": group.id, "created_run_id": "web-2026q2"},
        ]
    )  # fmt: skip
    plan = pd.DataFrame(
        [{"issue_id": issue["id"], "title": "Review Performance", "owner": "Ops", "due": "d"}]
    )
    [section] = issue_sections([issue], [group], plan, CARD, entries=entries)
    assert section.in_hand["title"] == "Rebalance Web Platform"
    assert _action_words(section) == (
        "*In hand:* Rebalance Web Platform (proposed in web-2026q2, not started yet, in the "
        "CSI register). "
        "*Also proposed:* Review Performance (due d, Ops)."
    )
    [elsewhere] = issue_sections([{**issue, "numbers": {}}], [group], plan, CARD, entries=entries)
    assert elsewhere.in_hand["title"] == "Other"  # no lead: the entry in progress
    [alone] = issue_sections([issue], [group], plan, CARD)
    assert _action_words(alone) == "*Proposed:* Review Performance (due d, Ops)."
