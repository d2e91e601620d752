"""The statistics of :func:`~csi_helpers.analysis.concentration.pareto_findings`.

Counts per attribute value, each value's outcome rate against the rate of all other
tickets (the rate ratio with its Katz interval, the one-sided Fisher exact p-value),
and Holm's correction across all values tested; the method is described in
:mod:`csi_helpers.analysis.concentration`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csi_helpers.analysis.ticket_outcomes import attribute_labels, holm

MIN_LEVEL_TICKETS = 10  # a value is tested only with this many tickets, and as many elsewhere
_Z95 = float(stats.norm.ppf(0.975))


def tabulate(
    labels: np.ndarray, hit: np.ndarray | None = None, known: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Counts per value, sorted by outcomes (if any), then tickets, descending, then value."""
    # np.unique(labels, return_inverse=True), by hashing: sorting a million label
    # objects takes seconds, sorting the few distinct values does not
    codes, uniques = pd.factorize(labels)
    alphabetical = np.argsort(uniques, kind="stable")
    levels = uniques[alphabetical]
    rank = np.empty(len(uniques), dtype=np.intp)
    rank[alphabetical] = np.arange(len(uniques))
    inverse = rank[codes]
    size = len(levels)
    table = {"value": levels, "tickets": np.bincount(inverse, minlength=size)}
    keys = [-table["tickets"]]
    if hit is not None and known is not None:
        for name, mask in (("outcome_known", known), ("outcomes", hit & known)):
            table[name] = np.bincount(inverse, weights=mask, minlength=size).astype("int64")
        keys.append(-table["outcomes"])
    order = np.lexsort(keys)  # stable: ties keep the values' alphabetical order
    return {name: column[order] for name, column in table.items()}


def _rate_ratio(a: np.ndarray, n1: np.ndarray, b: np.ndarray, n2: np.ndarray) -> tuple:
    """Rate ratio (a/n1)/(b/n2) and its Katz 95 % interval; +0.5 per cell if one is 0."""
    zero = (a == 0) | (b == 0) | (a == n1) | (b == n2)
    a, b = a + 0.5 * zero, b + 0.5 * zero
    n1, n2 = n1 + 1.0 * zero, n2 + 1.0 * zero
    log_rr = np.log(a / n1) - np.log(b / n2)
    se = np.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    return np.exp(log_rr), np.exp(log_rr - _Z95 * se), np.exp(log_rr + _Z95 * se)


def _concentration(counts: dict[str, np.ndarray], n: int, hits: int) -> dict[str, np.ndarray]:
    """Each value against all other tickets: shares, rates, rate ratio, one-sided Fisher p."""
    n1 = counts["tickets"].astype("float64")
    a = counts["outcomes"].astype("float64")
    n2, b = n - n1, hits - a
    rr, low, high = _rate_ratio(a, n1, b, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rest_rate = b / n2
    return {
        **counts,
        "ticket_share": n1 / n,
        "outcome_share": a / hits,
        "cumulative_outcome_share": np.cumsum(a) / hits,
        "rate": a / n1,
        "rest_rate": rest_rate,
        "rate_ratio": rr,
        "ci_low": low,
        "ci_high": high,
        "excess": a - n1 * hits / n,
        "p_raw": stats.hypergeom.sf(a - 1, n, hits, n1),  # P(X ≥ a): value over-represented
        "tested": (n1 >= MIN_LEVEL_TICKETS) & (n2 >= MIN_LEVEL_TICKETS),
    }


def concentration_tables(
    tickets: pd.DataFrame, dimensions: list[str], known: np.ndarray, y: np.ndarray
) -> tuple[dict[str, dict[str, np.ndarray]], int]:
    """Each attribute's concentration table, with Holm's p-values over all values tested.

    An attribute with one value only keeps its plain count table (no ``tested``).
    Returns the tables and the number of values tested in all.
    """
    n, hits = len(y), int(y.sum())
    tables = {}
    for dim in dimensions:
        table = tabulate(attribute_labels(tickets.loc[known, dim]), y, np.ones(n, dtype=bool))
        tables[dim] = _concentration(table, n, hits) if len(table["value"]) > 1 else table
    tested = [t["p_raw"][t["tested"]] for t in tables.values() if "tested" in t]
    m = sum(len(p) for p in tested)
    adjusted = iter(holm(np.concatenate(tested)) if m else [])
    for table in tables.values():
        if "tested" in table:
            table["p_holm"] = np.array([next(adjusted) if t else np.nan for t in table["tested"]])
    return tables, m


def value_row(table: dict[str, np.ndarray], index: int) -> dict[str, Any]:
    """One value's numbers, as Python scalars, for a statement and its evidence."""
    row = {
        name: table[name][index].item()
        for name in (
            "tickets",
            "outcomes",
            "ticket_share",
            "outcome_share",
            "rate",
            "rest_rate",
            "rate_ratio",
            "ci_low",
            "ci_high",
            "excess",
            "p_raw",
            "p_holm",
        )
    }
    row["share_gap_points"] = 100 * (row["outcome_share"] - row["ticket_share"])
    return {"value": str(table["value"][index]), **row}
