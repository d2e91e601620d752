"""Report-wide error control: Benjamini–Hochberg over a cycle's tests, and the interval gate."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from csi_helpers.analysis.findings import Finding, no_finding
from csi_helpers.analysis.multiplicity import control_report, family_of_tests


def record(
    name: str,
    p: float | None,
    *,
    kind: str = "trend",
    ci: tuple[float, float] = (1.0, 3.0),
    unit: str = "ms/day",
) -> Finding:
    return Finding(
        id=f"{kind}:{name}",
        kind=kind,
        statement=f"{name} rises",
        metric=name,
        method="m",
        severity="medium",
        effect=sum(ci) / 2,
        ci_low=ci[0],
        ci_high=ci[1],
        unit=unit,
        p_value=p,
    )


def test_bh_matches_a_hand_computed_example() -> None:
    # p sorted: 0.001, 0.008, 0.039, 0.041, 0.2 (m = 5); p·m/rank = 0.005, 0.02, 0.065,
    # 0.05125, 0.2; q is the running minimum from the top: 0.005, 0.02, 0.05125, 0.05125, 0.2.
    ps = [0.041, 0.001, 0.2, 0.008, 0.039]
    out = control_report([record(f"s{i}", p) for i, p in enumerate(ps)], alpha=0.05)
    q = [f.evidence["q_value"] for f in out]
    assert q == pytest.approx([0.05125, 0.005, 0.2, 0.02, 0.05125])
    assert [f.is_finding for f in out] == [False, True, False, True, False]
    withdrawn = out[0]
    assert withdrawn.evidence["reason"] == "not_significant_in_cycle"
    assert withdrawn.evidence["analysis"] == "trend"
    assert withdrawn.evidence["tests_in_cycle"] == 5
    assert "5 tests are accounted for (q = 0.051" in withdrawn.statement
    assert withdrawn.id == "trend:s0" and withdrawn.severity == "info"


def test_bh_matches_statsmodels_on_random_p_values() -> None:
    rng = np.random.default_rng(7)
    ps = np.concatenate([rng.uniform(size=20), rng.uniform(0, 0.01, size=5)])
    out = control_report([record(f"s{i}", float(p)) for i, p in enumerate(ps)], alpha=0.05)
    reject, q, *_ = multipletests(ps, alpha=0.05, method="fdr_bh")
    assert [f.evidence["q_value"] for f in out] == pytest.approx(list(q))
    assert [f.is_finding for f in out] == list(reject)


def test_the_family_counts_no_findings_and_leaves_out_measurements() -> None:
    records = [
        record("a", 0.01),
        no_finding(
            analysis="change_point", metric="b", reason="not_significant", detail="none",
            method="m", p_value=0.3,
        ),
        record("gap", None, kind="target_gap"),
        record("budget", 0.001, kind="error_budget", ci=(0.0, 0.3), unit="x"),
        record("fc", 0.5, kind="capacity_forecast"),
        record("ep", None, kind="anomaly"),
    ]  # fmt: skip
    assert family_of_tests(records) == [0, 1]
    out = control_report(records, alpha=0.05)
    assert out[0].evidence["tests_in_cycle"] == 2
    assert out[0].evidence["q_value"] == pytest.approx(0.02)
    assert out[1].evidence["q_value"] == pytest.approx(0.3)
    assert "q_value" not in out[2].evidence and "q_value" not in out[3].evidence
    # budgets and forecasts are neither adjusted nor gated (a budget 0 to 0.3 x consumed is news)
    assert out[3].is_finding and out[4].is_finding
    anomaly = out[5]
    assert anomaly.is_finding and anomaly.evidence["q_value"] is None
    assert "no p-value" in anomaly.evidence["q_note"]


def test_a_finding_whose_interval_includes_no_effect_is_withdrawn() -> None:
    records = [
        record("shift", 0.001, kind="change_point", ci=(-2.0, 5.0), unit="ms"),
        record("slope", 0.001, kind="capacity_threshold", ci=(0.5, 2.0)),
        record("ratio", 0.001, kind="concentration", ci=(0.9, 2.0), unit="rate ratio"),
        record("ratio2", 0.001, kind="concentration", ci=(1.1, 2.0), unit="rate ratio"),
        record("auc", 0.001, kind="drivers", ci=(0.45, 0.7), unit="ROC AUC"),
        record("ep", None, kind="anomaly", ci=(-3.0, 4.0), unit="requests/h"),
    ]
    out = control_report(records, alpha=0.05)
    assert [f.is_finding for f in out] == [False, True, False, True, False, False]
    gated = out[0]
    assert gated.evidence["reason"] == "interval_includes_no_effect"
    assert gated.statement.startswith("interval includes no effect (-2 to 5 ms contains 0")
    assert gated.evidence["reported_as"] == "shift rises"
    assert "contains 1)" in out[2].statement and "contains 0.5" in out[4].statement


def test_no_tests_and_wrong_input() -> None:
    assert control_report([], alpha=0.05) == []
    with pytest.raises(ValueError, match="alpha"):
        control_report([record("a", 0.01)], alpha=1.5)
    with pytest.raises(TypeError, match="Finding"):
        control_report([{"id": "x"}], alpha=0.05)  # type: ignore[list-item]
