"""The statistics of :func:`~csi_helpers.analysis.capacity.capacity_threshold`.

The scan of every candidate break of the hinge model in closed form, its sup-F
statistic, the wild bootstrap of the break test and the pairs bootstrap of the
intervals, as described in :mod:`csi_helpers.analysis.capacity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_SIDE = 10  # points the grid leaves beyond its ends, at least ...
SIDE_SHARE = 0.005  # ... or this share of the points, if more
CELLS = 2_000_000  # numbers per bootstrap work array: bounds memory for long tables


def _suffix(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Row-wise sums of ``values[:, k:]`` for each ``k`` in ``positions``."""
    cumulative = np.cumsum(values, axis=1)
    total = cumulative[:, -1:]
    before = np.concatenate([np.zeros_like(total), cumulative], axis=1)[:, positions]
    return total - before


def hinge_scan(
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
    """Replicates per pass, so that no work array exceeds about CELLS numbers."""
    size = max(1, CELLS // n)
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
        gain, _, rss0 = hinge_scan(
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
        gain, c, _ = hinge_scan(z, y[None, :], weights.astype("float64"), knots, positions)
        refined, pick = _refine(gain, knots)
        breaks.append(refined)
        coefs.append(c[np.arange(size), pick])
    return np.concatenate(breaks), np.concatenate(coefs)


def points_beyond(n: int) -> int:
    return max(MIN_SIDE, int(np.ceil(SIDE_SHARE * n)))


def grid_ends(xs: np.ndarray) -> tuple[float, float]:
    """The lowest and highest candidate break: x less its lowest and highest points."""
    ordered, side = np.sort(xs), points_beyond(len(xs))
    return float(ordered[side]), float(ordered[len(xs) - 1 - side])


@dataclass(frozen=True)
class HingeFit:
    """The hinge model at its best break, with the test and the bootstrap intervals."""

    threshold: float
    threshold_ci: tuple[float, float]
    coef: tuple[float, float, float]  # a, b, c of y = a + b·x + c·max(0, x − t)
    c_ci: tuple[float, float]
    sup_f: float
    p_value: float
    r2: tuple[float, float]  # straight line, hinge
    share_above: float
    grid: tuple[float, float]

    def evidence(self, to_display: float, display_unit: str) -> dict[str, Any]:
        """The fit's numbers; ``to_display`` turns x into the unit shown (``display_unit``)."""
        a, b, c = self.coef
        per_point = 1.0 / to_display
        at_threshold = a + b * self.threshold
        at_high = at_threshold + (b + c) * (self.grid[1] - self.threshold)
        rise = (at_high - at_threshold) / abs(at_threshold) if at_threshold > 0 else None
        return {
            "threshold": self.threshold,
            "threshold_ci_low": self.threshold_ci[0],
            "threshold_ci_high": self.threshold_ci[1],
            "threshold_display": self.threshold * to_display,
            "threshold_display_unit": display_unit,
            "slope_below": b * per_point,
            "slope_above": (b + c) * per_point,
            "intercept": a,
            "sup_f": self.sup_f,
            "r2_line": self.r2[0],
            "r2_hinge": self.r2[1],
            "share_above": self.share_above,
            "y_at_threshold": at_threshold,
            "y_at_grid_high": at_high,
            "rise_to_grid_high": rise,
            "grid_low": self.grid[0],
            "grid_high": self.grid[1],
        }


#: Fewer bootstrap draws than this at or above the statistic: the p-value comes from the tail.
TAIL_EXCEEDANCES = 10


def bootstrap_p(null: np.ndarray, observed: float) -> float:
    """The p-value of ``observed`` against bootstrap draws ``null``, resolved in the tail.

    ``(1 + #{null ≥ observed}) / (n + 1)`` cannot go below ``1 / (n + 1)`` (0.005 for
    200 draws), which a report-wide false-discovery control over 20 tests needs to
    go below. With fewer than :data:`TAIL_EXCEEDANCES` draws at or above the
    statistic, the p-value is the upper tail of a scaled chi-square matched to the
    draws' mean and variance (Satterthwaite), the parametric tail fitted to the
    bootstrap distribution of Knijnenburg et al. 2009, "Fewer permutations, more
    accurate P-values" (Bioinformatics 25, i161); it is never above the empirical one.

    Example:
        >>> null = np.random.default_rng(0).chisquare(3, 200)
        >>> bool(bootstrap_p(null, 4.0) == (1 + np.sum(null >= 4.0)) / 201)
        True
        >>> bootstrap_p(null, 40.0) < 1e-5
        True
    """
    from scipy import stats

    hits = int(np.sum(null >= observed))
    empirical = (1 + hits) / (len(null) + 1)
    mean, var = float(np.mean(null)), float(np.var(null, ddof=1))
    if hits >= TAIL_EXCEEDANCES or not (mean > 0 and var > 0):
        return float(empirical)
    scale, dof = var / (2 * mean), 2 * mean**2 / var
    return float(min(empirical, stats.chi2.sf(observed / scale, dof)))


def fit_hinge(xs: np.ndarray, ys: np.ndarray, *, grid: int, n_boot: int, seed: int) -> HingeFit:
    """Scan the breaks, test the best against a line, bootstrap the break and the bend."""
    n = len(xs)
    low_q, high_q = grid_ends(xs)
    centre, spread = xs.mean(), xs.std()
    z = (xs - centre) / spread
    knots = (np.linspace(low_q, high_q, grid) - centre) / spread
    positions = np.searchsorted(z, knots, side="right")
    gain, _, rss0 = hinge_scan(z, ys[None, :], np.ones((1, n)), knots, positions)
    refined, _ = _refine(gain, knots)
    sup_f = float(_sup_f(gain, rss0, n)[0])
    threshold = float(refined[0] * spread + centre)
    design = np.column_stack([np.ones(n), xs, np.maximum(0.0, xs - threshold)])
    coef, *_ = np.linalg.lstsq(design, ys, rcond=None)
    rss1 = float(np.sum((ys - design @ coef) ** 2))
    rng = np.random.default_rng(seed)
    null_sup_f = _null_sup_f(z, ys, knots, positions, n_boot=n_boot, rng=rng)
    p_value = bootstrap_p(null_sup_f, sup_f)
    t_boot, c_boot = _pairs_bootstrap(z, ys, knots, positions, n_boot=n_boot, rng=rng)
    t_boot, c_boot = t_boot * spread + centre, c_boot / spread
    t_low, t_high = np.percentile(t_boot, [2.5, 97.5])
    c_low, c_high = np.percentile(c_boot, [2.5, 97.5])
    tss = float(np.sum((ys - ys.mean()) ** 2))
    return HingeFit(
        threshold=threshold,
        threshold_ci=(t_low, t_high),
        coef=tuple(float(v) for v in coef),
        c_ci=(c_low, c_high),
        sup_f=sup_f,
        p_value=p_value,
        r2=(1 - float(rss0[0]) / tss, 1 - rss1 / tss),
        share_above=float(np.mean(xs > threshold)),
        grid=(low_q, high_q),
    )
