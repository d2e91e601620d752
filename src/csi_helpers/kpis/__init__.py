"""The KPI library: one pure function per KPI, registered under a stable id.

Params name library KPIs by id (``kpi: mean_time_to_resolve``); step 2 checks
that the configured sources carry each KPI's fields; step 4 computes them.
"""

from __future__ import annotations

import difflib

import pandas as pd

from csi_helpers.errors import ParamsError
from csi_helpers.kpis.availability import availability, downtime_minutes
from csi_helpers.kpis.base import KpiDefinition, KpiResult
from csi_helpers.kpis.customers import csat_mean, survey_response_rate
from csi_helpers.kpis.incidents import incident_volume, mean_time_to_resolve, sla_compliance
from csi_helpers.kpis.performance import latency_p95, peak_utilisation

_DEFINITIONS = (
    KpiDefinition(
        "incident_volume",
        "Incidents opened",
        "tickets",
        "tickets",
        ("opened_at",),
        "lower",
        incident_volume,
    ),
    KpiDefinition(
        "mean_time_to_resolve",
        "Mean time to resolve",
        "h",
        "tickets",
        ("opened_at", "resolved_at"),
        "lower",
        mean_time_to_resolve,
    ),
    KpiDefinition(
        "sla_compliance",
        "SLA compliance",
        "%",
        "tickets",
        ("opened_at", "made_sla"),
        "higher",
        sla_compliance,
    ),
    KpiDefinition(
        "availability", "Availability", "%", "downtime", ("start", "end"), "higher", availability
    ),
    KpiDefinition(
        "downtime_minutes",
        "Downtime",
        "min",
        "downtime",
        ("start", "end"),
        "lower",
        downtime_minutes,
    ),
    KpiDefinition(
        "latency_p95",
        "p95 response time",
        "ms",
        "monitoring",
        ("timestamp", "latency_p95_ms"),
        "lower",
        latency_p95,
    ),
    KpiDefinition(
        "peak_utilisation",
        "Peak utilisation of capacity",
        "%",
        "monitoring",
        ("timestamp", "utilisation"),
        "lower",
        peak_utilisation,
    ),
    KpiDefinition(
        "csat_mean",
        "Customer satisfaction (mean score)",
        "score",
        "survey",
        ("sent_at", "score"),
        "higher",
        csat_mean,
    ),
    KpiDefinition(
        "survey_response_rate",
        "Survey response rate",
        "%",
        "survey",
        ("sent_at", "score"),
        "higher",
        survey_response_rate,
    ),
)

LIBRARY: dict[str, KpiDefinition] = {d.id: d for d in _DEFINITIONS}


def get_definition(kpi_id: str) -> KpiDefinition:
    """The library KPI with that id; a ParamsError with a did-you-mean otherwise."""
    if kpi_id in LIBRARY:
        return LIBRARY[kpi_id]
    close = difflib.get_close_matches(kpi_id, LIBRARY, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ParamsError(f"unknown KPI {kpi_id!r}; {hint}known KPIs: {', '.join(LIBRARY)}")


def compute_kpi(
    kpi_id: str, table: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Compute library KPI ``kpi_id`` on its canonical table over [start, end)."""
    return get_definition(kpi_id).compute(table, start=start, end=end)


__all__ = ["LIBRARY", "KpiDefinition", "KpiResult", "compute_kpi", "get_definition"]
