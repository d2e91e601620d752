"""Step 1 (strategy): business objectives → critical success factors → the KPIs to measure.

The tree comes from the params' ``strategy`` (:mod:`csi_helpers.strategy.kpi_tree`);
an objective or success factor that no KPI measures is a warning, shown in the
notebook and in the report's appendix.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers import strategy
from csi_helpers.report import charts
from csi_helpers.runfolder.context import StepContext
from csi_helpers.tables import catalogue

__all__ = ["draw_kpi_tree", "kpi_tree", "strategy_gaps"]


def kpi_tree(ctx: StepContext) -> pd.DataFrame:
    """The KPI tree of the params' strategy, one row per KPI entry; written for later steps."""
    tree = strategy.kpi_tree(ctx.params.strategy)
    ctx.write_table(catalogue.KPI_TREE, tree)
    return tree


def draw_kpi_tree(ctx: StepContext, tree: pd.DataFrame) -> None:
    """Draw the tree as three columns of boxes and save it with the step's figures."""
    ctx.save_figure("kpi_tree", charts.kpi_tree_figure(tree))


def strategy_gaps(ctx: StepContext, tree: pd.DataFrame) -> list[str]:
    """Objectives and success factors no KPI measures, recorded as the step's warnings."""
    gaps = strategy.strategy_warnings(tree)
    ctx.warn(*gaps)
    return gaps
