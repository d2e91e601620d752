"""Error control across a cycle's report: Benjamini–Hochberg over its tests, and the interval gate.

A report runs some twenty tests; at ``alpha = 0.05`` each, one of them fires on
pure noise more often than not. :func:`control_report` takes *all* of a cycle's
records (findings and no-findings alike) and

1. adjusts the p-values of the cycle's **family of tests** with Benjamini–Hochberg
   (:func:`statsmodels.stats.multitest.multipletests`, ``method="fdr_bh"``),
   stores each member's q-value in its evidence, and turns a finding whose q-value
   is not below ``alpha`` into a no-finding that says why;
2. turns a finding of a testing analysis whose 95 % interval includes *no effect*
   into a no-finding (``"interval includes no effect"``); a measurement's interval
   (an error budget's burn, say) is not a test and stays as it is.

**The family.** Every record of a testing analysis that carries a ``p_value``:
trends, change points, event impacts, capacity thresholds, concentrations,
drivers, anomalies (once their detector gives a p-value) and any analysis added
later. A no-finding whose test ran counts too: its p-value is one of the
cycle's tests even though it was not significant. Outside the family:
:data:`NOT_TESTS` (KPI baselines and target gaps are measurements, error budgets
a burn against a budget, the capacity forecast a projection whose headline is a
level or a date). A record of a testing kind *without* a p-value (the anomaly
detector before it is calibrated) cannot be adjusted: it stays out of the count,
its evidence says so, and the interval gate still applies to it.

**Concentrations** carry Holm-adjusted p-values (the values of one attribute
tested together). Each enters the family as it is: a Holm-adjusted p-value is a
valid p-value for its value's hypothesis, so BH over them still controls the
false discovery rate. It is conservative (a value is penalised for its
attribute's other values and again for the report's tests) but never
anti-conservative, and the raw p-values of the values not reported are not kept
to do better.

**No effect** is 0 for an effect stated as a difference, a slope or a relative
change, and :data:`NO_EFFECT` by unit for ratios (a rate ratio of 1, a ROC AUC
of 0.5).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from csi_helpers.analysis.findings import NO_FINDING, Finding, format_number

__all__ = [
    "NOT_TESTS",
    "NO_EFFECT",
    "analysis_of",
    "control_report",
    "family_of_tests",
    "no_effect",
]

#: Analyses whose records are not hypothesis tests of an effect (outside the family).
NOT_TESTS = frozenset({"baseline", "target_gap", "error_budget", "capacity_forecast"})

#: The effect that means "no effect", by the finding's unit (0 for any other unit).
NO_EFFECT = {"rate ratio": 1.0, "ROC AUC": 0.5}


def analysis_of(record: Finding) -> str:
    """The analysis that made ``record`` (a no-finding names it in its evidence)."""
    if record.is_finding:
        return record.kind
    return str(record.evidence.get("analysis", record.kind))


def family_of_tests(records: Iterable[Finding]) -> list[int]:
    """Positions of the records that are members of the cycle's family of tests.

    Args:
        records: All of a cycle's records, in any order.

    Returns:
        The positions (in ``records``) of those of a testing analysis with a p-value.

    Example:
        >>> mk = lambda k, p: Finding(id=k, kind=k, statement=k, metric="m", method="x",
        ...                           severity="low", p_value=p)
        >>> family_of_tests([mk("trend", 0.01), mk("target_gap", None), mk("anomaly", None),
        ...              mk("error_budget", 0.001), mk("change_point", 0.2)])
        [0, 4]
    """
    return [
        i
        for i, f in enumerate(records)
        if f.p_value is not None and analysis_of(f) not in NOT_TESTS
    ]


def no_effect(record: Finding) -> float:
    """The value of ``record``'s effect that means no effect (see :data:`NO_EFFECT`).

    Example:
        >>> f = Finding(id="c", kind="concentration", statement="s", metric="m",
        ...             method="x", severity="low", unit="rate ratio")
        >>> no_effect(f)
        1.0
    """
    return NO_EFFECT.get(record.unit, 0.0)


def control_report(findings: Iterable[Finding], *, alpha: float) -> list[Finding]:
    """Apply Benjamini–Hochberg over the cycle's tests, then the interval gate.

    Args:
        findings: All of a cycle's records (findings and no-findings).
        alpha: The false discovery rate to control (``analysis.alpha`` of the params).

    Returns:
        The records in the same order: each family member with ``q_value`` and
        ``tests_in_cycle`` in its evidence; a finding whose q-value is not below
        ``alpha``, or whose interval includes no effect, as a no-finding whose
        statement says why (reason ``"not_significant_in_cycle"`` or
        ``"interval_includes_no_effect"``; its former statement in the evidence).
        A finding of a testing analysis without a p-value is marked
        ``"q_value": None`` with a note.

    Example:
        >>> mk = lambda i, p: Finding(id=i, kind="trend", statement=i, metric="m",
        ...                           method="x", severity="low", p_value=p,
        ...                           effect=1.0, ci_low=0.5, ci_high=1.5)
        >>> out = control_report([mk("a", 0.001), mk("b", 0.04), mk("c", 0.5)], alpha=0.05)
        >>> [(f.kind, round(f.evidence["q_value"], 4)) for f in out]
        [('trend', 0.003), ('no_finding', 0.06), ('no_finding', 0.5)]
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    records = list(findings)
    for f in records:
        if not isinstance(f, Finding):
            raise TypeError(f"control_report expects Finding records, got {type(f).__name__}")
    family = family_of_tests(records)
    q_values = _bh([records[i].p_value for i in family])
    q_of = dict(zip(family, q_values, strict=True))
    out = []
    for i, f in enumerate(records):
        if i in q_of:
            f = _adjusted(f, q_of[i], m=len(family), alpha=alpha)
        elif f.is_finding and f.p_value is None and analysis_of(f) not in NOT_TESTS:
            note = "no p-value: outside the report-wide error control"
            f = dataclasses.replace(f, evidence={**f.evidence, "q_value": None, "q_note": note})
        out.append(_gated(f))
    return out


def _bh(p_values: list[float | None]) -> list[float]:
    """Benjamini–Hochberg q-values of ``p_values`` (statsmodels)."""
    if not p_values:
        return []
    from statsmodels.stats.multitest import multipletests

    return [float(q) for q in multipletests(p_values, method="fdr_bh")[1]]


def _adjusted(f: Finding, q: float, *, m: int, alpha: float) -> Finding:
    """``f`` with its q-value; a no-finding if it no longer passes ``alpha``."""
    evidence = {**f.evidence, "q_value": q, "tests_in_cycle": m}
    if not f.is_finding or q < alpha:
        return dataclasses.replace(f, evidence=evidence)
    detail = (
        f"not significant once the cycle's {m} tests are accounted for "
        f"(q = {q:.2g}, alpha {alpha}): {f.statement}"
    )
    return _withdrawn(f, "not_significant_in_cycle", detail, evidence)


def _gated(f: Finding) -> Finding:
    """``f``, or a no-finding if its interval includes no effect."""
    if not f.is_finding or f.ci_low is None or f.ci_high is None or f.kind in NOT_TESTS:
        return f
    null = no_effect(f)
    if not f.ci_low <= null <= f.ci_high:
        return f
    detail = (
        f"interval includes no effect ({format_number(f.ci_low)} to "
        f"{format_number(f.ci_high)} {f.unit} contains {format_number(null)}): {f.statement}"
    )
    return _withdrawn(f, "interval_includes_no_effect", detail, dict(f.evidence))


def _withdrawn(f: Finding, reason: str, detail: str, evidence: dict) -> Finding:
    """``f`` as a no-finding of its own analysis that says why it is not reported."""
    return dataclasses.replace(
        f,
        kind=NO_FINDING,
        severity="info",
        statement=detail,
        evidence={
            **evidence,
            "analysis": f.kind,
            "reason": reason,
            "reported_as": f.statement,
        },
    )
