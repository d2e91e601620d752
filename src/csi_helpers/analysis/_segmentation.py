"""The statistics of :func:`~csi_helpers.analysis.changepoint.change_points`.

The max-t scan of one segment, its AR(1)-sieve permutation test, binary
segmentation with a Bonferroni bound per round, the re-location of each change
between its neighbours, the BIC comparison of a constant, a line, the levels
between the changes and levels plus a line, and Welch's interval of each shift.
The method and its references are described in :mod:`csi_helpers.analysis.changepoint`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal, stats

MAX_RHO = 0.9
CELLS = 2_000_000  # numbers per work array of replicates: bounds memory for long series


@dataclass(frozen=True)
class SegmentTest:
    """The best split of one segment and its permutation p-value."""

    k: int  # values before the split, within the segment
    f: float  # max F statistic
    p: float  # permutation p-value
    rho: float  # AR(1) coefficient used for the null


def _deseasonalise(x: np.ndarray, seasons: np.ndarray | None) -> np.ndarray:
    """Remove each row's season means (or its mean, without seasons); x is (B, m)."""
    if seasons is None:
        return x - x.mean(axis=1, keepdims=True)
    labels, inverse = np.unique(seasons, return_inverse=True)
    onehot = np.zeros((len(seasons), len(labels)))
    onehot[np.arange(len(seasons)), inverse] = 1.0
    means = (x @ onehot) / onehot.sum(axis=0)
    return x - means @ onehot.T


def _scan(x: np.ndarray, min_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Max over splits of F_k = B_k / (TSS - B_k) for each row of x (B, m), and its split."""
    m = x.shape[1]
    x = x - x.mean(axis=1, keepdims=True)
    k = np.arange(min_size, m - min_size + 1)
    s_k = np.cumsum(x, axis=1)[:, k - 1]
    between = s_k**2 * m / (k * (m - k))
    tss = np.sum(x**2, axis=1, keepdims=True)
    within = tss - between
    fit = within > 1e-12 * tss
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(fit, between / np.where(fit, within, 1.0), np.where(between > 0, np.inf, 0))
    best = np.argmax(f, axis=1)
    return f[np.arange(len(f)), best], k[best]


def ar1(residuals: np.ndarray) -> float:
    """Lag-1 autocorrelation, bias-corrected and clipped to [0, MAX_RHO]."""
    denominator = float(np.sum(residuals**2))
    if denominator == 0 or len(residuals) < 3:
        return 0.0
    rho = float(np.sum(residuals[1:] * residuals[:-1])) / denominator
    return float(np.clip(rho + (1 + 3 * rho) / len(residuals), 0.0, MAX_RHO))


def _best_split(
    y: np.ndarray,
    seasons: np.ndarray | None,
    *,
    min_size: int,
    n_perm: int,
    rng: np.random.Generator,
) -> SegmentTest:
    """Best split of ``y`` and its p-value against AR(1)-sieve permutation replicates."""
    z = _deseasonalise(y[None, :], seasons)[0]
    f, k = _scan(z[None, :], min_size)
    split = int(k[0])
    residuals = np.concatenate([z[:split] - z[:split].mean(), z[split:] - z[split:].mean()])
    rho = ar1(residuals)
    innovations = z.copy()
    innovations[1:] -= rho * z[:-1]
    innovations[0] *= np.sqrt(1 - rho**2)
    groups = (
        [np.arange(len(z))]
        if seasons is None
        else [np.flatnonzero(seasons == s) for s in np.unique(seasons)]
    )
    exceed, size = 0, max(1, CELLS // len(z))  # replicates per pass, to bound memory
    for rows in (min(size, n_perm - start) for start in range(0, n_perm, size)):
        null = np.empty((rows, len(z)))
        for idx in groups:
            null[:, idx] = rng.permuted(np.tile(innovations[idx], (rows, 1)), axis=1)
        if rho > 0:
            null[:, 0] /= np.sqrt(1 - rho**2)
            null = _deseasonalise(signal.lfilter([1.0], [1.0, -rho], null, axis=1), seasons)
        exceed += int(np.sum(_scan(null, min_size)[0] >= f[0] * (1 - 1e-9)))
    return SegmentTest(k=split, f=float(f[0]), p=(1 + exceed) / (n_perm + 1), rho=rho)


def binary_segmentation(
    y: np.ndarray,
    seasons: np.ndarray | None,
    *,
    min_size: int,
    need: int,
    max_points: int,
    alpha: float,
    n_perm: int,
    seed: int,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, str]:
    """Accepted change points (in order found), the first rejected candidate, stop reason."""
    cache: dict[tuple[int, int], SegmentTest] = {}

    def test(a: int, b: int) -> SegmentTest:
        if (a, b) not in cache:  # a seed per segment: same answer whatever the order
            cache[(a, b)] = _best_split(
                y[a:b],
                None if seasons is None else seasons[a:b],
                min_size=min_size,
                n_perm=n_perm,
                rng=np.random.default_rng([seed, a, b]),
            )
        return cache[(a, b)]

    bounds, accepted = [0, len(y)], []
    while len(accepted) < max_points:
        parts = [(a, b) for a, b in itertools.pairwise(bounds) if b - a >= need]
        if not parts:
            return accepted, None, "segments_too_short"
        results = [(a, b, test(a, b)) for a, b in parts]
        a, b, best = min(results, key=lambda r: (r[2].p, -r[2].f))
        candidate = {
            "index": a + best.k,
            "segment": (a, b),
            "p_raw": best.p,
            "p_adjusted": min(1.0, best.p * len(parts)),
            "segments_tested": len(parts),
            "f": best.f,
            "rho_test": best.rho,
            "round": len(accepted) + 1,
        }
        if candidate["p_adjusted"] >= alpha:
            return accepted, candidate, "no_more_significant_splits"
        accepted.append(candidate)
        bounds = sorted({*bounds, a + best.k})
    return accepted, None, "max_points"


def refine(y: np.ndarray, seasons: np.ndarray | None, points: list[int], min_size: int) -> list:
    """Re-locate each change point between its neighbours (one pass, left to right)."""
    points = sorted(points)
    for i, point in enumerate(points):
        low = points[i - 1] if i else 0
        high = points[i + 1] if i + 1 < len(points) else len(y)
        part = _deseasonalise(y[None, low:high], None if seasons is None else seasons[low:high])
        _, k = _scan(part, min_size)
        points[i] = low + int(k[0]) if (high - low) >= 2 * min_size else point
    return points


def _season_columns(seasons: np.ndarray | None) -> np.ndarray:
    """Sum-to-zero season contrasts (no columns without seasons)."""
    if seasons is None:
        return np.empty((0, 0))
    labels = np.unique(seasons)
    columns = [(seasons == s).astype(float) - (seasons == labels[-1]) for s in labels[:-1]]
    return np.column_stack(columns) if columns else np.empty((len(seasons), 0))


def _fit(design: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coef, float(np.sum((y - design @ coef) ** 2))


def _bic(rss: float, n: int, params: int) -> float:
    return n * np.log(max(rss, 1e-300) / n) + params * np.log(n)


def compare_models(
    y: np.ndarray, days: np.ndarray, seasons: np.ndarray | None, bounds: list[int]
) -> tuple[str, dict[str, float], dict[str, np.ndarray], np.ndarray]:
    """BIC of a constant, a line, the levels between ``bounds``, and levels plus a line.

    Every model has season effects (sum-to-zero contrasts) when there are seasons.
    Returns the name of the model with the lowest BIC (the simpler on a tie), every BIC,
    every model's coefficients (season coefficients last), and the values less the
    season effects of the levels model (whose segment means are then its levels).
    """
    n, k = len(y), len(bounds) - 2
    seasonal = _season_columns(seasons).reshape(n, -1)
    ones = np.ones((n, 1))
    steps = np.searchsorted(bounds[1:-1], np.arange(n), side="right")[:, None] == range(k + 1)
    designs = {
        "constant": (ones, 1),
        "line": (np.column_stack([ones, days]), 2),
        "steps": (steps.astype(float), 2 * k + 1),  # a level per segment and k dates
        "steps_plus_line": (np.column_stack([steps, days]), 2 * k + 2),
    }
    bic, fits = {}, {}
    for name, (design, params) in designs.items():
        fits[name], rss = _fit(np.column_stack([design, seasonal]), y)
        bic[name] = _bic(rss, n, params + seasonal.shape[1])
    z = y - seasonal @ fits["steps"][k + 1 :]
    return min(bic, key=bic.__getitem__), bic, fits, z


def welch(a: np.ndarray, b: np.ndarray, rho: float) -> tuple[float, float, float]:
    """Difference of means b - a with its Welch 95 % CI, variances inflated for AR(1)."""
    effect = float(b.mean() - a.mean())
    inflation = (1 + rho) / (1 - rho)
    va, vb = (inflation * x.var(ddof=1) / len(x) for x in (a, b))
    if va + vb == 0:
        return effect, effect, effect
    n_a, n_b = (max(len(x) / inflation, 2.0) for x in (a, b))
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    half = float(stats.t.ppf(0.975, df) * np.sqrt(va + vb))
    return effect, effect - half, effect + half
