"""Where an outcome such as SLA breaches concentrates: the Pareto table and a tested Pareto.

* :func:`pareto` tabulates tickets and outcomes (e.g. ``breached = ~made_sla``) per
  value of one attribute, sorted with cumulative shares: the classic Pareto table.
* :func:`pareto_findings` asks, for every value of every attribute given, whether
  the value holds more of the outcomes than its share of tickets: its outcome rate
  against the rate of all other tickets. The test is the one-sided Fisher exact
  test (the hypergeometric tail, Agresti 2013, §3.5), corrected across *all* values
  of all attributes tested in one call with Holm's (1979) step-down procedure, so
  that data without any concentration yields a finding in at most ``alpha`` of
  calls. The effect is the rate ratio (value's rate / rate elsewhere) with the
  Katz log interval (Katz et al. 1978), 0.5 added to every cell when one is zero.
  The rate ratio is chosen over "outcome share minus ticket share" because it does
  not depend on how large the value is or how common the outcome is, and it has a
  standard interval; both shares are still in the statement and the evidence.

What predicts the outcome, attribute by attribute and together, is the driver model
of :mod:`csi_helpers.analysis.drivers`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis._rate_ratios import (
    MIN_LEVEL_TICKETS,
    concentration_tables,
    tabulate,
    value_row,
)
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question
from csi_helpers.analysis.ticket_outcomes import (
    BLANK,
    COLUMN_NAME,
    attribute_labels,
    check_names,
    name_outcomes,
    outcome_values,
    percent,
)
from csi_helpers.report import formatting

CONCENTRATION = "concentration"
MIN_TICKETS = 30  # tickets with a known outcome, for a concentration test
MIN_OUTCOMES = 10  # outcomes (and non-outcomes) for a concentration test


def pareto(tickets: pd.DataFrame, *, by: str, outcome: str | None = None) -> pd.DataFrame:
    """Tabulate tickets (and outcomes) per value of one attribute, Pareto-sorted.

    Args:
        tickets: One row per ticket (the canonical tickets table or any subset).
        by: Attribute to group by, e.g. ``"assignment_group"``; missing or empty
            values are grouped as ``"(blank)"``.
        outcome: Optional boolean column, e.g. ``breached`` derived as
            ``~made_sla``; tickets with a missing outcome count as tickets but not
            in ``outcome_known``.

    Returns:
        One row per value, columns ``by``, ``tickets``, ``ticket_share``,
        ``cumulative_ticket_share``; with ``outcome`` also ``outcome_known``,
        ``outcomes`` (True count), ``outcome_share`` (of all outcomes),
        ``cumulative_outcome_share`` and ``outcome_rate`` (``outcomes /
        outcome_known``). Sorted by outcomes (without ``outcome``: tickets), then
        tickets, descending, then value.

    Raises:
        TypeError: If ``tickets`` is not a DataFrame, a column name is not a string, or
            ``outcome`` does not hold True/False.
        ValueError: If a column is missing, ``by`` is ``outcome``, or ``outcome`` holds
            numbers other than 0 and 1.

    Example:
        >>> t = pd.DataFrame({"group": ["A", "A", "A", "B", None],
        ...                   "breached": [True, True, False, False, True]})
        >>> table = pareto(t, by="group", outcome="breached")
        >>> for r in table.itertuples():
        ...     print(r.group, r.tickets, r.outcomes, f"{r.outcome_share:.3f} {r.outcome_rate:.3f}")
        A 3 2 0.667 0.667
        (blank) 1 1 0.333 1.000
        B 1 0 0.000 0.000
    """
    checks.frame(tickets, function="pareto", what="a tickets DataFrame")
    checks.label("by", by, meaning=COLUMN_NAME)
    columns = [("by", by)]
    if outcome is not None:
        checks.label("outcome", outcome, meaning=COLUMN_NAME)
        if outcome == by:
            raise ValueError(f"by and outcome must be different columns, both are {by!r}")
        columns.append(("outcome", outcome))
    checks.columns(tickets, columns, table="the tickets table")
    hit = known = None
    if outcome is not None:
        values = outcome_values(tickets, outcome)
        known = values.notna().to_numpy()
        hit = values.fillna(False).to_numpy(dtype=bool)
    counts = tabulate(attribute_labels(tickets[by]), hit, known)
    table = pd.DataFrame({by: counts["value"], "tickets": counts["tickets"]})
    table["ticket_share"] = table["tickets"] / max(len(tickets), 1)
    table["cumulative_ticket_share"] = table["ticket_share"].cumsum()
    if outcome is not None:
        table["outcome_known"] = counts["outcome_known"]
        table["outcomes"] = counts["outcomes"]
        table["outcome_share"] = table["outcomes"] / max(int(table["outcomes"].sum()), 1)
        table["cumulative_outcome_share"] = table["outcome_share"].cumsum()
        table["outcome_rate"] = table["outcomes"] / table["outcome_known"].where(
            table["outcome_known"] > 0
        )
    return table


def pareto_findings(
    tickets: pd.DataFrame,
    *,
    by: Sequence[str] = ("category", "assignment_group", "priority"),
    outcome: str = "breached",
    alpha: float = 0.05,
    top: int = 3,
    outcome_label: str | None = None,
    scope: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Find attribute values that hold a disproportionate share of an outcome.

    Every value with at least 10 tickets (and 10 elsewhere) is tested against all
    other tickets with a one-sided Fisher exact test; the p-values of all values
    of all attributes are Holm-adjusted together. A value is reported when its
    adjusted p-value is below ``alpha`` and the 95 % interval of its rate ratio
    lies above 1. Tickets with a missing outcome are dropped and counted.

    Args:
        tickets: One row per ticket.
        by: Attributes to examine, e.g. category, assignment group, priority.
        outcome: Boolean column of the outcome, e.g. ``breached = ~made_sla``.
        alpha: Family-wise significance level over all values tested in the call.
        top: At most this many findings per attribute, largest excess of outcomes
            over the overall rate first.
        outcome_label: Plain-language name of the outcomes for the statement;
            default ``"SLA breaches"`` for ``breached``, else ``"'<outcome>' tickets"``.
        scope: Where the tickets come from (service, period, ...), copied to findings.

    Returns:
        Per attribute, its findings of kind ``"concentration"`` (``effect`` the rate
        ratio with its 95 % CI, ``p_value`` Holm-adjusted, scope ``by`` and
        ``value``, ``evidence`` with both shares, both rates and the counts; severity
        ``"high"`` when the value holds half the outcomes or more with a rate ratio
        whose interval starts at 2 or above, else ``"medium"``), or one
        ``"no_finding"`` that says why: no outcome column (``no_outcome``), too few
        tickets or outcomes (``too_few_tickets``, ``too_few_events``), one value only
        (``single_value``, ``all_missing``), or nothing significant
        (``not_significant``, with the most over-represented value's numbers).

    Raises:
        TypeError: If ``tickets`` is not a DataFrame, an option is of the wrong type,
            or ``outcome`` does not hold True/False.
        ValueError: If an attribute column is missing, ``outcome`` is one of ``by``,
            or an option is out of range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> group = rng.choice(["Web", "DB", "Desk", "Net"], 2000)
        >>> t = pd.DataFrame({"assignment_group": group,
        ...                   "breached": rng.random(2000) < np.where(group == "Web", .3, .1)})
        >>> [f.scope["value"] for f in pareto_findings(t, by=["assignment_group"])]
        ['Web']
    """
    dimensions = _check_inputs(tickets, by, outcome, alpha, top)
    label = name_outcomes(outcome, outcome_label)
    method = f"fisher_exact_one_sided + holm(alpha={alpha}) + katz_rate_ratio_ci"
    asked = Question(CONCENTRATION, outcome, method, "rate ratio", checks.scope(scope))
    if outcome not in tickets.columns:
        detail = f"no {outcome!r} column: cannot tell where {label} gather"
        return [_nothing(asked, d, alpha, "no_outcome", detail, {}) for d in dimensions]
    values = outcome_values(tickets, outcome)
    known = values.notna().to_numpy()
    y = values.fillna(False).to_numpy(dtype=bool)[known]
    n, hits = len(y), int(y.sum())
    counts = {"n_tickets": len(tickets), "n_known": n, "n_missing_outcome": len(tickets) - n}
    counts["n_outcomes"] = hits
    few = _too_few(n, hits, label)
    if few is not None:
        return [_nothing(asked, d, alpha, *few, counts) for d in dimensions]
    tables, m = concentration_tables(tickets, dimensions, known, y)
    results: list[Finding] = []
    for dim, table in tables.items():
        results += _dimension(asked, dim, table, counts, m=m, label=label, alpha=alpha, top=top)
    return results


def _check_inputs(
    tickets: object, by: object, outcome: object, alpha: object, top: object
) -> list[str]:
    checks.frame(tickets, function="pareto_findings", what="a tickets DataFrame")
    dimensions = check_names(by, "by")
    checks.label("outcome", outcome, meaning=COLUMN_NAME)
    checks.alpha(alpha)
    checks.integer("top", top, low=1)
    checks.columns(tickets, [("in by", d) for d in dimensions], table="the tickets table")
    if outcome in dimensions:
        raise ValueError(f"outcome {outcome!r} cannot also be one of by {dimensions}")
    return dimensions


def _nothing(
    asked: Question,
    dim: str,
    alpha: float,
    reason: str,
    detail: str,
    evidence: Mapping[str, Any],
    **numbers: Any,
) -> Finding:
    """The no-finding of one attribute (its scope names the attribute)."""
    return dataclasses.replace(asked, scope={**asked.scope, "by": dim}).no_finding(
        reason,
        detail,
        evidence={"by": dim, "outcome": asked.metric, "alpha": alpha, **evidence},
        **numbers,
    )


def _too_few(n: int, hits: int, label: str) -> tuple[str, str] | None:
    """Why there are too few tickets or outcomes to test (None if there are enough)."""
    if n < MIN_TICKETS:
        return "too_few_tickets", f"too few tickets with a known outcome: {n}, need ≥ {MIN_TICKETS}"
    if min(hits, n - hits) < MIN_OUTCOMES:
        return "too_few_events", (
            f"too few {label} or too few without: {hits} of {n:,} tickets, need ≥ "
            f"{MIN_OUTCOMES} of each"
        )
    return None


def _dimension(
    asked: Question,
    dim: str,
    table: dict[str, np.ndarray],
    counts: dict[str, Any],
    *,
    m: int,
    label: str,
    alpha: float,
    top: int,
) -> list[Finding]:
    """The findings of one attribute: its concentrated values, or why there are none."""
    if "tested" not in table:
        only = table["value"][0]
        reason = "all_missing" if only == BLANK else "single_value"
        text = "is missing for every ticket" if only == BLANK else f"has one value, {only!r}"
        return [_nothing(asked, dim, alpha, reason, f"{dim} {text}: nothing to compare", counts)]
    cover = np.searchsorted(table["cumulative_outcome_share"], 0.8 - 1e-9) + 1
    context = {
        **counts,
        "n_values": len(table["value"]),
        "n_values_tested": int(table["tested"].sum()),
        "n_tests": m,
        "overall_rate": counts["n_outcomes"] / counts["n_known"],
        "values_for_80pct_of_outcomes": int(min(cover, len(table["value"]))),
    }
    if not table["tested"].any():
        detail = (
            f"no {dim} value has ≥ {MIN_LEVEL_TICKETS} tickets with ≥ {MIN_LEVEL_TICKETS} "
            "elsewhere: nothing to test"
        )
        return [_nothing(asked, dim, alpha, "too_few_tickets", detail, context)]
    significant = table["tested"] & (table["p_holm"] < alpha) & (table["ci_low"] > 1)
    context["n_significant"] = int(significant.sum())
    if not significant.any():
        candidates = np.flatnonzero(table["tested"])
        row = value_row(table, candidates[np.argmin(table["p_raw"][candidates])])
        detail = (
            f"no {dim} value holds a disproportionate share of {label}: the most "
            f"over-represented, {row['value']}, has rate {percent(row['rate'])} vs "
            f"{percent(row['rest_rate'])} elsewhere (rate ratio {_ratio(row)}; Holm-adjusted "
            f"{format_p(row['p_holm'])} ≥ alpha {alpha}, {m} values tested)"
        )
        numbers = {k: row[k] for k in ("ci_low", "ci_high")}
        numbers |= {"effect": row["rate_ratio"], "p_value": row["p_holm"]}
        evidence = {**context, **row}
        return [_nothing(asked, dim, alpha, "not_significant", detail, evidence, **numbers)]
    chosen = np.flatnonzero(significant)
    chosen = chosen[np.argsort(-table["excess"][chosen], kind="stable")][:top]
    context = {"by": dim, "outcome": asked.metric, "alpha": alpha, **context}
    return [
        _concentrated(asked, dim, value_row(table, index), context, rank=rank, label=label, m=m)
        for rank, index in enumerate(chosen, start=1)
    ]


def _concentrated(
    asked: Question,
    dim: str,
    row: dict[str, Any],
    context: dict[str, Any],
    *,
    rank: int,
    label: str,
    m: int,
) -> Finding:
    """The finding of one value that holds a disproportionate share of the outcomes."""
    where = {**asked.scope, "by": dim, "value": row["value"]}
    statement = (
        f"{row['value']} ({formatting.label(dim)}) holds {percent(row['outcome_share'])} "
        f"of {label} with "
        f"{percent(row['ticket_share'])} of tickets (rate {percent(row['rate'])} vs "
        f"{percent(row['rest_rate'])} elsewhere; rate ratio {_ratio(row)}; Holm-adjusted "
        f"{format_p(row['p_holm'])}, {m} values tested)"
    )
    strong = row["outcome_share"] >= 0.5 and row["ci_low"] >= 2
    return dataclasses.replace(asked, scope=where).finding(
        statement,
        severity="high" if strong else "medium",
        effect=row["rate_ratio"],
        ci_low=row["ci_low"],
        ci_high=row["ci_high"],
        p_value=row["p_holm"],
        evidence={**context, **row} | {"rank": rank},
    )


def _ratio(row: dict[str, Any]) -> str:
    return (
        f"{format_number(row['rate_ratio'])}, 95 % CI {format_number(row['ci_low'])} to "
        f"{format_number(row['ci_high'])}"
    )
