"""Step 5's methods: KPI data in, findings with evidence out.

Each method is a pure function of a series or a table and typed options that
returns :class:`Finding` records (one, or a list for methods that find several
episodes, changes or concentrations). When it cannot run on the data or finds
nothing, the record is of kind ``"no_finding"`` and its statement says why; a
wrong option or input type is a :class:`TypeError` or :class:`ValueError` (a
bug, not a data limit). A method reads as input checks (:mod:`.checks`), the
data limits, the statistics (in the ``_``-prefixed modules), and the wording of
its finding (:mod:`.question`).

- baselines: :mod:`.baseline` (each KPI against target), :mod:`.severity`;
- series: :mod:`.trend`, :mod:`.changepoint`, :mod:`.forecast`; anomalies:
  :mod:`.event_anomaly` (a cycle with its known events, on :mod:`.expected_level`,
  what step 5 runs) and :mod:`.anomaly` (online, no calendar: the NAB benchmark);
- load and events: :mod:`.capacity`, :mod:`.impact`, :mod:`.budget`;
- tickets: :mod:`.concentration`, :mod:`.drivers` (with :mod:`.ticket_outcomes`);
- actions: :mod:`.verification` (did an action work?);
- money at stake (downtime, SLA penalties, agent time): :mod:`.business`;
- error control across the report: :mod:`.multiplicity`;
- the report's view of the findings: :mod:`.summary`; large cycles: :mod:`.sampling`.

The methods are imported on first use, so that a step that only reads findings
does not pay for scipy's import.
"""

from csi_helpers.analysis.findings import (
    SEVERITIES,
    Finding,
    finding_id,
    findings_to_frame,
    no_finding,
    rank_findings,
)
from csi_helpers.lazy import exports

__getattr__, _METHODS = exports(
    __name__,
    {
        "csi_helpers.analysis.anomaly": ("anomaly_episodes", "anomaly_scores", "detect_anomalies",
                                         "merge_episodes"),
        "csi_helpers.analysis.event_anomaly": ("event_anomalies",),
        "csi_helpers.analysis.expected_level": ("expected_level",),
        "csi_helpers.analysis.verification": ("before_after",),
        "csi_helpers.analysis.forecast": ("capacity_forecast", "forecast_frame"),
        "csi_helpers.analysis.capacity": ("capacity_threshold",),
        "csi_helpers.analysis.changepoint": ("change_points",),
        "csi_helpers.analysis.drivers": ("driver_model",),
        "csi_helpers.analysis.budget": ("error_budget",),
        "csi_helpers.analysis.impact": ("event_impact",),
        "csi_helpers.analysis.multiplicity": ("control_report",),
        "csi_helpers.analysis.concentration": ("pareto", "pareto_findings"),
        "csi_helpers.analysis.trend": ("trend_test",),
    },
)  # fmt: skip

__all__ = [
    "SEVERITIES",
    "Finding",
    "finding_id",
    "findings_to_frame",
    "no_finding",
    "rank_findings",
    *_METHODS,
]
