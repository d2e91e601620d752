"""Capacity threshold: the utilisation beyond which a response metric degrades.

The model is a continuous segmented ("hinge") regression

    y = a + b·x + c·max(0, x − t)

with the break ``t`` chosen by least squares over a grid spanning ``x`` but for the
``max(10, 0.5 %)`` lowest and highest points (a break needs points on both sides,
yet overload is rare: a fixed 95th-percentile bound would hide a break that only
the busiest 1–2 % of hours reach). For fixed ``t`` the hinge model is ordinary least squares; by
the Frisch-Waugh-Lovell theorem its gain over the straight line is
``(h⊥ᵀy)² / h⊥ᵀh⊥`` with ``h⊥`` the hinge column made orthogonal to ``[1, x]``, and
``c = h⊥ᵀy / h⊥ᵀh⊥``. With ``x`` sorted, every term is a suffix sum, so one cumulative
sum scores the whole grid, and a matrix of weights scores every bootstrap replicate
at once (the closed form equals ``numpy.linalg.lstsq`` on each grid point; the tests
check this).

Break test. Because ``t`` is estimated, the F statistic at the best ``t`` (sup-F)
does not follow an F distribution and a plain F-test is anti-conservative. The
p-value comes from the fixed-regressor wild bootstrap of Hansen (1996, 2000): keep
``x``, build responses under the straight-line null as fitted line plus residuals
times random signs (Rademacher), which preserves heteroscedasticity such as
multiplicative noise, recompute sup-F on each, and report
``(1 + #{sup-F* ≥ sup-F}) / (n_boot + 1)``, or, when fewer than ten draws reach
sup-F, the upper tail of a scaled chi-square fitted to the draws
(:func:`~csi_helpers.analysis._hinge.bootstrap_p`), so that a clear knee is not
held at ``1 / (n_boot + 1)`` when a report's other tests are counted.

Confidence intervals come from a pairs (case) bootstrap: rows resampled with
replacement, ``t`` and ``c`` re-estimated on the same grid, 2.5th and 97.5th
percentiles reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis._hinge import HingeFit, fit_hinge, grid_ends, points_beyond
from csi_helpers.analysis.findings import Finding, finding_id, format_number, format_p
from csi_helpers.analysis.question import Question

ANALYSIS = "capacity_threshold"
MIN_POINTS = 30


def _check_inputs(frame: object, x: object, y: object, options: dict[str, Any]) -> None:
    checks.frame(frame, function="capacity_threshold")
    roles = [(f"the {role} of capacity_threshold", column) for role, column in (("x", x), ("y", y))]
    for (role, column), name in zip(roles, ("x", "y"), strict=True):
        checks.columns(frame, [(role, column)], hint=f"; pass {name}=<column name>")
        checks.numeric_column(frame, column)
    if x == y:
        raise ValueError(f"x and y must be different columns, both are {x!r}")
    for name, low in (("n_boot", 19), ("grid", 10), ("seed", 0)):
        checks.integer(name, options[name], low=low)
    checks.alpha(options["alpha"])
    checks.label("y_unit", options["y_unit"], blank=True)
    for name in ("x_unit", "metric"):
        if options[name] is not None:
            checks.label(name, options[name])


def _severity(rise: float | None) -> str:
    if rise is None:
        return "medium"
    return "high" if rise >= 0.5 else "medium" if rise >= 0.2 else "low"


def capacity_threshold(
    frame: pd.DataFrame,
    *,
    x: str = "utilisation",
    y: str = "latency_p95_ms",
    n_boot: int = 200,
    seed: int = 0,
    grid: int = 200,
    alpha: float = 0.05,
    x_unit: str | None = None,
    y_unit: str = "ms",
    metric: str | None = None,
    scope: Mapping[str, Any] | None = None,
) -> Finding:
    """Find the utilisation beyond which a response metric rises faster (a knee).

    Args:
        frame: One row per observation (e.g. per interval), with columns ``x`` and ``y``.
        x: Load column, utilisation as a fraction (0-1) or in percent.
        y: Response column, e.g. p95 latency.
        n_boot: Bootstrap resamples, used both for the CI and for the null of the test.
        seed: Seed of the random generator, so a run can be repeated exactly.
        grid: Number of candidate breaks, evenly spaced over ``x`` less its trimmed ends.
        alpha: Significance level of the break test.
        x_unit: ``"fraction"`` or ``"percent"`` (the threshold is then reported in %
            of capacity), or any other unit name (reported as is). ``None`` infers
            fraction when the 95th percentile of ``x`` is at most 2, else percent.
        y_unit: Unit of ``y``; the effect is in ``y_unit`` per point of ``x``.
        metric: Name of ``y`` in the statement and the finding (default: the column name).
        scope: Where the data come from (service, host, ...), copied to the finding.

    Returns:
        A Finding of kind ``"capacity_threshold"``: ``effect`` is the increase in slope
        above the threshold (``y_unit`` per utilisation point) with its bootstrap 95 %
        CI; ``evidence`` holds the threshold (``threshold``, in ``x``'s own units, and
        ``threshold_display`` in percent for utilisation) with its CI, the slopes below
        and above, the sup-F statistic and the rows used. Fewer than 30 usable rows,
        no spread in ``x`` or ``y``, no significant break, or a slope that falls above
        the break give a ``"no_finding"`` record that says why. Rows with a missing
        or infinite ``x`` or ``y`` are dropped and counted.

    Raises:
        TypeError: If ``frame`` is not a DataFrame, a column is not numeric, or an option
            is of the wrong type.
        ValueError: If a column is missing, ``x`` is ``y``, or an option is out of range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> u = rng.uniform(0.2, 1.1, 500)
        >>> ms = (180 + 1500 * np.maximum(0, u - 0.75)) * rng.lognormal(0, 0.05, 500)
        >>> f = capacity_threshold(pd.DataFrame({"utilisation": u, "latency_p95_ms": ms}))
        >>> f.kind, round(f.evidence["threshold"], 2), f.unit
        ('capacity_threshold', 0.75, 'ms per utilisation point')
    """
    options = {"n_boot": n_boot, "grid": grid, "seed": seed, "alpha": alpha}
    _check_inputs(frame, x, y, options | {"y_unit": y_unit, "x_unit": x_unit, "metric": metric})
    xs = frame[x].to_numpy(dtype="float64", na_value=np.nan)
    ys = frame[y].to_numpy(dtype="float64", na_value=np.nan)
    keep = np.isfinite(xs) & np.isfinite(ys)
    n = int(keep.sum())
    order = np.argsort(xs[keep], kind="stable")
    xs, ys = xs[keep][order], ys[keep][order]
    if x_unit is None:
        x_unit = "fraction" if n and np.percentile(xs, 95) <= 2 else "percent"
    shown = _Shown(x_unit, y_unit)
    method = (
        f"segmented_regression(grid={grid}, n_boot={n_boot}, seed={seed}, alpha={alpha}; "
        "test=sup_f_wild_bootstrap, ci=pairs_bootstrap_percentile)"
    )
    where = {**checks.scope(scope), "x": x}
    asked = Question(ANALYSIS, metric or y, method, shown.effect_unit, where)
    counts = {"n_points": n, "n_dropped": len(frame) - n, "x": x, "y": y, "x_unit": x_unit}
    unusable = _unusable(asked, xs, ys, counts, shown)
    if unusable is not None:
        return unusable
    fit = fit_hinge(xs, ys, grid=grid, n_boot=n_boot, seed=seed)
    shown_fit = fit.evidence(shown.to_display, shown.suffix.strip())
    evidence = {**counts, **shown_fit, "n_boot": n_boot, "seed": seed, "alpha": alpha}
    return _answer(asked, fit, evidence, shown, alpha=alpha, id=finding_id(ANALYSIS, y, where))


@dataclass(frozen=True)
class _Shown:
    """How the utilisation and the effect are shown: percent for a share of capacity."""

    x_unit: str
    y_unit: str

    @property
    def to_display(self) -> float:
        return 100.0 if self.x_unit == "fraction" else 1.0

    @property
    def suffix(self) -> str:
        return " %" if self.x_unit in ("fraction", "percent") else f" {self.x_unit}"

    @property
    def effect_unit(self) -> str:
        point = "utilisation point" if self.x_unit in ("fraction", "percent") else self.x_unit
        return f"{self.y_unit} per {point}"

    def x(self, value: float) -> str:
        return f"{format_number(value * self.to_display)}{self.suffix}"


def _unusable(
    asked: Question, xs: np.ndarray, ys: np.ndarray, counts: dict[str, Any], shown: _Shown
) -> Finding | None:
    """The no-finding of too few points, or no spread in x or y (None if usable)."""
    n, x, name = len(xs), counts["x"], asked.metric
    if n < MIN_POINTS:
        detail = f"too few points: {n} usable rows of {x} and {name}, need ≥ {MIN_POINTS}"
        return asked.no_finding("too_few_points", detail, evidence=counts)
    low_q, high_q = grid_ends(xs)
    if high_q <= low_q:
        return asked.no_finding(
            "no_spread",
            f"no spread in {x}: all but {2 * points_beyond(n)} rows lie at {shown.x(low_q)}",
            evidence=counts,
        )
    if np.ptp(ys) == 0:
        detail = f"{name} is constant at {format_number(ys[0])} {shown.y_unit}"
        return asked.no_finding("constant", detail, evidence=counts)
    return None


def _answer(
    asked: Question,
    fit: HingeFit,
    evidence: dict[str, Any],
    shown: _Shown,
    *,
    alpha: float,
    id: str,
) -> Finding:
    """The finding of a capacity threshold, or why the break found is not one."""
    name, x, n = asked.metric, evidence["x"], evidence["n_points"]
    _, b, c = fit.coef
    per_point, p_value = 1.0 / shown.to_display, fit.p_value
    c_low, c_high = fit.c_ci
    numbers = {
        "evidence": evidence,
        "effect": c * per_point,
        "ci_low": c_low * per_point,
        "ci_high": c_high * per_point,
        "p_value": p_value,
    }
    t_low, t_high = fit.threshold_ci
    where = f"{x} = {shown.x(fit.threshold)} (95 % CI {shown.x(t_low)} to {shown.x(t_high)})"
    above_below = (
        f"{format_number((b + c) * per_point)} {asked.unit} above vs "
        f"{format_number(b * per_point)} below"
    )
    if p_value >= alpha:
        return asked.no_finding(
            "not_significant",
            f"no significant break in {name} against {x}: best break at "
            f"{where} is no better than a straight line ({format_p(p_value)} ≥ alpha "
            f"{alpha}, sup-F {fit.sup_f:.1f}, n = {n:,})",
            **numbers,
        )
    if c <= 0:
        return asked.no_finding(
            "saturation",
            f"{name} bends at {where} but rises more slowly above it "
            f"({above_below}); not a capacity threshold",
            **numbers,
        )
    return asked.finding(
        f"{name} rises once {x} passes {shown.x(fit.threshold)} (95 % CI {shown.x(t_low)} to "
        f"{shown.x(t_high)}): slope {above_below}, steeper by {format_number(c * per_point)} "
        f"(95 % CI {format_number(c_low * per_point)} to {format_number(c_high * per_point)}; "
        f"{format_p(p_value)}, n = {n:,})",
        severity=_severity(evidence["rise_to_grid_high"]),
        id=id,
        **numbers,
    )
