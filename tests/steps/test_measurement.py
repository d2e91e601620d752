"""Step 2: the measurement plan reads headers and spans, and names the gap."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csi_helpers.demo import ensure_demo_data
from csi_helpers.params import load_params
from csi_helpers.steps.measurement import source_headers, source_spans
from csi_helpers.strategy.measurement_plan import measurement_plan

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_params(tmp_path_factory):
    root = tmp_path_factory.mktemp("plan")
    (root / "params").mkdir()
    text = (REPO / "params" / "demo.yaml").read_text()
    (root / "params" / "demo.yaml").write_text(text)
    params = load_params(root / "params" / "demo.yaml")
    ensure_demo_data(params.demo.directory, seed=params.demo.seed)
    return root / "params" / "demo.yaml", text


def plan_for(path: Path, text: str):
    path.write_text(text)
    params = load_params(path)
    headers = source_headers(params)
    return measurement_plan(params, headers, source_spans(params, headers)).set_index("kpi_id")


def test_the_demo_measures_all_but_its_two_planted_gaps(demo_params):
    path, text = demo_params
    plan = plan_for(path, text)
    gaps = plan[plan["measurable"] != "yes"]
    # The demo's ticket export has no acknowledgement time and no problem ids, on purpose.
    assert gaps["measurable"].to_dict() == {"mtta-desk": "no", "problem-linked": "no"}
    assert gaps["fields_missing"].to_dict() == {
        "mtta-desk": "acknowledged_at",
        "problem-linked": "problem_id",
    }
    assert plan.loc["mttr", "fields_used"] == "opened_at←opened_at, resolved_at←resolved_at"
    assert plan.loc["latency-p95", "data_from"].startswith("2026-04-01")


def test_without_monitoring_latency_is_not_measurable_and_the_fields_are_named(demo_params):
    path, text = demo_params
    start = text.index("  - name: monitoring")
    end = text.index("  - name: outages")
    sampled = (
        "            - {id: sampled-availability, kpi: availability_from_samples, target: 99.9,"
        " direction: higher}\n"
    )
    anchor = "            - {id: downtime, kpi: downtime_minutes,"
    trimmed = (text[:start] + text[end:]).replace(anchor, sampled + anchor)
    plan = plan_for(path.with_name("no_monitoring.yaml"), trimmed)
    assert plan.loc["sampled-availability", "fields_missing"] == "timestamp, up"
    for kpi in ("latency-p95", "peak-utilisation", "sampled-availability"):
        row = plan.loc[kpi]
        assert row["measurable"] == "no" and pd.isna(row["source"])
        assert "timestamp" in row["fields_missing"]
        assert "add a source of kind 'monitoring'" in row["to_close_gap"]
    assert plan.loc["mttr", "measurable"] == "yes"


def test_without_downtime_records_availability_is_not_measurable(demo_params):
    path, text = demo_params
    start = text.index("  - name: outages")
    end = text.index("  - name: campaigns")
    plan = plan_for(path.with_name("no_outages.yaml"), text[:start] + text[end:])
    assert plan.loc["availability", "measurable"] == "no"
    assert plan.loc["availability", "fields_missing"] == "start, end"


def test_a_mapped_column_the_export_lacks_is_a_named_gap(demo_params):
    path, text = demo_params
    broken = text.replace(
        "      ticket_id: number", "      ticket_id: number\n      made_sla: sla_met"
    )
    plan = plan_for(path.with_name("bad_map.yaml"), broken)
    assert plan.loc["sla", "measurable"] == "no"
    assert plan.loc["sla", "fields_missing"] == "made_sla"
    assert "map made_sla in the columns of source 'incidents'" in plan.loc["sla", "to_close_gap"]


def test_pause_clock_without_an_event_log_is_partly_measurable(demo_params):
    path, text = demo_params
    paused = text.replace(
        "kpi: mean_time_to_resolve, target: 12,",
        "kpi: mean_time_to_resolve, pause_clock: true, target: 12,",
    )
    plan = plan_for(path.with_name("paused.yaml"), paused)
    assert plan.loc["mttr", "measurable"] == "partly"
    assert "ticket event log" in plan.loc["mttr", "to_close_gap"]


def test_data_that_stops_before_the_cycle_ends_is_partly_measurable(demo_params):
    path, text = demo_params
    later = text.replace("start: 2026-07-01", "start: 2026-08-01").replace(
        "end: 2026-09-30", "end: 2026-10-31"
    )
    plan = plan_for(path.with_name("later.yaml"), later)
    assert plan.loc["latency-p95", "measurable"] == "partly"
    assert "not the whole cycle" in plan.loc["latency-p95", "to_close_gap"]
