"""Severity follows the KPI targets a finding bears on."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from csi_helpers.analysis import Finding, no_finding
from csi_helpers.analysis.severity import assess

CARD = pd.DataFrame(
    {
        "kpi": ["latency_p95", "peak_utilisation", "sla_compliance", "sla_compliance"],
        "status": ["green", "red", "amber", "green"],
    }
)


def finding(kind: str, effect: float | None, severity: str = "medium", **evidence) -> Finding:
    return Finding(
        id=f"{kind}:m",
        kind=kind,
        statement="s",
        metric="m",
        method="x",
        severity=severity,
        effect=effect,
        evidence=evidence,
    )


@pytest.mark.parametrize(
    ("kind", "effect", "series", "expected"),
    [
        ("trend", +5.0, "requests", "high"),  # more load, utilisation KPI red
        ("trend", -5.0, "requests", "low"),  # less load is good news
        ("trend", +5.0, "latency_p95_ms", "medium"),  # worse, but latency is green
        ("change_point", -50.0, "latency_p95_ms", "low"),
        ("event_impact", +0.4, "requests", "high"),
        ("concentration", +3.0, "breached", "medium"),  # worst linked SLA KPI is amber
        ("anomaly", -10.0, "requests", "high"),  # a dip is still an anomaly on a red KPI
        ("trend", +5.0, "not_linked", "medium"),  # no target to judge by: a warning
    ],
)
def test_worsening_findings_rank_by_the_linked_kpis_status(kind, effect, series, expected):
    assessed = assess(finding(kind, effect), CARD, series=series)
    assert assessed.severity == expected
    assert (
        assessed.evidence["linked_status"]
        == {
            "requests": "red",
            "latency_p95_ms": "green",
            "breached": "amber",
            "not_linked": None,
        }[series]
    )


def test_gaps_take_their_rag_colour_and_self_judged_kinds_keep_theirs():
    red_gap = finding("target_gap", 10.0, "medium", status="red")
    assert assess(red_gap, CARD).severity == "high"
    green = finding("baseline", -1.0, "medium", status="green")
    assert assess(green, CARD).severity == "low"
    budget = finding("error_budget", None, "info")
    assert assess(budget, CARD, series="latency_p95_ms").severity == "info"


def test_no_finding_passes_through_unchanged():
    quiet = no_finding(analysis="trend", metric="m", reason="too_short", detail="d", method="x")
    assert assess(quiet, CARD) is quiet


def test_original_finding_is_not_changed():
    original = finding("trend", +5.0)
    assess(original, CARD, series="requests")
    assert original.severity == "medium" and "linked_status" not in original.evidence
    assert dataclasses.asdict(original)["evidence"] == {}
