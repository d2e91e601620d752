"""Step 5 (analyse): methods that turn KPI data into findings with evidence.

Each method is a pure function that returns one :class:`Finding`; when it cannot
run on the data or finds nothing, the Finding is of kind ``"no_finding"`` and its
statement says why.

The methods are imported on first use, so that a step that only reads findings
does not pay for scipy's import.
"""

from importlib import import_module
from typing import Any

from csi_helpers.analysis.findings import (
    SEVERITIES,
    Finding,
    finding_id,
    findings_to_frame,
    no_finding,
    rank_findings,
)

_METHODS = {
    "anomaly_episodes": "csi_helpers.analysis.anomaly",
    "anomaly_scores": "csi_helpers.analysis.anomaly",
    "before_after": "csi_helpers.analysis.verification",
    "capacity_forecast": "csi_helpers.analysis.forecast",
    "capacity_threshold": "csi_helpers.analysis.capacity",
    "change_points": "csi_helpers.analysis.changepoint",
    "detect_anomalies": "csi_helpers.analysis.anomaly",
    "driver_model": "csi_helpers.analysis.drivers",
    "error_budget": "csi_helpers.analysis.budget",
    "event_impact": "csi_helpers.analysis.impact",
    "forecast_frame": "csi_helpers.analysis.forecast",
    "merge_episodes": "csi_helpers.analysis.anomaly",
    "pareto": "csi_helpers.analysis.concentration",
    "pareto_findings": "csi_helpers.analysis.concentration",
    "trend_test": "csi_helpers.analysis.trend",
}


def __getattr__(name: str) -> Any:
    if name in _METHODS:
        return getattr(import_module(_METHODS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SEVERITIES",
    "Finding",
    "finding_id",
    "findings_to_frame",
    "no_finding",
    "rank_findings",
    *_METHODS,
]
