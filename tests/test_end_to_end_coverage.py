"""Exports that stop before the cycle ends, or miss it (slow): the demo's Q2 cycle on cut data.

The demo's tickets are thinned so that daily incidents fall by 75 % from 1 April to
22 May, and stop there; its monitoring stops on 10 May (44 % of the cycle). Before
issue 14 the days after were filled with zeros and the trend read "0 incidents/day/day".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csi_helpers.chain.runner import run_cycle
from csi_helpers.demo import ensure_demo_data
from csi_helpers.errors import ParamsError
from csi_helpers.runfolder.manifest import read_manifest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
START = pd.Timestamp("2026-04-01")
TICKETS_END, MONITORING_END = pd.Timestamp("2026-05-23"), pd.Timestamp("2026-05-11")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("coverage")
    demo, cut = root / "data" / "demo", root / "data" / "cut"
    ensure_demo_data(demo, seed=20260401)
    cut.mkdir()
    tickets = pd.read_csv(demo / "incidents.csv")
    opened = pd.to_datetime(tickets["opened_at"])
    age = ((opened - START) / (TICKETS_END - START)).clip(0, 1)
    keep = np.random.default_rng(0).uniform(size=len(tickets)) < 1 - 0.75 * age
    tickets[keep & (opened < TICKETS_END)].to_csv(cut / "incidents.csv", index=False)
    monitoring = pd.read_csv(demo / "monitoring.csv")
    stamps = pd.to_datetime(monitoring["timestamp"]).dt.tz_localize(None)
    monitoring[stamps < MONITORING_END].to_csv(cut / "monitoring.csv", index=False)
    (root / "params").mkdir()
    text = (REPO / "params" / "demo_q2.yaml").read_text()
    for name in ("incidents", "monitoring"):
        text = text.replace(f"../data/demo/{name}.csv", f"../data/cut/{name}.csv")
    (root / "params" / "cut.yaml").write_text(text)
    return root


@pytest.fixture(scope="module")
def cut_run(root):
    return run_cycle(
        root / "params" / "cut.yaml",
        run_id="cut",
        runs_dir=root / "runs",
        reports_dir=root / "reports",
        to_step=6,
    )


def test_days_after_the_export_are_missing_and_coverage_is_recorded(cut_run):
    daily = pd.read_parquet(cut_run.run_dir / "process" / "daily.parquet").set_index("day")
    assert daily.loc[:"2026-05-22", "incidents"].notna().all()
    assert daily.loc["2026-05-23":, "incidents"].isna().all()
    coverage = pd.read_parquet(cut_run.run_dir / "process" / "coverage.parquet")
    row = coverage.set_index("source").loc["incidents"]
    assert row["series"] == "incidents"
    assert row["covered_to"] == pd.Timestamp("2026-05-23", tz="UTC")
    assert row["covered_share"] == pytest.approx(52 / 91)  # 1 April to 22 May of 91 days
    monitoring = coverage.set_index("source").loc["monitoring"]
    assert monitoring["covered_share"] == pytest.approx(40 / 91)


def test_trend_runs_on_the_covered_span_and_finds_the_decline(cut_run):
    findings = json.loads((cut_run.run_dir / "analyse" / "findings.json").read_text())
    trend = next(f for f in findings if f["id"].startswith("trend:daily incidents"))
    assert trend["kind"] == "trend", trend["statement"]
    assert trend["evidence"]["direction"] == "decreasing"
    assert trend["ci_high"] < 0  # not "0 incidents/day/day (95 % CI 0 to 0)"
    # planted: about 15/day on 1 April falling by 75 % to 22 May, -0.22/day
    assert trend["ci_low"] < -0.22 < trend["ci_high"]
    assert trend["evidence"]["span_days"] == 51  # not 90 days with 39 of them zero
    assert -0.9 < trend["evidence"]["relative_change"] < -0.5  # not -119 %
    steps = [f for f in findings if f["kind"] == "change_point" and "incidents" in f["metric"]]
    assert not [f for f in steps if f["evidence"]["date"] == "2026-05-22"]  # no drop to zero
    assert trend["statement"].endswith("data end on 22 May; the cycle runs to 30 June")
    assert trend["evidence"]["coverage"]["share"] == pytest.approx(52 / 91, abs=1e-4)


def test_a_cycle_under_half_covered_is_a_warning_in_step_5_and_the_report(cut_run):
    warnings = read_manifest(cut_run.run_dir)["steps"][4]["warnings"]
    assert any("source 'monitoring' covers 44 % of the cycle" in w for w in warnings)
    html = cut_run.reports[6].read_text(encoding="utf-8")
    warning = html.index("Warning: part of this cycle has no data")
    assert warning < html.index('csi-tiles"')  # above the KPI tiles, the first thing read
    shown = html[warning : html.index("KPI scorecard")]
    assert "source 'monitoring' covers 44 % of the cycle" in shown
    assert "data end on 10 May; the cycle runs to 30 June" in shown
    assert "findings on load, capacity, p95 latency, utilisation, error rate" in shown
    assert "'incidents' covers" not in shown  # 57 %: said in its findings, no warning


def test_a_source_without_record_in_the_cycle_stops_the_run(root):
    text = (root / "params" / "cut.yaml").read_text()
    text = text.replace("start: 2026-04-01", "start: 2026-10-01").replace(
        "end: 2026-06-30", "end: 2026-12-31"
    )
    path = root / "params" / "after.yaml"
    path.write_text(text)
    with pytest.raises(ParamsError) as refused:  # the params check reads the exports' spans
        run_cycle(path, run_id="after", runs_dir=root / "runs", to_step=4)
    message = str(refused.value)
    assert "3 problem(s) with the data it names (no step run)" in message
    assert "sources[incidents]: no record inside the cycle 2026-10-01 to 2026-12-31" in message
    assert "incidents.csv runs from 2026-04-01 to 2026-05-22" in message
    assert "Set cycle.start and cycle.end to a period the data covers" in message
    assert not (root / "runs" / "after").exists()  # refused before any step
