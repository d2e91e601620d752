"""Step 6 helpers: which findings reach the manager, and the summary sentences."""

from __future__ import annotations

import pandas as pd

from csi_helpers.analysis import Finding
from csi_helpers.analysis.summary import executive_summary, key_findings
from csi_helpers.report.tables import table


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
    assert "text-align: left" in html and ">1.5<" in html
    assert "a&lt;b&gt;" in html and "a<b>" not in html


def test_scorecard_colours_status_and_escapes_notes():
    from csi_helpers.report.tables import styled_scorecard

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


def test_tables_write_numbers_and_headers_for_people():
    """Counts whole, no exponent, snake_case headers in words (issue 16 point 2)."""
    frame = pd.DataFrame(
        {
            "source_rows": [65533.0, 2.0],
            "error_share": [24920.4, 0.0000123],
            "made_sla": [True, False],
        }
    )
    html = table(frame).to_html()
    assert ">65,533<" in html and "65,533.00" not in html
    assert ">24,920<" in html and ">0.0000123<" in html and "e+" not in html and "e-0" not in html
    assert ">Source rows<" in html and ">SLA met<" in html and "made_sla" not in html


def test_scorecard_puts_red_first_and_colours_the_change_by_the_kpis_direction():
    from csi_helpers.report.tables import styled_scorecard

    card = pd.DataFrame(
        {
            "objective": ["Sales", "Sales", "Sales", "Support"],
            "kpi_name": ["Availability", "Downtime", "SLA compliance", "CSAT"],
            "target": [99.9, 60.0, 90.0, 4.2],
            "actual": [99.82, 241.8, 81.15, 3.896],
            "previous": [99.63, 483.7, 78.05, 3.885],
            "direction": ["higher", "lower", "higher", "higher"],
            "status": ["amber", "red", "amber", "amber"],
            "unit": ["%", "min", "%", "score"],
            "note": ["", "", "", ""],
        }
    )
    html = styled_scorecard(card).to_html()
    order = [html.index(name) for name in ("Downtime", "Availability", "SLA compliance", "CSAT")]
    assert order == sorted(order)  # red first inside its objective, objectives kept
    assert "▼</span> -242 min (better)" in html  # downtime fell: good for a lower-is-better KPI
    assert "▲</span> +3.1 pp (better)" in html and "▶ unchanged" in html  # CSAT +0.01
    assert "242 min" in html and "99.8 %" in html and "e+" not in html


def test_key_findings_keep_at_most_two_of_a_kind():
    many = [finding(f"a{i}", "anomaly", "high") for i in range(5)] + [
        finding("t", "trend", "medium")
    ]
    assert [f.id for f in key_findings(many)] == ["a0", "a1", "t"]


def test_a_quiet_cycle_still_gets_three_sentences_naming_the_proposed_actions():
    card = pd.DataFrame({"status": ["green", "green"]})
    quiet = [finding("good-news", "change_point", "low")]
    none = pd.DataFrame(columns=["title"])
    assert executive_summary(card, quiet, actions=none) == [
        "2 of 2 measured KPIs meet their target; 0 are amber and 0 red.",
        "No analysis found a significant worsening in this cycle.",
        "No improvement action is proposed.",
    ]
    plan = pd.DataFrame({"title": ["Rebalance the queue", "Add capacity"]})
    summary = executive_summary(card, FINDINGS, actions=plan)
    assert 3 <= len(summary) <= 5
    assert summary[-1] == "2 improvement actions are proposed, first: Rebalance the queue."


def test_recommendations_are_step_7s_actions_for_the_same_findings():
    from datetime import date

    from csi_helpers.actions import recommend_actions, recommendations

    card = pd.DataFrame({"kpi_id": ["m"], "kpi": ["mttr"], "owner": ["Ops lead"]})
    gap = Finding(
        id="gap:m", kind="target_gap", statement="m is red", metric="m", method="x",
        severity="high", scope={"kpi": "m"},
    )  # fmt: skip
    shown = recommendations([gap], card, cycle_end=date(2026, 6, 30), cycle_id="q2")
    expected = recommend_actions(
        [gap], owners={"m": "Ops lead"}, cycle_end=date(2026, 6, 30), cycle_id="q2"
    )
    pd.testing.assert_frame_equal(shown, expected)
    assert len(shown) == 1 and shown["owner"].iloc[0] == "Ops lead"


def finding_of(fid: str, metric: str) -> Finding:
    return Finding(id=fid, kind="trend", statement="s", metric=metric, method="x", severity="low")


def test_methodology_counts_findings_and_no_findings_per_analysis():
    from csi_helpers.analysis import no_finding
    from csi_helpers.analysis.summary import METHODS, methodology

    records = [
        finding_of("t1", "load"),
        finding_of("t2", "latency"),
        no_finding(
            analysis="trend", metric="incidents", reason="too_short", detail="6 days", method="x"
        ),
    ]
    table = methodology(records).set_index("analysis")
    assert list(table.index) == [k.replace("_", " ") for k in METHODS]
    assert table.loc["trend", "findings"] == 2 and table.loc["trend", "no findings"] == 1
    assert table.loc["trend", "ran on"] == "incidents, latency, load"
    assert table.loc["anomaly", "findings"] == 0 and table.loc["anomaly", "ran on"] == "–"


def test_provenance_names_the_params_hash_and_versions_the_run_recorded(tmp_path):
    from csi_helpers.runfolder.manifest import write_manifest
    from csi_helpers.steps.present import provenance

    params = tmp_path / "cycle.yaml"
    params.write_text("x: 1\n")
    manifest = {
        "manifest_version": 1,
        "run_id": "svc-q2",
        "params": {"path": str(params), "sha256": "ab" * 32},
        "environment": {
            "python": "3.11.7",
            "workbook": {"version": "0.1.0", "git_commit": "0123456789abcdef", "git_dirty": True},
            "packages": {"pandas": "2.2.3"},
        },
        "steps": [],
    }
    write_manifest(tmp_path, manifest)
    rows = dict(provenance(tmp_path, params).itertuples(index=False))
    assert rows["run id"] == "svc-q2" and rows["params file"] == "cycle.yaml"
    assert rows["params sha256"] == "ab" * 32 and rows["pandas"] == "2.2.3"
    assert rows["workbook"] == "csi-workbook 0.1.0, commit 0123456789ab with uncommitted changes"

    fresh = tmp_path / "no-manifest"
    fresh.mkdir()
    rows = dict(provenance(fresh, params).itertuples(index=False))
    from csi_helpers.runfolder.hashing import sha256_file

    assert rows["params sha256"] == sha256_file(params) and rows["run id"] == "no-manifest"


def test_a_figure_alternative_says_what_is_drawn_and_what_was_found():
    from csi_helpers.analysis.summary import figure_alt

    f = Finding(
        id="c", kind="concentration", statement="Web Platform has 65 % of breaches.",
        metric="sla_breach", method="x", severity="high", evidence={"by": "assignment_group"},
    )  # fmt: skip
    assert figure_alt(f) == (
        "Bar chart of the share of SLA breaches beside that of tickets by assignment_group. "
        "Web Platform has 65 % of breaches."
    )


def test_the_methodology_appendix_defines_each_kpi_and_its_revision():
    from csi_helpers.steps.present import kpi_definitions

    card = pd.DataFrame(
        {
            "kpi_id": ["peak-utilisation", "latency-p95", "peak-eu"],
            "kpi": ["peak_utilisation", "latency_p95_of_interval_p95", "peak_utilisation"],
        }
    )
    shown = kpi_definitions(card).set_index("KPI")
    assert list(shown.index) == ["peak-utilisation, peak-eu", "latency-p95"]
    peak = shown.loc["peak-utilisation, peak-eu", "how"]
    assert "100 × maximum of hourly utilisation" in peak
    assert "Revision 2: revision 1 was the 99th percentile, now utilisation_p99" in peak
    latency = shown.loc["latency-p95"]
    assert latency["library KPI"].endswith("(p95 of hourly p95 response times)")
    assert "95th percentile (linear interpolation) of latency_p95_ms" in latency["how"]


IMPACTS = pd.DataFrame(
    {
        "kpi_id": ["downtime", "availability", "p1-sla"],
        "kpi_name": ["Downtime", "Availability", "P1 SLA"],
        "basis": ["lost revenue", "lost revenue", "SLA penalties"],
        "quantity": [283.4, 283.4, 50.0],
        "unit": ["min of downtime", "min of downtime", "breaches"],
        "amount": [65_315.2, 65_315.2, 25_000.0],
        "currency": ["EUR"] * 3,
        "formula": ["283.4 min × €230.47/min = €65,315"] * 2 + ["50 × €500 = €25,000"],
        "assumption": ["every sale lost"] * 2 + ["penalty per breach"],
    }
)


def test_the_summary_states_the_money_at_stake_after_the_kpi_count():
    card = pd.DataFrame({"status": ["green", "red", "red", "red"]})
    summary = executive_summary(card, FINDINGS, impacts=IMPACTS)
    assert summary == [
        "1 of 4 measured KPIs meet their target; 0 are amber and 3 red.",
        "Downtime and Availability (red) put €65,315 at stake this cycle: lost revenue on "
        "283.4 min of downtime.",
        "P1 SLA (red) puts €25,000 at stake this cycle: SLA penalties on 50 breaches.",
        "statement gap-red",
        "statement trend",
    ]


def test_without_money_at_stake_the_summary_names_no_money():
    card = pd.DataFrame({"status": ["green", "red"]})
    plain = executive_summary(card, FINDINGS)
    assert executive_summary(card, FINDINGS, impacts=IMPACTS.iloc[:0]) == plain
    assert not any("€" in s or "at stake" in s for s in plain)


def test_the_methodology_lists_each_formula_and_warns_against_adding_the_same_outages():
    from csi_helpers.analysis.summary import money_formulas

    lines = money_formulas(IMPACTS, timezone="Europe/Amsterdam")
    assert lines == [
        "Downtime: 283.4 min × €230.47/min = €65,315 (every sale lost).",
        "Availability: 283.4 min × €230.47/min = €65,315 (every sale lost).",
        "P1 SLA: 50 × €500 = €25,000 (penalty per breach).",
        "KPIs priced on minutes of downtime count the same outages: do not add them.",
        "Weekdays and hours are those of the service's time zone, Europe/Amsterdam.",
    ]


def test_the_appendix_shows_money_only_when_step_5_priced_some():
    from types import SimpleNamespace

    from csi_helpers.steps.present import money_at_stake

    def ctx(impacts: pd.DataFrame | None) -> SimpleNamespace:
        return SimpleNamespace(
            has=lambda ref: impacts is not None,
            read_table=lambda ref: impacts,
            params=SimpleNamespace(service=SimpleNamespace(timezone="UTC")),
        )

    assert money_at_stake(ctx(None)).data == ""  # a run made before step 5 priced anything
    assert money_at_stake(ctx(IMPACTS.iloc[:0])).data == ""  # no business section
    shown = money_at_stake(ctx(IMPACTS.iloc[2:])).data.replace("\\", "")  # escapes off
    assert shown.startswith("**Money at stake.**")
    assert "- P1 SLA: 50 × €500 = €25,000 (penalty per breach)." in shown
    assert "do not add" not in shown and "time zone" not in shown  # one amount, no minutes


def test_two_sla_amounts_are_not_to_be_added():
    from csi_helpers.analysis.summary import money_formulas

    both = pd.concat([IMPACTS.iloc[2:], IMPACTS.iloc[2:].assign(kpi_name="SLA")])
    assert money_formulas(both, timezone="UTC")[-1] == (
        "SLA entries whose scopes overlap count the same breaches: do not add them."
    )
