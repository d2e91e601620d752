"""The scorecard compares a KPI with the previous cycle only under the same formula."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.kpis.scorecard import build_scorecard, rag_status

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


@pytest.mark.parametrize(
    ("value", "target", "amber", "direction", "status"),
    [
        (99.9, 99.9, 99.5, "higher", "green"),  # on the target is met
        (99.95, 99.9, 99.5, "higher", "green"),
        (99.5, 99.9, 99.5, "higher", "amber"),  # on the amber bound is amber
        (99.49, 99.9, 99.5, "higher", "red"),
        (99.8, 99.9, None, "higher", "red"),  # no amber band: short of the target is red
        (300.0, 300.0, 450.0, "lower", "green"),
        (300.1, 300.0, 450.0, "lower", "amber"),
        (450.0, 300.0, 450.0, "lower", "amber"),
        (450.1, 300.0, 450.0, "lower", "red"),
        (299.0, 300.0, None, "lower", "green"),
        (None, 300.0, 450.0, "lower", "grey"),
        (float("nan"), 99.9, 99.5, "higher", "grey"),
    ],
)
def test_rag_status_at_and_around_each_bound(value, target, amber, direction, status):
    assert rag_status(value, target=target, amber=amber, direction=direction) == status


def test_status_trend_and_improvement_of_each_row():
    """Hand-worked: peak utilisation 107.6 % (lower is better, amber to 90) is red and up
    from 100 (worse); latency 193.4 ms against 193.0 is within 0.5 % of it, so flat, and
    neither better nor worse; availability 99.8 % (amber from 99.5) is amber, 0.2 points
    up from 99.6, within 0.5 % of it (0.498), so flat too. Without a previous cycle
    nothing is compared."""
    before = VALUES.assign(value=[100.0, 193.0, 99.6])
    card = build_scorecard(TREE, VALUES, before).set_index("kpi_id")
    assert card["status"].tolist() == ["red", "green", "amber"]
    assert card["trend"].tolist() == ["up", "flat", "flat"]
    assert card["improved"].tolist() == [False, None, None]
    better = build_scorecard(TREE, VALUES, VALUES.assign(value=[110.0, 250.0, 98.0]))
    assert better.set_index("kpi_id")["trend"].tolist() == ["down", "down", "up"]
    assert better.set_index("kpi_id")["improved"].tolist() == [True, True, True]
    alone = build_scorecard(TREE, VALUES).set_index("kpi_id")
    assert alone["previous"].isna().all() and alone["change"].isna().all()
    assert alone["trend"].tolist() == [None, None, None]
    assert alone["improved"].tolist() == [None, None, None]
    assert build_scorecard(TREE, VALUES, VALUES.iloc[:0])["previous"].isna().all()


def test_a_move_from_zero_is_a_trend_and_notes_are_kept_beside_the_reason():
    """From 0 any change is a move (the 0.5 % tolerance of nothing is nothing); a value
    without a note that cannot be compared gets the reason alone, one with a note keeps
    it before the reason."""
    before = VALUES.assign(value=[107.6, 193.4, 0.0], revision=[1, 1, 1])
    now = VALUES.assign(value=[107.6, 193.4, 0.5], note=[None, "", ""])
    card = build_scorecard(TREE, now, before).set_index("kpi_id")
    assert card.loc["availability", "trend"] == "up" and card.loc["availability", "improved"]
    reason = (
        "not compared with the previous cycle: the previous value came from revision 1 of "
        "the formula, this one from revision 2"
    )
    assert card.loc["peak-utilisation", "note"] == reason
    noted = build_scorecard(TREE, now.assign(note=["2 samples left out", "", ""]), before)
    assert noted.set_index("kpi_id").loc["peak-utilisation", "note"] == (
        f"2 samples left out; {reason}"
    )


def test_small_moves_directions_from_params_and_revisions_either_way():
    """Moves under one unit count (+0.5 on 10 is up and -0.5 down: the tolerance is 0.05);
    directions read from params are compared by value; a previous value
    measured by a KPI that sorts after this one is still another KPI; a previous revision
    newer than this one's is not compared; a KPI outside the library is revision 1."""
    tree = TREE.assign(direction=["".join(["lo", "wer"]), "lower", "".join(["hig", "her"])])
    before = VALUES.assign(value=[107.6, 193.4, 99.3])
    now = VALUES.assign(value=[107.6, 193.4, 99.8])
    card = build_scorecard(tree, now, before).set_index("kpi_id")
    assert (card.loc["availability", "trend"], card.loc["availability", "improved"]) == ("up", True)
    small = build_scorecard(
        tree, now.assign(value=[10.5, 193.4, 99.8]), before.assign(value=[10.0, 193.4, 99.8])
    )
    assert small.set_index("kpi_id").loc["peak-utilisation", ["trend", "improved"]].tolist() == [
        "up",
        False,
    ]
    down = build_scorecard(
        tree, now.assign(value=[9.5, 193.4, 99.8]), before.assign(value=[10.0, 193.4, 99.8])
    )
    assert down.set_index("kpi_id").loc["peak-utilisation", ["trend", "improved"]].tolist() == [
        "down",
        True,
    ]
    other = before.assign(kpi=["peak_utilisation", "latency_p95_ok", "availability"])
    card = build_scorecard(TREE, now, other).set_index("kpi_id")
    assert pd.isna(card.loc["latency-p95", "previous"])
    assert "the previous value measured 'latency_p95_ok'" in card.loc["latency-p95", "note"]
    newer = build_scorecard(TREE, now, before.assign(revision=[2, 1, 3])).set_index("kpi_id")
    assert pd.isna(newer.loc["availability", "previous"])
    assert (
        "revision 3 of the formula, this one from revision 1" in newer.loc["availability", "note"]
    )
    custom_tree = TREE.assign(kpi=["peak_utilisation", "latency_p95_of_interval_p95", "my_uptime"])
    custom = VALUES.assign(kpi=["peak_utilisation", "latency_p95_of_interval_p95", "my_uptime"])
    card = build_scorecard(custom_tree, custom, custom.assign(value=[107.6, 193.4, 99.6]))
    assert card.set_index("kpi_id").loc["availability", "previous"] == 99.6
