"""The KPI scorecard: each KPI entry's target, actual, previous cycle, trend and RAG status."""

from __future__ import annotations

import math

import pandas as pd

from csi_helpers.kpis import LIBRARY

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
        previous: the previous cycle's KPI values, when there is one. An entry is
            compared with its previous value only when both measure the same library
            KPI at the same revision of its formula (a run that predates revisions
            counts as revision 1); otherwise its note says why it is not compared.
    """
    card = tree.dropna(subset=["kpi_id"]).merge(values, on=["kpi_id", "kpi"], how="left")
    card = card.rename(columns={"value": "actual"})
    card["previous"] = float("nan")
    if previous is not None and not previous.empty:
        card = _with_previous(card, previous)
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


def _with_previous(card: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """``card`` with column ``previous``: the previous value of the same KPI and formula."""
    prior = previous.set_index("kpi_id")
    revisions = prior["revision"] if "revision" in prior else pd.Series(1, index=prior.index)
    before_kpi = card["kpi_id"].map(prior["kpi"])
    before_revision = card["kpi_id"].map(revisions).fillna(1).astype(int)
    before_value = card["kpi_id"].map(prior["value"])
    now = card["kpi"].map(lambda k: LIBRARY[k].revision if k in LIBRARY else 1)
    same = (before_kpi == card["kpi"]) & (before_revision == now)
    card = card.assign(previous=before_value.where(same))
    for i in card.index[before_value.notna() & ~same]:
        if before_kpi[i] != card.at[i, "kpi"]:
            why = f"the previous value measured {before_kpi[i]!r}"
        else:
            why = (
                f"the previous value came from revision {before_revision[i]} of the formula, "
                f"this one from revision {now[i]}"
            )
        note = card.at[i, "note"] if "note" in card and pd.notna(card.at[i, "note"]) else ""
        card.at[i, "note"] = "; ".join(
            filter(None, [note, f"not compared with the previous cycle: {why}"])
        )
    return card
