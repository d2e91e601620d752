"""Step 6 helpers: which findings reach the manager, and the summary sentences."""

from __future__ import annotations

import pandas as pd

from csi_helpers.analysis import Finding
from csi_helpers.present import executive_summary, key_findings, table


def finding(fid: str, kind: str, severity: str) -> Finding:
    return Finding(
        id=fid, kind=kind, statement=f"statement {fid}", metric="m", method="x", severity=severity
    )


FINDINGS = [
    finding("gap-red", "target_gap", "high"),
    finding("gap-amber", "target_gap", "medium"),
    finding("trend", "trend", "medium"),
    finding("good-news", "change_point", "low"),
    finding("green", "baseline", "low"),
    finding("none", "no_finding", "info"),
]


def test_key_findings_keep_red_gaps_and_bad_news_but_not_amber_gaps_or_good_news():
    assert [f.id for f in key_findings(FINDINGS)] == ["gap-red", "trend"]


def test_summary_counts_statuses_then_quotes_key_findings():
    card = pd.DataFrame({"status": ["green", "amber", "red", "grey"]})
    assert executive_summary(card, FINDINGS) == [
        "1 of 3 measured KPIs meet their target; 1 are amber and 1 red. "
        "1 cannot be measured with the current data.",
        "statement gap-red",
        "statement trend",
    ]


def test_empty_table_becomes_a_sentence_and_text_is_left_aligned():
    assert table(pd.DataFrame(), empty="Nothing to show.").data == "Nothing to show."
    html = table(pd.DataFrame({"kpi": ["a<b>"], "value": [1.5]})).to_html()
    assert "text-align: left" in html and "1.50" in html
    assert "a&lt;b&gt;" in html and "a<b>" not in html


def test_scorecard_colours_status_and_escapes_notes():
    from csi_helpers.present import styled_scorecard

    card = pd.DataFrame(
        {
            "kpi_name": ["MTTR"],
            "target": [12.0],
            "actual": [24.6],
            "previous": [25.0],
            "trend": ["down"],
            "status": ["red"],
            "unit": ["h"],
            "note": ["<b>11</b> unresolved"],
        }
    )
    html = styled_scorecard(card).to_html()
    assert "background-color: #c62828" in html and "text-align: left" in html
    assert "&lt;b&gt;11&lt;/b&gt; unresolved" in html and "▼" in html


def test_key_findings_keep_at_most_two_of_a_kind():
    many = [finding(f"a{i}", "anomaly", "high") for i in range(5)] + [
        finding("t", "trend", "medium")
    ]
    assert [f.id for f in key_findings(many)] == ["a0", "a1", "t"]
