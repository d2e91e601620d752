"""Severity of a finding, judged by what it does to the KPIs' targets.

An analysis method knows whether its effect is real (the test) and how big it is,
but not whether it matters: a rising latency trend is urgent when latency already
misses its target and a warning when it does not. Step 5 therefore re-derives each
finding's severity here, with one rule:

* The finding is linked to the KPI entries its metric bears on (:data:`METRIC_KPIS`:
  daily p95 latency bears on the ``latency_p95`` KPI, load on ``peak_utilisation``,
  SLA breaches on ``sla_compliance`` ...).
* The finding *worsens* its KPIs when its effect moves the metric the bad way (a
  rise for load, latency, errors, incidents, downtime, breaches, time to resolve
  and backlog; a fall for SLA compliance, :data:`HIGHER_IS_BETTER`) or when its
  kind is bad news by nature (a capacity knee, a concentration of breaches, an
  anomaly episode).
* A worsening finding is **high** when a linked KPI is red, **medium** otherwise; an
  improving one is **low**. Target gaps take their RAG colour (red high, amber
  medium, green low). Capacity forecasts and error budgets are judged against their
  own limit by their method, and keep that severity. A weekly peak is load above
  the mean where capacity is needed most: it ranks with the utilisation KPIs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pandas as pd

from csi_helpers.analysis.findings import Finding

#: Analysed metric (a series column or outcome) → KPI library ids it bears on.
METRIC_KPIS: dict[str, tuple[str, ...]] = {
    "requests": (
        "peak_utilisation",
        "utilisation_p99",
        "mean_utilisation",
        "hours_above_utilisation",
    ),
    "utilisation": (
        "peak_utilisation",
        "utilisation_p99",
        "mean_utilisation",
        "hours_above_utilisation",
    ),
    "peak_utilisation": ("peak_utilisation", "utilisation_p99", "hours_above_utilisation"),
    "latency_p95_ms": (
        "latency_p95",
        "latency_p95_of_interval_p95",
        "latency_p99",
        "error_budget_remaining",
    ),
    "error_rate": ("error_rate", "error_budget_remaining"),
    "incidents": ("incident_volume", "backlog"),
    "downtime_min": ("downtime_minutes", "availability", "availability_from_samples"),
    "breached": ("sla_compliance", "sla_error_budget_remaining"),
    # the weekly ticket KPIs (steps.analyse.tickets), by library id
    "mean_time_to_resolve": ("mean_time_to_resolve",),
    "sla_compliance": ("sla_compliance",),
    "backlog": ("backlog",),
}

#: Analysed metrics that are better when higher: a fall worsens them.
HIGHER_IS_BETTER = frozenset({"sla_compliance"})

#: Kinds that are bad news whatever the sign of their effect.
ALWAYS_WORSE = frozenset({"capacity_threshold", "concentration", "anomaly", "drivers"})

#: Kinds whose method judges severity against its own limit.
SELF_JUDGED = frozenset({"capacity_forecast", "error_budget"})

_RAG_SEVERITY = {"red": "high", "amber": "medium", "green": "low", "grey": "info"}


def linked_status(card: pd.DataFrame, series: str) -> str | None:
    """The worst RAG status among the scorecard's KPIs that ``series`` bears on.

    Example:
        >>> card = pd.DataFrame({"kpi": ["latency_p95", "csat_mean"],
        ...                      "status": ["amber", "red"]})
        >>> linked_status(card, "latency_p95_ms"), linked_status(card, "requests")
        ('amber', None)
    """
    kpis = METRIC_KPIS.get(series, ())
    statuses = set(card.loc[card["kpi"].isin(kpis), "status"])
    for status in ("red", "amber", "green"):
        if status in statuses:
            return status
    return None


def assess(finding: Finding, card: pd.DataFrame, *, series: str | None = None) -> Finding:
    """Return the finding with its severity derived from the KPI targets it bears on.

    Args:
        finding: A finding from an analysis method (no-finding records pass through).
        card: Step 5's scorecard (``kpi`` library id and ``status`` per KPI entry).
        series: The analysed column (a key of :data:`METRIC_KPIS`); defaults to the
            finding's metric.

    The linked KPIs and their worst status are added to the evidence, so that the
    report can say why a finding ranks where it does.

    Example:
        >>> card = pd.DataFrame({"kpi": ["latency_p95"], "status": ["red"]})
        >>> rising = Finding(id="trend:lat", kind="trend", statement="s", metric="p95",
        ...                  method="m", severity="medium", effect=2.0)
        >>> assess(rising, card, series="latency_p95_ms").severity
        'high'
        >>> assess(dataclasses.replace(rising, effect=-2.0), card, series="latency_p95_ms").severity
        'low'
    """
    if not finding.is_finding:
        return finding
    if finding.kind in ("target_gap", "baseline"):
        status = finding.evidence.get("status", "grey")
        return dataclasses.replace(finding, severity=_RAG_SEVERITY.get(status, "info"))
    key = series or finding.metric
    status = linked_status(card, key)
    evidence: Mapping = {
        **finding.evidence,
        "linked_kpis": sorted(set(card.loc[card["kpi"].isin(METRIC_KPIS.get(key, ())), "kpi"])),
        "linked_status": status,
    }
    if finding.kind in SELF_JUDGED:
        return dataclasses.replace(finding, evidence=evidence)
    sign = -1 if key in HIGHER_IS_BETTER else 1
    worsens = finding.kind in ALWAYS_WORSE or sign * (finding.effect or 0) > 0
    severity = ("high" if status == "red" else "medium") if worsens else "low"
    return dataclasses.replace(finding, severity=severity, evidence=evidence)
