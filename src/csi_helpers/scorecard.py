"""The KPI scorecard: target, actual, previous cycle, trend and RAG status."""

from __future__ import annotations

import math

import pandas as pd

from csi_helpers.analysis import Finding, finding_id, no_finding

ARROWS = {"up": "▲", "down": "▼", "flat": "▶", None: ""}


def rag_status(value: float | None, *, target: float, amber: float | None, direction: str) -> str:
    """Green when the target is met, amber up to the amber bound, red beyond; grey if unknown.

    Without an amber bound, anything short of the target is red.

    Example:
        >>> rag_status(99.7, target=99.9, amber=99.5, direction="higher")
        'amber'
        >>> rag_status(10, target=12, amber=24, direction="lower")
        'green'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "grey"
    sign = 1 if direction == "higher" else -1
    if sign * (value - target) >= 0:
        return "green"
    if amber is not None and sign * (value - amber) >= 0:
        return "amber"
    return "red"


def build_scorecard(
    tree: pd.DataFrame, values: pd.DataFrame, previous: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per KPI entry with its status and its change from the previous cycle.

    Args:
        tree: step 1's KPI tree.
        values: step 4's KPI values (``kpi_id``, ``value``, ``n``, ``excluded``, ``note``).
        previous: the previous cycle's KPI values, when there is one.
    """
    card = tree.dropna(subset=["kpi_id"]).merge(values, on=["kpi_id", "kpi"], how="left")
    card = card.rename(columns={"value": "actual"})
    if previous is not None and not previous.empty:
        card = card.merge(
            previous[["kpi_id", "value"]].rename(columns={"value": "previous"}),
            on="kpi_id",
            how="left",
        )
    else:
        card["previous"] = float("nan")
    card["status"] = [
        rag_status(
            r.actual,
            target=r.target,
            amber=None if pd.isna(r.amber) else r.amber,
            direction=r.direction,
        )
        for r in card.itertuples(index=False)
    ]
    change = card["actual"].astype(float) - card["previous"].astype(float)
    card["change"] = change
    tolerance = 1e-9 + 0.005 * card["previous"].abs().astype(float)
    card["trend"] = [
        None if pd.isna(c) else "flat" if abs(c) <= tol else "up" if c > 0 else "down"
        for c, tol in zip(change, tolerance, strict=True)
    ]
    card["improved"] = [
        None if pd.isna(c) or t == "flat" else (c > 0) == (d == "higher")
        for c, t, d in zip(change, card["trend"], card["direction"], strict=True)
    ]
    return card


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
            delta = float(r.actual) - float(r.previous)
            better = (delta > 0) == (r.direction == "higher")
            verb = "unchanged" if abs(delta) < 1e-12 else "improved" if better else "worsened"
            change = f"; previous cycle {r.previous:,.4g} {r.unit}"
            if verb != "unchanged":
                change += f" ({verb} by {abs(delta):,.4g} {r.unit})"
            else:
                change += " (unchanged)"
        gap = r.status in ("amber", "red")
        findings.append(
            Finding(
                id=finding_id("target_gap", r.kpi_id),
                kind="target_gap" if gap else "baseline",
                statement=(
                    f"{r.kpi_name} is {r.actual:,.4g} {r.unit} against a target of "
                    f"{r.target:,.4g} {r.unit} ({r.status}){change}."
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
