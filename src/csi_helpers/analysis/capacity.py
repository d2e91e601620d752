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
``(1 + #{sup-F* ≥ sup-F}) / (n_boot + 1)``.

Confidence intervals come from a pairs (case) bootstrap: rows resampled with
replacement, ``t`` and ``c`` re-estimated on the same grid, 2.5th and 97.5th
percentiles reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import (
    Finding,
    finding_id,
    format_number,
    format_p,
    no_finding,
)
from csi_helpers.errors import DataError

ANALYSIS = "capacity_threshold"
MIN_POINTS = 30
MIN_SIDE = 10  # points the grid leaves beyond its ends, at least ...
SIDE_SHARE = 0.005  # ... or this share of the points, if more
_CELLS = 2_000_000  # numbers per bootstrap work array: bounds memory for long tables


def _check_inputs(frame: object, x: str, y: str, n_boot: int, grid: int, alpha: float) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"capacity_threshold expects a DataFrame, got {type(frame).__name__}")
    for role, column in (("x", x), ("y", y)):
        if column not in frame.columns:
            raise DataError(
                f"column {column!r} (the {role} of capacity_threshold) is not in the table; "
                f"columns are {list(frame.columns)}; pass {role}=<column name>"
            )
        if not pd.api.types.is_numeric_dtype(frame[column].dtype):
            raise DataError(f"column {column!r} has dtype {frame[column].dtype}; expected numbers")
    if x == y:
        raise DataError(f"x and y must be different columns, both are {x!r}")
    for name, value, low in (("n_boot", n_boot, 19), ("grid", grid, 10)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise DataError(f"{name} must be an integer ≥ {low}, got {value!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise DataError(f"alpha must be a number between 0 and 1, got {alpha!r}")


def _suffix(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Row-wise sums of ``values[:, k:]`` for each ``k`` in ``positions``."""
    cumulative = np.cumsum(values, axis=1)
    total = cumulative[:, -1:]
    before = np.concatenate([np.zeros_like(total), cumulative], axis=1)[:, positions]
    return total - before


def _hinge_scan(
    z: np.ndarray, y: np.ndarray, w: np.ndarray, knots: np.ndarray, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score every knot for every row of responses ``y`` and case weights ``w``.

    Args:
        z: Sorted regressor, shape (n,).
        y: Responses, shape (B, n) (or (1, n)).
        w: Case weights, shape (B, n) or (1, n).
        knots: Grid of candidate breaks, shape (G,).
        positions: ``searchsorted(z, knots, side="right")``: first index with z > knot.

    Returns:
        ``gain`` (B, G): fall in residual sum of squares from line to hinge;
        ``c`` (B, G): hinge coefficient; ``rss0`` (B,): residual sum of squares of the line.
    """
    y, w = np.broadcast_arrays(y, w)
    wz = w * z
    n_w, s_z, s_zz = w.sum(1), wz.sum(1), (wz * z).sum(1)
    s_y, s_zy = (w * y).sum(1), (wz * y).sum(1)
    det = n_w * s_zz - s_z**2
    b = (n_w * s_zy - s_z * s_y) / det
    a = (s_y - b * s_z) / n_w
    e = y - a[:, None] - b[:, None] * z
    we = w * e
    rss0 = (we * e).sum(1)
    col = (slice(None), None)
    k_n, k_z, k_zz = _suffix(w, positions), _suffix(wz, positions), _suffix(wz * z, positions)
    k_e, k_ze = _suffix(we, positions), _suffix(we * z, positions)
    s_h = k_z - knots * k_n
    s_hh = k_zz - 2 * knots * k_z + knots**2 * k_n
    s_zh = k_zz - knots * k_z
    projected = (s_zz[col] * s_h**2 - 2 * s_z[col] * s_h * s_zh + n_w[col] * s_zh**2) / det[col]
    d = s_hh - projected
    g = k_ze - knots * k_e
    ok = d > 1e-9 * np.maximum(s_hh, 1e-300)
    d_safe = np.where(ok, d, 1.0)
    gain = np.where(ok, g**2 / d_safe, 0.0)
    c = np.where(ok, g / d_safe, 0.0)
    return gain, c, rss0


def _refine(gain: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best knot per row, refined between grid points by a parabola through 3 gains.

    Returns the refined break (B,) and the index of the best grid knot (B,).
    """
    best = np.argmax(gain, axis=1)
    inner = np.clip(best, 1, len(knots) - 2)
    rows = np.arange(gain.shape[0])
    left, mid, right = (gain[rows, inner + k] for k in (-1, 0, 1))
    curvature = left - 2 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    shift = np.where(best == inner, np.clip(shift, -0.5, 0.5), 0.0)
    step = knots[1] - knots[0]
    return knots[best] + shift * step, best


def _sup_f(gain: np.ndarray, rss0: np.ndarray, n: int) -> np.ndarray:
    best = gain.max(axis=1)
    return best / np.maximum(rss0 - best, 1e-300) * (n - 4)


def _chunks(n_boot: int, n: int) -> list[int]:
    """Replicates per pass, so that no work array exceeds about _CELLS numbers."""
    size = max(1, _CELLS // n)
    return [min(size, n_boot - start) for start in range(0, n_boot, size)]


def _null_sup_f(
    z: np.ndarray,
    y: np.ndarray,
    knots: np.ndarray,
    positions: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """sup-F of ``n_boot`` wild-bootstrap responses under the straight-line null."""
    line = np.polynomial.polynomial.polyfit(z, y, 1)
    fitted = np.polynomial.polynomial.polyval(z, line)
    resid = y - fitted
    out = []
    for size in _chunks(n_boot, len(z)):
        signs = rng.choice([-1.0, 1.0], size=(size, len(z)))
        gain, _, rss0 = _hinge_scan(
            z, fitted + resid * signs, np.ones((1, len(z))), knots, positions
        )
        out.append(_sup_f(gain, rss0, len(z)))
    return np.concatenate(out)


def _pairs_bootstrap(
    z: np.ndarray,
    y: np.ndarray,
    knots: np.ndarray,
    positions: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Break (in z units) and hinge coefficient re-estimated on resampled rows."""
    n = len(z)
    breaks, coefs = [], []
    for size in _chunks(n_boot, n):
        draws = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        weights = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)
        gain, c, _ = _hinge_scan(z, y[None, :], weights.astype("float64"), knots, positions)
        refined, pick = _refine(gain, knots)
        breaks.append(refined)
        coefs.append(c[np.arange(size), pick])
    return np.concatenate(breaks), np.concatenate(coefs)


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
        DataError: If a column is missing or not numeric, or an option is out of range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> u = rng.uniform(0.2, 1.1, 500)
        >>> ms = (180 + 1500 * np.maximum(0, u - 0.75)) * rng.lognormal(0, 0.05, 500)
        >>> f = capacity_threshold(pd.DataFrame({"utilisation": u, "latency_p95_ms": ms}))
        >>> f.kind, round(f.evidence["threshold"], 2), f.unit
        ('capacity_threshold', 0.75, 'ms per utilisation point')
    """
    _check_inputs(frame, x, y, n_boot, grid, alpha)
    name = metric or y
    scope = dict(scope or {})
    method = (
        f"segmented_regression(grid={grid}, n_boot={n_boot}, seed={seed}, alpha={alpha}; "
        "test=sup_f_wild_bootstrap, ci=pairs_bootstrap_percentile)"
    )
    xs = frame[x].to_numpy(dtype="float64", na_value=np.nan)
    ys = frame[y].to_numpy(dtype="float64", na_value=np.nan)
    keep = np.isfinite(xs) & np.isfinite(ys)
    n = int(keep.sum())
    order = np.argsort(xs[keep], kind="stable")
    xs, ys = xs[keep][order], ys[keep][order]
    if x_unit is None:
        x_unit = "fraction" if n and np.percentile(xs, 95) <= 2 else "percent"
    to_display = 100.0 if x_unit == "fraction" else 1.0
    shown_unit = " %" if x_unit in ("fraction", "percent") else f" {x_unit}"
    point = "utilisation point" if x_unit in ("fraction", "percent") else x_unit
    effect_unit = f"{y_unit} per {point}"
    counts: dict[str, Any] = {
        "n_points": n,
        "n_dropped": len(frame) - n,
        "x": x,
        "y": y,
        "x_unit": x_unit,
    }

    def nothing(reason: str, detail: str, **numbers: Any) -> Finding:
        return no_finding(
            analysis=ANALYSIS,
            metric=name,
            reason=reason,
            detail=detail,
            method=method,
            unit=effect_unit,
            scope={**scope, "x": x},
            **numbers,
        )

    if n < MIN_POINTS:
        return nothing(
            "too_few_points",
            f"too few points: {n} usable rows of {x} and {name}, need ≥ {MIN_POINTS}",
            evidence=counts,
        )
    side = max(MIN_SIDE, int(np.ceil(SIDE_SHARE * n)))
    ordered = np.sort(xs)
    low_q, high_q = float(ordered[side]), float(ordered[n - 1 - side])
    if high_q <= low_q:
        return nothing(
            "no_spread",
            f"no spread in {x}: all but {2 * side} rows lie at "
            f"{format_number(low_q * to_display)}{shown_unit}",
            evidence=counts,
        )
    if np.ptp(ys) == 0:
        return nothing(
            "constant", f"{name} is constant at {format_number(ys[0])} {y_unit}", evidence=counts
        )

    centre, spread = xs.mean(), xs.std()
    z = (xs - centre) / spread
    knots = (np.linspace(low_q, high_q, grid) - centre) / spread
    positions = np.searchsorted(z, knots, side="right")
    ones = np.ones((1, n))
    gain, _, rss0 = _hinge_scan(z, ys[None, :], ones, knots, positions)
    refined, _ = _refine(gain, knots)
    sup_f = float(_sup_f(gain, rss0, n)[0])
    threshold = float(refined[0] * spread + centre)
    design = np.column_stack([np.ones(n), xs, np.maximum(0.0, xs - threshold)])
    coef, *_ = np.linalg.lstsq(design, ys, rcond=None)
    a, b, c = (float(v) for v in coef)
    rss1 = float(np.sum((ys - design @ coef) ** 2))
    rng = np.random.default_rng(seed)
    null_sup_f = _null_sup_f(z, ys, knots, positions, n_boot=n_boot, rng=rng)
    p_value = float((1 + np.sum(null_sup_f >= sup_f)) / (n_boot + 1))
    t_boot, c_boot = _pairs_bootstrap(z, ys, knots, positions, n_boot=n_boot, rng=rng)
    t_boot, c_boot = t_boot * spread + centre, c_boot / spread
    t_low, t_high = np.percentile(t_boot, [2.5, 97.5])
    c_low, c_high = np.percentile(c_boot, [2.5, 97.5])

    per_point = 1.0 / to_display
    at_threshold = a + b * threshold
    at_high = at_threshold + (b + c) * (high_q - threshold)
    rise = (at_high - at_threshold) / abs(at_threshold) if at_threshold > 0 else None
    tss = float(np.sum((ys - ys.mean()) ** 2))
    evidence = {
        **counts,
        "threshold": threshold,
        "threshold_ci_low": t_low,
        "threshold_ci_high": t_high,
        "threshold_display": threshold * to_display,
        "threshold_display_unit": shown_unit.strip(),
        "slope_below": b * per_point,
        "slope_above": (b + c) * per_point,
        "intercept": a,
        "sup_f": sup_f,
        "r2_line": 1 - float(rss0[0]) / tss,
        "r2_hinge": 1 - rss1 / tss,
        "share_above": float(np.mean(xs > threshold)),
        "y_at_threshold": at_threshold,
        "y_at_grid_high": at_high,
        "rise_to_grid_high": rise,
        "grid_low": low_q,
        "grid_high": high_q,
        "n_boot": n_boot,
        "seed": seed,
        "alpha": alpha,
    }
    numbers = {
        "evidence": evidence,
        "effect": c * per_point,
        "ci_low": c_low * per_point,
        "ci_high": c_high * per_point,
        "p_value": p_value,
    }

    def fmt_x(value: float) -> str:
        return f"{format_number(value * to_display)}{shown_unit}"

    where = f"{x} = {fmt_x(threshold)} (95 % CI {fmt_x(t_low)} to {fmt_x(t_high)})"
    above_below = (
        f"{format_number((b + c) * per_point)} {effect_unit} above vs "
        f"{format_number(b * per_point)} below"
    )
    if p_value >= alpha:
        return nothing(
            "not_significant",
            f"no significant break in {name} against {x}: best break at "
            f"{where} is no better than a straight line ({format_p(p_value)} ≥ alpha "
            f"{alpha}, sup-F {sup_f:.1f}, n = {n:,})",
            **numbers,
        )
    if c <= 0:
        return nothing(
            "saturation",
            f"{name} bends at {where} but rises more slowly above it "
            f"({above_below}); not a capacity threshold",
            **numbers,
        )
    return Finding(
        id=finding_id(ANALYSIS, y, {**scope, "x": x}),
        kind="capacity_threshold",
        statement=f"{name} rises once {x} passes {fmt_x(threshold)} (95 % CI {fmt_x(t_low)} to "
        f"{fmt_x(t_high)}): slope {above_below}, steeper by {format_number(c * per_point)} "
        f"(95 % CI {format_number(c_low * per_point)} to {format_number(c_high * per_point)}; "
        f"{format_p(p_value)}, n = {n:,})",
        metric=name,
        method=method,
        severity=_severity(rise),
        scope={**scope, "x": x},
        unit=effect_unit,
        **numbers,
    )
