"""The scorecard compares a KPI with the previous cycle only under the same formula."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.kpis.scorecard import build_scorecard

TREE = pd.DataFrame(
    {
        "kpi_id": ["peak-utilisation", "latency-p95", "availability"],
        "kpi": ["peak_utilisation", "latency_p95_of_interval_p95", "availability"],
        "target": [75.0, 300.0, 99.9],
        "amber": [90.0, 450.0, 99.5],
        "direction": ["lower", "lower", "higher"],
    }
)
VALUES = pd.DataFrame(
    {
        "kpi_id": ["peak-utilisation", "latency-p95", "availability"],
        "kpi": ["peak_utilisation", "latency_p95_of_interval_p95", "availability"],
        "revision": [2, 1, 1],
        "value": [107.6, 193.4, 99.8],
        "note": ["", "", ""],
    }
)


def test_values_of_an_earlier_formula_or_another_kpi_are_not_compared():
    # a run made before revisions: peak_utilisation was the p99 (84.4 %), the
    # latency entry measured latency_p95; availability is unchanged
    before = pd.DataFrame(
        {
            "kpi_id": ["peak-utilisation", "latency-p95", "availability"],
            "kpi": ["peak_utilisation", "latency_p95", "availability"],
            "value": [84.4, 193.4, 99.6],
        }
    )
    card = build_scorecard(TREE, VALUES, before).set_index("kpi_id")
    assert card["previous"].isna().tolist() == [True, True, False]
    assert card.loc["availability", "change"] == pytest.approx(0.2)
    assert pd.isna(card.loc["peak-utilisation", "trend"])
    assert (
        "revision 1 of the formula, this one from revision 2"
        in (card.loc["peak-utilisation", "note"])
    )
    assert "measured 'latency_p95'" in card.loc["latency-p95", "note"]
    assert "not compared" not in card.loc["availability", "note"]


def test_values_of_the_same_revision_are_compared():
    before = VALUES.assign(value=[100.0, 200.0, 99.6])
    card = build_scorecard(TREE, VALUES, before).set_index("kpi_id")
    assert card["previous"].tolist() == [100.0, 200.0, 99.6]
    assert card.loc["peak-utilisation", "change"] == pytest.approx(7.6)
    assert card.loc["peak-utilisation", "trend"] == "up"
    assert not card["note"].str.contains("not compared").any()
