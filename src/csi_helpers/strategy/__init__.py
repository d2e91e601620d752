"""What should be measured, and what can be: ITIL steps 1 and 2, as pure functions.

- :mod:`~csi_helpers.strategy.kpi_tree`: business objectives → critical success
  factors → KPIs, from the params' strategy, with the gaps (an objective no KPI
  measures);
- :mod:`~csi_helpers.strategy.measurement_plan`: per KPI entry, whether the
  configured sources can measure it, from which fields, and what closes the gap.
"""

from typing import Any

from csi_helpers.strategy.kpi_tree import TREE_COLUMNS, kpi_tree, strategy_warnings

__all__ = ["TREE_COLUMNS", "kpi_tree", "strategy_warnings"]


def __getattr__(name: str) -> Any:
    if name == "kpi_tree_figure":  # the old flat module `csi_helpers.strategy` had it
        from csi_helpers.compat import moved
        from csi_helpers.report import charts

        moved("csi_helpers.strategy.kpi_tree_figure", "csi_helpers.report.charts.kpi_tree_figure")
        return charts.kpi_tree_figure
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
