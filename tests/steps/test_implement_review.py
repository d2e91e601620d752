"""Step 7's review of one register entry: windows that never overlap, verdicts by the rule."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from csi_helpers.steps import implement
from csi_helpers.steps.implement import review as reviewing

START = pd.Timestamp("2026-04-01", tz="UTC")


def hourly(start: pd.Timestamp, weeks: int, level: float, seed: int) -> pd.DataFrame:
    hours = pd.date_range(start, periods=24 * 7 * weeks, freq="h")
    counts = np.random.default_rng(seed).poisson(level, len(hours)).astype(float)
    return pd.DataFrame({"hour": hours, "incidents": counts, "requests": 1000.0})


def review(
    tmp_path: Path,
    before: pd.DataFrame,
    after: pd.DataFrame,
    status: str,
    promise: float | None = None,
) -> dict:
    (tmp_path / "base" / "process").mkdir(parents=True, exist_ok=True)
    before.to_parquet(tmp_path / "base" / "process" / "hourly.parquet")
    ctx = SimpleNamespace(
        run_dir=tmp_path / "this",
        log_input=lambda path: path,
        params=SimpleNamespace(analysis=SimpleNamespace(alpha=0.05)),
    )
    entry = SimpleNamespace(
        id="base-a1", title="Fix the flaky deploys", kpi_id="incidents",
        kpi="incident_volume", baseline_run_id="base", base_value=2.0, target_value=1.0,
        status=status, expected_change=promise,
    )  # fmt: skip
    if status in implement.NOT_CARRIED_OUT:
        return reviewing._not_carried_out(entry)
    card = pd.DataFrame({"kpi_id": ["incidents"], "actual": [1.0], "direction": ["lower"]})
    return reviewing._review(ctx, entry, after.set_index("hour"), card.set_index("kpi_id"))


def test_a_baseline_that_overlaps_the_cycle_is_cut_to_the_hours_before_it(tmp_path):
    """The baseline run's series runs 4 weeks into the reviewed cycle, where the level is
    already the new one: those hours are left out (and counted), so the halving is seen
    whole instead of diluted."""
    before = pd.concat([hourly(START, 8, 2.0, 1), hourly(START + pd.Timedelta(weeks=8), 4, 1.0, 2)])
    after = hourly(START + pd.Timedelta(weeks=8), 8, 1.0, 3)
    row = review(tmp_path, before, after, "in_progress")
    assert f"{24 * 7 * 4} baseline hours inside this cycle left out" in row["evidence"]
    assert abs(row["change_pct"] + 50) < 5
    assert row["verdict"] == "worked"


def test_an_entry_never_carried_out_is_not_reviewed(tmp_path):
    for status in ("proposed", "approved"):
        row = review(tmp_path, hourly(START, 8, 2.0, 1), hourly(START, 8, 1.0, 2), status)
        assert row["verdict"] == "not reviewed" and f"still {status}" in row["evidence"]
        assert "change_pct" not in row


def test_the_review_holds_the_action_to_the_change_it_promised(tmp_path):
    """An action that promised to halve incidents: no change at all did not work (the
    interval excludes -50 %); a real -25 % worked, but less than promised."""
    before = hourly(START, 8, 2.0, 1)
    later = START + pd.Timedelta(weeks=8)
    row = review(tmp_path, before, hourly(later, 8, 2.0, 4), "in_progress", promise=-0.5)
    assert row["verdict"] == "did not work" and "excludes the promised -50 %" in row["evidence"]
    row = review(tmp_path, before, hourly(later, 8, 1.5, 5), "monitoring", promise=-0.5)
    assert row["verdict"] == "worked" and "smaller than the promised -50 %" in row["evidence"]


def test_a_reviewed_entry_gets_a_before_after_chart_and_one_never_carried_out_none(tmp_path):
    """The chart is drawn for a reviewed row (its KPI before and after, the change on its
    interval), saved unshown in the run folder and named in the row; its before bar is
    labelled with the baseline run's cycle, read from that run's params."""
    before = hourly(START, 8, 2.0, 1)
    after = hourly(START + pd.Timedelta(weeks=8), 8, 1.0, 3)
    row = review(tmp_path, before, after, "in_progress", promise=-0.5)
    params = tmp_path / "q2.yaml"
    params.write_text("cycle: {id: q2, label: 2026 Q2}\n")
    manifest = {"manifest_version": 1, "run_id": "base", "params": {"path": str(params)}}
    (tmp_path / "base" / "manifest.json").write_text(json.dumps(manifest))
    assert reviewing.cycle_label(tmp_path, "base") == "2026 Q2"
    assert reviewing.cycle_label(tmp_path, "gone") == "gone"
    saved = []

    def save_figure(name, figure, *, show=True):
        saved.append((name, [ax.get_title() for ax in figure.axes], show))
        path = tmp_path / "this" / "implement" / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
        plt.close(figure)
        return path

    ctx = SimpleNamespace(
        run_dir=tmp_path / "this",
        save_figure=save_figure,
        params=SimpleNamespace(cycle=SimpleNamespace(period="2026 Q3")),
    )
    card = pd.DataFrame(
        {"kpi_id": ["incidents"], "kpi_name": ["Incidents opened"], "unit": ["tickets"],
         "direction": ["lower"]}
    ).set_index("kpi_id")  # fmt: skip
    assert reviewing._save_chart(ctx, row, card) == "implement/figures/review_base-a1.png"
    [(name, titles, shown)] = saved
    assert name == "review_base-a1"
    assert titles[0] == "Incidents opened" and titles[1].startswith("Change -") and not shown
    assert (tmp_path / "this" / "implement" / "figures" / "review_base-a1.png").is_file()
    skipped = review(tmp_path, before, after, "proposed")
    assert reviewing._save_chart(ctx, skipped, card) is None and len(saved) == 1
