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
