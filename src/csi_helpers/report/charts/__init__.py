"""Charts in the house style (:mod:`csi_helpers.report.style`): each returns a figure.

Every chart is a pure function of tables and plain values: it never reads a
file, shows or saves the figure; the step decides (``ctx.save_figure``). By family:
:mod:`~csi_helpers.report.charts.series` (time series), :mod:`~csi_helpers.report.charts.breakdowns`
and :mod:`~csi_helpers.report.charts.kpis`.
"""

from __future__ import annotations

from csi_helpers.report.charts.breakdowns import (
    importance_chart,
    pareto_chart,
    resolution_time_distribution,
)
from csi_helpers.report.charts.kpis import (
    before_after_chart,
    kpi_tree_figure,
    target_gap_chart,
)
from csi_helpers.report.charts.series import (
    CURVE_POINTS,
    WEEKDAYS,
    anomaly_chart,
    budget_chart,
    capacity_chart,
    change_point_chart,
    daily_overview,
    event_impact_chart,
    forecast_chart,
    trend_chart,
    weekday_hour_heatmap,
)

__all__ = [
    "CURVE_POINTS",
    "WEEKDAYS",
    "anomaly_chart",
    "before_after_chart",
    "budget_chart",
    "capacity_chart",
    "change_point_chart",
    "daily_overview",
    "event_impact_chart",
    "forecast_chart",
    "importance_chart",
    "kpi_tree_figure",
    "pareto_chart",
    "resolution_time_distribution",
    "target_gap_chart",
    "trend_chart",
    "weekday_hour_heatmap",
]
