"""benchmarks/bench_false_alarms.py's machinery on a few cycles (slow: the demo's first cycle
is built as the template). The targets are the benchmark's to print, not this test's."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csi_helpers.chain.runner import run_cycle

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """The benchmark module (benchmarks/ is not a package) and a template run of the demo's Q2."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_false_alarms
        import null_cycles
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    root = tmp_path_factory.mktemp("template")
    (root / "params").mkdir()
    params = root / "params" / "demo_q2.yaml"
    params.write_text((REPO / "params" / "demo_q2.yaml").read_text())
    result = run_cycle(params, runs_dir=root / "runs", reports_dir=root / "reports", to_step=4)
    return bench_false_alarms, null_cycles, result.run_dir, params


def test_null_families_carry_no_effect_and_the_template_types(bench):
    _, cycles, template, _ = bench
    tables = {n: pd.read_parquet(template / f"process/tables/{n}.parquet") for n in ("monitoring",
              "incidents", "outages", "campaigns", "changes", "csat")}  # fmt: skip
    for family in cycles.FAMILIES:
        cycle = cycles.null_cycle(family, 1, tables)
        mon = cycle.tables["monitoring"]
        assert len(mon) == 91 * 24 and (mon.dtypes == tables["monitoring"].dtypes).all()
        assert (len(cycle.tables["campaigns"]) > 0) == (family == "calendar")
        tickets = cycle.tables["incidents"]
        assert 8 < len(tickets) / 91 < 12  # about 10 a day
        by_group = tickets.groupby("assignment_group")["made_sla"].agg(["mean", "size"])
        shares = by_group.loc[by_group["size"] >= 50, "mean"]  # breaches shuffled across groups
        assert shares.max() - shares.min() < 0.15
    for family, low, high in (("additive", -1, 0.5), ("multiplicative", 0.8, 1)):
        mon = cycles.null_cycle(family, 2, tables).tables["monitoring"]
        stamp = pd.DatetimeIndex(mon["timestamp"])
        cells = mon.groupby([stamp.day_of_week, stamp.hour])["requests"]
        assert low < np.corrcoef(cells.mean(), cells.std())[0, 1] < high  # spread ∝ level or not
    knee = cycles.planted_cycle("latency knee at 60 % utilisation", 3, tables)
    assert knee.truth == {"location": 0.6, "size": pytest.approx(18.0)}


def test_a_small_benchmark_fills_both_tables(bench):
    module, cycles, template, params = bench
    false_alarms, power = module.run_benchmark(
        cycles=1, seeds=1, jobs=2, template=template, params=params
    )
    assert set(false_alarms["family"]) == {*cycles.FAMILIES, "all"}
    methods = set(false_alarms["method"])
    assert {"trend", "change_point", "event_impact", "capacity_threshold", "any method"} <= methods
    assert not methods & {"target_gap", "baseline", "error_budget"}  # measurements, not tests
    shares = false_alarms[["before control", "after control"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (false_alarms["after control"] <= false_alarms["before control"]).all()
    assert list(power["planted effect"]) == list(cycles.PLANTS)
    assert (power["seeds"] == 1).all()
