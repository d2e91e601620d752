"""Variants of the demo chain (slow): a source missing, a cycle too short to analyse.

Separate from test_end_to_end.py so that the two modules run on different
pytest-xdist workers. Each variant runs one cycle on its own copy of the demo
params; the demo data is generated beside them on the first run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from csi_helpers.chain.runner import run_cycle
from csi_helpers.demo import ensure_demo_data
from csi_helpers.params import load_params
from csi_helpers.runfolder.manifest import read_manifest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    (root / "params").mkdir()
    (root / "params" / "demo.yaml").write_text((REPO / "params" / "demo.yaml").read_text())
    return root


def test_chain_runs_without_monitoring_and_reports_the_gap(root):
    text = (root / "params" / "demo.yaml").read_text()
    start, end = text.index("  - name: monitoring"), text.index("  - name: outages")
    path = root / "params" / "no_monitoring.yaml"
    path.write_text(text[:start] + text[end:])
    result = run_cycle(
        path, run_id="no-monitoring", runs_dir=root / "runs", reports_dir=root / "reports"
    )
    plan = pd.read_parquet(result.run_dir / "measurement" / "plan.parquet").set_index("kpi_id")
    assert plan.loc["latency-p95", "measurable"] == "no"
    html = result.reports[6].read_text(encoding="utf-8")
    assert (
        "add a source of kind &#x27;monitoring&#x27;" in html
        or "add a source of kind 'monitoring'" in html
    )
    warnings = read_manifest(result.run_dir)["steps"][3]["warnings"]
    assert any("weekday_hour_heatmap" in w for w in warnings)


def test_a_short_cycle_records_why_each_analysis_gave_nothing(root):
    """Six days of data: too short for trends, change points and forecasts; the step goes on."""
    text = (root / "params" / "demo.yaml").read_text()
    text = text.replace("start: 2026-07-01", "start: 2026-09-25")
    text = text.replace("previous_run: shopfront-2026q2", "")
    path = root / "params" / "short.yaml"
    path.write_text(text)
    result = run_cycle(
        path, run_id="short", runs_dir=root / "runs", reports_dir=root / "reports", to_step=6
    )
    findings = json.loads((result.run_dir / "analyse" / "findings.json").read_text())
    reasons = {
        f["evidence"]["analysis"]: f["evidence"]["reason"]
        for f in findings
        if f["kind"] == "no_finding"
    }
    for analysis in ("trend", "change_point", "capacity_forecast"):
        assert reasons.get(analysis) == "too_short", (analysis, reasons)
    html = result.reports[6].read_text(encoding="utf-8")
    assert "too short" in html  # the methodology appendix says why
    warnings = read_manifest(result.run_dir)["steps"][3]["warnings"]  # no campaign in 6 days:
    assert any("source 'campaigns' (calendar" in w for w in warnings)  # a warning, not an error


def test_without_business_figures_the_report_names_no_money(root):
    """The demo without its `business:` section: no amount, currency or "at stake" anywhere."""
    text = (root / "params" / "demo.yaml").read_text()
    text = text.replace("previous_run: shopfront-2026q2", "")
    start, end = text.index("business:"), text.index("analysis:")
    path = root / "params" / "no_business.yaml"
    path.write_text(text[:start] + text[end:])
    result = run_cycle(
        path, run_id="no-business", runs_dir=root / "runs", reports_dir=root / "reports", to_step=6
    )
    assert pd.read_parquet(result.run_dir / "analyse" / "impact.parquet").empty
    card = pd.read_parquet(result.run_dir / "analyse" / "scorecard.parquet")
    assert (card["status"] == "red").any()  # red KPIs there are, but nothing prices them
    html = result.reports[6].read_text(encoding="utf-8")
    words = re.sub(r"<[^>]+>", " ", re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", html))
    for money in ("€", "EUR", "at stake", "Money at stake", "revenue", "penalt"):
        assert money not in words, money


def test_an_export_with_only_ids_and_times_runs_and_says_what_is_missing(root):
    """A ticket export without priority, category or group (issue 18: the boxplot by
    priority crashed step 4): every step runs; the chart is one box for all tickets and
    says which column would split it (tests/report/test_charts.py); the KPIs that need a
    missing column are gaps."""
    data = root / "data" / "bare"
    ensure_demo_data(data, seed=load_params(REPO / "params" / "demo_q2.yaml").demo.seed)
    raw = pd.read_csv(data / "incidents.csv")
    raw[["number", "opened_at", "resolved_at", "closed_at"]].to_csv(data / "bare.csv", index=False)
    path = root / "params" / "bare.yaml"
    path.write_text(
        "service: {id: bare, name: Bare export}\n"
        "cycle: {quarter: 2026q2}\n"
        "sources:\n"
        "  - {name: tickets, kind: tickets, path: ../data/bare/bare.csv,"
        " columns: {ticket_id: number}, timestamp_format: '%Y-%m-%d %H:%M:%S'}\n"
        "strategy: {objectives: [{id: o1, statement: Restore quickly, csfs: [{id: c1,"
        " statement: Quickly, kpis: ["
        "{id: ttr, kpi: median_time_to_resolve, target: 8, amber: 16, direction: lower, unit: h},"
        "{id: sla, kpi: sla_compliance, target: 90, amber: 80, direction: higher, unit: '%'},"
        "{id: moves, kpi: reassignment_rate, target: 20, amber: 30, direction: lower, unit: '%'}"
        "]}]}]}\n"
    )
    result = run_cycle(path, runs_dir=root / "runs", reports_dir=root / "reports")
    assert [s["status"] for s in result.manifest["steps"]] == ["succeeded"] * 7
    plan = pd.read_parquet(result.run_dir / "measurement" / "plan.parquet").set_index("kpi_id")
    assert plan.loc["ttr", "measurable"] == "yes"
    assert plan.loc[["sla", "moves"], "measurable"].tolist() == ["no", "no"]
    assert (result.run_dir / "process" / "figures" / "resolution_times.png").stat().st_size > 0
