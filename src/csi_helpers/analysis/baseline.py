"""Baselines: each KPI entry against its target and the previous cycle, as findings."""

from __future__ import annotations

import pandas as pd

from csi_helpers.analysis.findings import Finding, finding_id, no_finding
from csi_helpers.report import formatting

__all__ = ["kpi_findings"]


def kpi_findings(card: pd.DataFrame) -> list[Finding]:
    """One finding per KPI entry: its baseline against target and the previous cycle.

    A KPI that misses its target (amber or red) is a ``target_gap``; one that meets it
    is a ``baseline`` (severity low); one that cannot be measured is a no-finding
    whose statement gives step 4's reason, so that the report says so rather than
    leaving a hole.

    Example:
        >>> card = pd.DataFrame({
        ...     "kpi_id": ["mttr"], "kpi_name": ["MTTR"], "kpi": ["mean_time_to_resolve"],
        ...     "actual": [14.0], "target": [12.0], "amber": [24.0], "previous": [18.0],
        ...     "unit": ["h"], "status": ["amber"], "n": [120], "note": [""],
        ...     "direction": ["lower"]})
        >>> [f.statement for f in kpi_findings(card)]
        ['MTTR is 14 h against a target of 12 h (amber); previous cycle 18 h (improved by 4 h).']
    """
    findings = []
    for r in card.itertuples(index=False):
        if r.status == "grey":
            reason = r.note if isinstance(r.note, str) and r.note else "no data for it"
            findings.append(
                no_finding(
                    analysis="target_gap",
                    metric=r.kpi_id,
                    reason="not_measurable",
                    detail=f"{r.kpi_name} cannot be measured this cycle: {reason}",
                    method="actual vs target with RAG thresholds",
                )
            )
            continue
        change = ""
        if not pd.isna(r.previous):
            moved = formatting.change(float(r.previous), float(r.actual), r.unit)
            delta = float(r.actual) - float(r.previous)
            better = (delta > 0) == (r.direction == "higher")
            verb = "unchanged" if moved == "unchanged" else "improved" if better else "worsened"
            change = f"; previous cycle {formatting.quantity(r.previous, r.unit)}"
            change += (
                f" ({verb} by {moved.lstrip('+-')})" if verb != "unchanged" else " (unchanged)"
            )
        gap = r.status in ("amber", "red")
        findings.append(
            Finding(
                id=finding_id("target_gap", r.kpi_id),
                kind="target_gap" if gap else "baseline",
                statement=(
                    f"{r.kpi_name} is {formatting.quantity(r.actual, r.unit)} against a target "
                    f"of {formatting.quantity(r.target, r.unit)} ({r.status}){change}."
                ),
                metric=r.kpi_id,
                method="actual vs target with RAG thresholds",
                severity={"red": "high", "amber": "medium"}.get(r.status, "low"),
                effect=float(r.actual - r.target),
                unit=r.unit,
                evidence={
                    "actual": r.actual,
                    "target": r.target,
                    "amber": r.amber,
                    "previous": r.previous,
                    "change": None if pd.isna(r.previous) else float(r.actual - r.previous),
                    "n": r.n,
                    "status": r.status,
                    "kpi": r.kpi,
                },
            )
        )
    return findings
