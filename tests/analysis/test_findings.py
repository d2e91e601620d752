"""The Finding record: JSON round trip, tabulation, ranking, and the docstring examples."""

import doctest
import json

import numpy as np
import pandas as pd
import pytest

import csi_helpers.analysis.capacity
import csi_helpers.analysis.findings
import csi_helpers.analysis.trend
from csi_helpers.analysis import Finding, findings_to_frame, no_finding, rank_findings
from csi_helpers.errors import DataError


def make(id_: str, severity: str, effect: float | None, **extra) -> Finding:
    return Finding(
        id=id_,
        kind="trend",
        statement=f"{id_} moves",
        metric="m",
        method="mann_kendall(alpha=0.05)",
        severity=severity,
        effect=effect,
        **extra,
    )


def test_numpy_values_and_nan_are_stored_json_safe():
    f = make(
        "a",
        "high",
        np.float64(2.5),
        ci_low=np.float32(1.0),
        ci_high=np.float64("nan"),
        p_value=np.float64(0.01),
        scope={"service": "email", "year": np.int64(2024)},
        evidence={
            "n": np.int64(180),
            "gap": np.nan,
            "series": np.array([1.0, np.inf]),
            "start": pd.Timestamp("2024-01-01"),
            "flag": np.bool_(True),
        },
    )
    assert type(f.effect) is float and f.ci_high is None
    assert f.evidence == {
        "n": 180,
        "gap": None,
        "series": [1.0, None],
        "start": "2024-01-01T00:00:00",
        "flag": True,
    }
    assert type(f.scope["year"]) is int
    text = json.dumps(f.to_dict(), allow_nan=False)
    assert Finding.from_dict(json.loads(text)) == f


def test_round_trip_of_a_no_finding_and_a_figure():
    f = no_finding(
        analysis="trend",
        metric="tickets",
        reason="too_short",
        detail="series too short: 5 points, need ≥ 14",
        method="seasonal_mann_kendall(period=7, alpha=0.05)",
        scope={"service": "email"},
        evidence={"n_points": 5},
    ).with_figure("figures/trend_tickets.png")
    back = Finding.from_dict(json.loads(json.dumps(f.to_dict())))
    assert back == f
    assert back.figure == "figures/trend_tickets.png"
    assert back.kind == "no_finding" and back.severity == "info" and not back.is_finding
    assert back.evidence == {"n_points": 5, "analysis": "trend", "reason": "too_short"}
    assert back.id == "trend:tickets@service=email"


def test_to_dict_is_a_copy():
    f = make("a", "low", 1.0, evidence={"n": [1, 2]})
    f.to_dict()["evidence"]["n"].append(3)
    assert f.evidence == {"n": [1, 2]}


def test_ranking_is_severity_then_size_of_effect():
    findings = [
        make("info", "info", 100.0),
        make("low-big", "low", -50.0),
        make("high-small", "high", 0.5),
        make("medium", "medium", 3.0),
        make("high-big-negative", "high", -7.0),
        make("high-none", "high", None),
        make("low-small", "low", 2.0),
    ]
    ranked = [f.id for f in rank_findings(findings)]
    assert ranked == [
        "high-big-negative",
        "high-small",
        "high-none",
        "medium",
        "low-big",
        "low-small",
        "info",
    ]
    assert findings[0].id == "info"  # input list not reordered


def test_findings_to_frame_has_one_row_per_finding_and_parquet_safe_columns():
    findings = [make("a", "high", 1.0, evidence={"n": 3}), make("b", "low", None)]
    frame = findings_to_frame(findings)
    assert list(frame["id"]) == ["a", "b"]
    assert frame["effect"].dtype == "float64" and np.isnan(frame.loc[1, "effect"])
    assert json.loads(frame.loc[0, "evidence"]) == {"n": 3}
    empty = findings_to_frame([])
    assert list(empty.columns) == list(frame.columns) and len(empty) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"severity": "critical"}, "severity"),
        ({"figure": "/tmp/fig.png"}, "relative"),
        ({"figure": "../fig.png"}, "relative"),
        ({"p_value": 1.5}, "p_value"),
        ({"ci_low": 3.0, "ci_high": 1.0}, "exceeds"),
        ({"statement": " "}, "statement"),
        ({"evidence": {"when": object()}}, "cannot store"),
    ],
)
def test_invalid_records_are_refused_with_a_reason(changes, message):
    data = make("a", "low", 1.0).to_dict() | changes
    with pytest.raises(DataError, match=message):
        Finding.from_dict(data)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"severity": "critical"}, ValueError, "severity"),
        ({"figure": "../fig.png"}, ValueError, "relative"),
        ({"p_value": 1.5}, ValueError, "p_value"),
        ({"p_value": "small"}, TypeError, "p_value"),
        ({"ci_low": 3.0, "ci_high": 1.0}, ValueError, "exceeds"),
        ({"statement": " "}, ValueError, "statement"),
        ({"metric": None}, TypeError, "metric"),
        ({"unit": 3}, TypeError, "unit"),
        ({"evidence": [1]}, TypeError, "evidence"),
        ({"evidence": {"when": object()}}, TypeError, "cannot store"),
    ],
)
def test_a_record_built_against_the_rules_is_a_programming_error(changes, error, message):
    fields = make("a", "low", 1.0).to_dict() | changes
    with pytest.raises(error, match=message) as raised:
        Finding(**fields)
    assert not isinstance(raised.value, DataError)


def test_findings_to_frame_and_rank_refuse_other_records_as_type_errors():
    with pytest.raises(TypeError, match="expects Finding records"):
        findings_to_frame([{"id": "a"}])
    with pytest.raises(TypeError, match="expects Finding records"):
        rank_findings([make("a", "low", 1.0), "b"])


def test_from_dict_names_unknown_and_missing_keys():
    data = make("a", "low", 1.0).to_dict()
    with pytest.raises(DataError, match="unknown Finding keys"):
        Finding.from_dict(data | {"colour": "red"})
    with pytest.raises(DataError, match="lacks keys"):
        Finding.from_dict({k: v for k, v in data.items() if k != "metric"})


def test_findings_are_hashable_and_frozen():
    f = make("a", "low", 1.0, evidence={"n": 1})
    assert len({f, make("a", "low", 1.0, evidence={"n": 1})}) == 1
    with pytest.raises(AttributeError):
        f.severity = "high"


@pytest.mark.parametrize(
    "module",
    [csi_helpers.analysis.findings, csi_helpers.analysis.trend, csi_helpers.analysis.capacity],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, extraglobs={"np": np, "pd": pd}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
