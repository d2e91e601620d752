"""The KPI scorecard: target, actual, previous cycle, trend and RAG status."""

from __future__ import annotations

import math

import pandas as pd

from csi_helpers.analysis import Finding, finding_id

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


def gap_findings(card: pd.DataFrame) -> list[Finding]:
    """A finding for every KPI that misses its target (amber or red)."""
    findings = []
    for r in card[card["status"].isin(["amber", "red"])].itertuples(index=False):
        gap = r.actual - r.target
        change = ""
        if not pd.isna(r.previous):
            change = f"; previous cycle {r.previous:,.4g} {r.unit}"
        findings.append(
            Finding(
                id=finding_id("target_gap", r.kpi_id),
                kind="target_gap",
                statement=(
                    f"{r.kpi_name} is {r.actual:,.4g} {r.unit} against a target of "
                    f"{r.target:,.4g} {r.unit} ({r.status}){change}."
                ),
                metric=r.kpi_id,
                method="actual vs target with RAG thresholds",
                severity="high" if r.status == "red" else "medium",
                effect=float(gap),
                unit=r.unit,
                evidence={
                    "actual": r.actual,
                    "target": r.target,
                    "amber": r.amber,
                    "previous": r.previous,
                    "n": r.n,
                    "status": r.status,
                },
            )
        )
    return findings
