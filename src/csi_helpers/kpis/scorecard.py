"""The KPI scorecard: each KPI entry's target, actual, previous cycle, trend and RAG status."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["build_scorecard", "rag_status"]


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
