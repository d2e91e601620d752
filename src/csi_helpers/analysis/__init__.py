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
    "capacity_threshold": "csi_helpers.analysis.capacity",
    "trend_test": "csi_helpers.analysis.trend",
}


def __getattr__(name: str) -> Any:
    if name in _METHODS:
        return getattr(import_module(_METHODS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SEVERITIES",
    "Finding",
    "capacity_threshold",
    "finding_id",
    "findings_to_frame",
    "no_finding",
    "rank_findings",
    "trend_test",
]
