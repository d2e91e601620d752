"""Step 1: the objective → success factor → KPI tree and its gaps."""

from __future__ import annotations

import yaml

from csi_helpers.params import Strategy
from csi_helpers.report.charts import kpi_tree_figure
from csi_helpers.strategy import kpi_tree, strategy_warnings

STRATEGY = Strategy.model_validate(
    yaml.safe_load("""
objectives:
  - id: o1
    statement: Shop stays up
    owner: Head of E-commerce
    csfs:
      - id: c1
        statement: Few outages
        kpis:
          - {id: avail, kpi: availability, target: 99.9, direction: higher}
          - {id: down, kpi: downtime_minutes, target: 60, direction: lower, unit: minutes}
      - {id: c2, statement: Nobody measures this yet}
  - {id: o2, statement: Happy customers}
""")
)


def test_tree_has_a_row_per_kpi_and_keeps_the_gaps_visible():
    tree = kpi_tree(STRATEGY)
    assert tree["kpi_id"].tolist()[:2] == ["avail", "down"]
    assert tree.loc[0, "kpi_name"] == "Availability" and tree.loc[0, "unit"] == "%"
    assert tree.loc[1, "unit"] == "minutes"  # the entry's unit wins over the library's
    assert len(tree) == 4  # two KPIs, a success factor without KPI, an objective without any


def test_objectives_and_success_factors_without_kpis_are_warned_about():
    warnings = strategy_warnings(kpi_tree(STRATEGY))
    assert warnings == [
        "objective 'o2' has no KPI: nothing will show whether it is met",
        "success factor 'c2' has no KPI",
    ]


def test_tree_figure_draws_every_node():
    fig = kpi_tree_figure(kpi_tree(STRATEGY))
    labels = {t.get_text() for t in fig.axes[0].texts}
    expected = {"Shop stays up", "Happy customers", "Nobody measures this yet", "Availability"}
    assert expected <= labels
