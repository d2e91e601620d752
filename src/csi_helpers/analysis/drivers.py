"""Drivers of an outcome such as SLA breaches: a model of what predicts it.

:func:`driver_model` fits a gradient-boosted tree model
(:class:`sklearn.ensemble.HistGradientBoostingClassifier`, native categorical
splits) of the outcome on attributes known at or soon after opening, trains on
the earlier tickets and tests on the later ones (the honest split for a process
that drifts), reports the held-out ROC AUC with the DeLong (1988) interval (fast
form of Sun and Xu 2014) and ranks the attributes by permutation importance on
the held-out tickets (Breiman 2001; ``sklearn.inspection.permutation_importance``,
scoring ROC AUC). An AUC whose interval reaches 0.5 is no signal. An attribute is
named as a driver only when its mean fall in AUC is significant: the fall is itself
a difference of two AUCs on the same tickets, so its standard error follows from
the paired DeLong components (baseline vs the mean of the permuted scores); the
one-sided z-tests are Holm-adjusted across attributes at 0.05. (The sd over the
repeats, which sklearn reports, measures only the shuffling, not the sample.) The
AUC and the importance tests are computed in :mod:`csi_helpers.analysis._importance`.

Where the outcome concentrates, value by value, is the tested Pareto of
:mod:`csi_helpers.analysis.concentration`; :func:`pareto` and :func:`pareto_findings` can
still be imported from here.

Leakage. The default features are priority, category, assignment group, service,
contact type (when the table has one), hour and weekday of opening, and the
reassignment count. Left out on purpose: anything set at or after resolution
(``resolved_at``, ``closed_at``, ``state``, ``reopen_count``, ``made_sla``) and
links made during investigation (``problem_id``, ``caused_by``). Two caveats stay
and are written into every model finding: the tickets table holds each ticket's
*last* values, so group, priority and category may have changed after opening; and
``reassignment_count`` accrues over the ticket's life, so tickets that stay open
longer collect more reassignments: part of its importance reflects the outcome.
Importances are associations, not causes, and correlated attributes (category and
assignment group, say) share importance: permuting one leaves its information in
the other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csi_helpers.analysis import checks
from csi_helpers.analysis._importance import (
    Split,
    encode,
    held_out_auc,
    permutation_importances,
    split_tickets,
)
from csi_helpers.analysis.concentration import pareto, pareto_findings
from csi_helpers.analysis.findings import Finding, format_p
from csi_helpers.analysis.question import Question
from csi_helpers.analysis.ticket_outcomes import (
    COLUMN_NAME,
    check_names,
    feature_columns,
    name_outcomes,
    outcome_values,
    percent,
)

__all__ = ["DEFAULT_FEATURES", "driver_model", "pareto", "pareto_findings"]

ANALYSIS = "drivers"
MIN_MODEL_EVENTS = 20  # outcomes and non-outcomes needed in each of training and test set
DEFAULT_FEATURES: tuple[str, ...] = (
    "priority",
    "category",
    "assignment_group",
    "service",
    "contact_type",
    "opened_hour",
    "opened_weekday",
    "reassignment_count",
)
AFTER_THE_FACT = frozenset(
    {"resolved_at", "closed_at", "state", "reopen_count", "reopen_after_close_count", "made_sla"}
    | {"problem_id", "caused_by", "acknowledged_at", "assigned_at"}
)
ACCRUING = frozenset({"reassignment_count"})  # counted up to the ticket's last update
_Z95 = float(stats.norm.ppf(0.975))


def driver_model(
    tickets: pd.DataFrame,
    *,
    outcome: str = "breached",
    features: Sequence[str] = DEFAULT_FEATURES,
    seed: int = 0,
    n_repeats: int = 10,
    test_share: float = 0.3,
    max_levels: int = 30,
    n_threads: int = 1,
    outcome_label: str | None = None,
    scope: Mapping[str, Any] | None = None,
) -> Finding:
    """Model an outcome from ticket attributes and rank the attributes by importance.

    The tickets are ordered by ``opened_at``; the model learns on the earlier
    ``1 - test_share`` and is judged on the later ``test_share`` (a random split,
    stratified by outcome, when ``opened_at`` is absent or incomplete). Each
    categorical attribute keeps its ``max_levels`` most frequent values in the
    training set (missing counts as a value); the rest are pooled as one value.
    ``opened_hour`` and ``opened_weekday`` come from ``opened_at`` (in its time
    zone) unless the table has such columns. Tickets with a missing outcome are
    dropped and counted.

    Args:
        tickets: One row per ticket.
        outcome: Boolean column to explain, e.g. ``breached = ~made_sla``.
        features: Attributes to use. With the default list, attributes the table
            lacks are skipped (and listed in the evidence); a list you pass must
            name columns that exist. Constant or all-missing ones are dropped.
        seed: Seed of the model's validation split and of the permutations.
        n_repeats: Permutations per attribute for the importances.
        test_share: Share of (the latest) tickets held out for testing.
        max_levels: Most frequent values kept per categorical attribute.
        n_threads: OpenMP threads for the model. One is robust on a shared machine
            (idle threads of a busy one spin) and fits 25,000 tickets in seconds.
        outcome_label: Plain-language name of the outcomes for the statement.
        scope: Where the tickets come from, copied to the finding.

    Returns:
        A Finding of kind ``"drivers"``: ``effect`` is the held-out ROC AUC with its
        DeLong 95 % CI and the one-sided p-value against 0.5; the statement names
        up to three attributes (``evidence["top_factors"]``) of largest permutation
        importance (fall in AUC, mean ± sd over the repeats) among those whose fall
        is significant; ``evidence`` holds the full importance table (with standard
        errors and Holm-adjusted p-values), the split, the features used, dropped
        and skipped, and the caveats. ``"no_finding"`` when
        the outcome column is absent (``no_outcome``), there are too few tickets
        or outcomes (``too_few_tickets``, ``too_few_events``), no usable attribute
        (``no_usable_features``), or the AUC interval reaches 0.5 (``no_signal``).

    Raises:
        TypeError: If ``tickets`` is not a DataFrame, an option is of the wrong type,
            a feature holds timestamps, or the outcome does not hold True/False.
        ValueError: If an option is out of range, a feature you named is absent or is
            the outcome, or the outcome holds numbers other than 0 and 1.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> group = rng.choice(["Web", "DB", "Desk", "Net"], 1500)
        >>> t = pd.DataFrame({"assignment_group": group, "priority": rng.choice(["P3", "P4"], 1500),
        ...                   "breached": rng.random(1500) < np.where(group == "Web", .4, .1)})
        >>> f = driver_model(t, features=["assignment_group", "priority"], n_repeats=3)
        >>> f.kind, f.evidence["top_factors"][0], f.ci_low > 0.5
        ('drivers', 'assignment_group', True)
    """
    options = {"test_share": test_share, "max_levels": max_levels, "seed": seed}
    options["n_repeats"] = n_repeats
    names = _check_inputs(tickets, outcome, features, n_threads=n_threads, **options)
    label = name_outcomes(outcome, outcome_label)
    opened = tickets["opened_at"] if "opened_at" in tickets.columns else None
    dated = opened is not None and pd.api.types.is_datetime64_any_dtype(opened.dtype)
    method = _method("time" if dated else "random_stratified", **options)
    asked = Question(ANALYSIS, outcome, method, "ROC AUC", checks.scope(scope))
    if outcome not in tickets.columns:
        return asked.no_finding("no_outcome", f"no {outcome!r} column: nothing to model")
    explicit = tuple(names) != DEFAULT_FEATURES
    columns, absent = feature_columns(tickets, names, outcome, explicit=explicit)
    training = _training_set(
        asked, tickets, opened if dated else None, absent=absent, label=label, options=options
    )
    if isinstance(training, Finding):
        return training
    model = _features(training, columns, label=label, max_levels=max_levels)
    if isinstance(model, Finding):
        return model
    fit = {"seed": seed, "n_repeats": n_repeats, "n_threads": n_threads}
    return _model(
        training.asked, model, training.y, training.split, training.evidence, label=label, **fit
    )


def _features(
    training: _Training, columns: dict[str, pd.Series], *, label: str, max_levels: int
) -> dict[str, Any] | Finding:
    """The model's matrix of the usable attributes, or why there is none."""
    kept = {name: column[training.known] for name, column in columns.items()}
    matrix, categorical, notes, dropped = encode(kept, ~training.split.test, max_levels)
    used = [name for name in kept if name not in dropped]
    evidence = training.evidence
    evidence |= {"features_used": used, "features_dropped": dropped, "feature_notes": notes}
    if not used:
        return training.asked.no_finding(
            "no_usable_features",
            f"no usable attribute to model {label}: "
            + (", ".join(f"{k} {v}" for k, v in dropped.items()) or "none given"),
            evidence=evidence,
        )
    return {"matrix": matrix, "categorical": categorical, "used": used}


def _check_inputs(
    tickets: object,
    outcome: object,
    features: object,
    *,
    test_share: object,
    max_levels: object,
    seed: object,
    n_repeats: object,
    n_threads: object,
) -> list[str]:
    checks.frame(tickets, function="driver_model", what="a tickets DataFrame")
    checks.label("outcome", outcome, meaning=COLUMN_NAME)
    names = check_names(features, "features")
    checks.integer("seed", seed, low=0)
    checks.integer("n_repeats", n_repeats, low=1)
    checks.integer("max_levels", max_levels, low=2, high=250)  # category codes stay below 255 bins
    checks.integer("n_threads", n_threads, low=1)
    share = "a number between 0.1 and 0.5"
    checks.number("test_share", test_share, meaning=share, valid=lambda t: 0.1 <= t <= 0.5)
    return names


@dataclass(frozen=True)
class _Training:
    """The tickets with a known outcome, split into training and test tickets."""

    asked: Question  # its method names the split
    known: np.ndarray  # mask over all tickets: outcome known
    y: np.ndarray  # the outcome of those tickets
    split: Split
    evidence: dict[str, Any]


def _training_set(
    asked: Question,
    tickets: pd.DataFrame,
    opened: pd.Series | None,
    *,
    absent: list[str],
    label: str,
    options: dict[str, Any],
) -> _Training | Finding:
    """The tickets to learn from and test on, or the no-finding of too few of them."""
    values = outcome_values(tickets, asked.metric)
    known = values.notna().to_numpy()
    y = values.fillna(False).to_numpy(dtype=bool)[known]
    n, hits = len(y), int(y.sum())
    evidence: dict[str, Any] = {
        "n_tickets": len(tickets),
        "n_known": n,
        "n_missing_outcome": len(tickets) - n,
        "n_outcomes": hits,
        "features_absent": absent,
    }
    need = int(np.ceil(MIN_MODEL_EVENTS / options["test_share"]))
    if min(hits, n - hits) < need:
        return asked.no_finding(
            "too_few_events" if n >= 2 * need else "too_few_tickets",
            f"too few tickets to model {label}: {hits:,} with and {n - hits:,} without among "
            f"{n:,} tickets, need ≥ {need} of each (≥ {MIN_MODEL_EVENTS} in the test set)",
            evidence=evidence,
        )
    timed = opened is not None and bool(opened[known].notna().all())
    n_test = round(options["test_share"] * n)
    split = split_tickets(opened[known] if timed else None, y, n_test, options["seed"])
    asked = dataclasses.replace(asked, method=_method(split.name, **options))
    evidence |= split.evidence(y)
    sides = split.sides(y)
    if min(sides) < MIN_MODEL_EVENTS:
        return asked.no_finding(
            "too_few_events",
            f"too few {label} on one side of the {split.name} split: training {sides[0]:,} with "
            f"/ {sides[1]:,} without, test {sides[2]:,} / {sides[3]:,}; need ≥ "
            f"{MIN_MODEL_EVENTS} of each",
            evidence=evidence,
        )
    return _Training(asked, known, y, split, evidence)


def _method(split: str, *, test_share: float, max_levels: int, seed: int, n_repeats: int) -> str:
    return (
        f"hist_gradient_boosting(split={split}, test_share={test_share}, "
        f"max_levels={max_levels}, seed={seed}) + delong_auc_ci + "
        f"permutation_importance(roc_auc, n_repeats={n_repeats}) + paired_delong_holm"
    )


def _model(
    asked: Question,
    model: dict[str, Any],
    y: np.ndarray,
    split: Split,
    evidence: dict[str, Any],
    *,
    label: str,
    seed: int,
    n_repeats: int,
    n_threads: int,
) -> Finding:
    """Fit the model, judge it on the held-out tickets and rank the attributes."""
    matrix, test = model["matrix"], split.test
    threads = {"seed": seed, "n_threads": n_threads}
    fitted, score, auc, se = held_out_auc(matrix, model["categorical"], y, split, **threads)
    low, high = max(auc - _Z95 * se, 0.0), min(auc + _Z95 * se, 1.0)
    p_value = float(stats.norm.sf((auc - 0.5) / se)) if se > 0 else 1.0
    evidence |= {"auc": auc, "auc_se": se, "n_iter": int(fitted.n_iter_), "seed": seed}
    numbers = {"effect": auc, "ci_low": low, "ci_high": high, "p_value": p_value}
    held_out = "later" if split.moments is not None else "held-out"
    auc_text = (
        f"held-out ROC AUC {auc:.2f} (95 % CI {low:.2f} to {high:.2f}; {format_p(p_value)}) "
        f"on {int(test.sum()):,} {held_out} tickets"
    )
    if low <= 0.5:
        return asked.no_finding(
            "no_signal",
            f"the attributes do not predict {label} better than chance: {auc_text}",
            evidence=evidence,
            **numbers,
        )
    table = permutation_importances(
        fitted,
        matrix,
        y,
        split,
        score,
        model["used"],
        n_repeats=n_repeats,
        accruing=ACCRUING,
        **threads,
    )
    return _drivers(asked, table, evidence, numbers, f"{label}: {auc_text}", n_repeats)


def _drivers(
    asked: Question,
    table: pd.DataFrame,
    evidence: dict[str, Any],
    numbers: dict[str, float],
    predicted: str,
    n_repeats: int,
) -> Finding:
    """The finding: how well the attributes predict the outcome, and which stand out."""
    top = table[table["clear"]].head(3)
    evidence |= {
        "importances": table.to_dict("records"),
        "top_factors": top["feature"].tolist(),
        "caveats": _caveats(evidence["features_used"], evidence),
        "n_repeats": n_repeats,
    }
    factors = [
        f"{_words(r.feature)} {r.importance_mean:.3f} ± {r.importance_sd:.3f}"
        for r in top.itertuples()
    ]
    shuffles = f"fall in AUC when shuffled, mean ± sd of {n_repeats} shuffles"
    if factors:
        listed = ", ".join(factors[:-1]) + " and " + factors[-1] if len(factors) > 1 else factors[0]
        named = f"the attributes most associated with them ({shuffles}) are {listed}"
    else:
        best = table.iloc[0]
        named = (
            f"no single attribute stands out ({shuffles}: largest {_words(best['feature'])} "
            f"{best['importance_mean']:.3f} ± {best['importance_sd']:.3f})"
        )
    strength = "weakly " if numbers["effect"] < 0.7 else ""
    return asked.finding(
        f"Ticket attributes {strength}predict {predicted}; {named}; associations, not causes",
        severity="medium",
        evidence=evidence,
        **numbers,
    )


def _caveats(used: list[str], evidence: dict[str, Any]) -> list[str]:
    """Plain-language caveats of a driver model on these features and this split."""
    caveats = [
        "importances are associations, not causes",
        "attribute values are those at the ticket's last update and may have changed after opening",
        "correlated attributes share importance (permuting one leaves its information in others)",
    ]
    accruing = sorted(set(used) & ACCRUING)
    if accruing:
        caveats.append(
            f"{', '.join(accruing)} accrue over the ticket's life (tickets open longer collect "
            "more), so part of their importance reflects the outcome"
        )
    leaky = sorted(set(used) & AFTER_THE_FACT)
    if leaky:
        caveats.append(f"{', '.join(leaky)} are set after opening: expect leakage")
    train_rate, test_rate = evidence["train_rate"], evidence["test_rate"]
    if abs(train_rate - test_rate) > 0.05:
        caveats.append(
            f"the outcome rate moved from {percent(train_rate)} in training to "
            f"{percent(test_rate)} in the test period; the AUC ranks tickets and is not "
            "affected by the shift itself"
        )
    return caveats


def _words(feature: str) -> str:
    """A factor as the report names it: ``reassignment_count`` is "reassignment count"
    (the evidence keeps the column name)."""
    return str(feature).replace("_", " ")
