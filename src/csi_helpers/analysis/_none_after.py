"""The rate ratio of a cycle that saw no event at all, for :mod:`.verification`.

When the cycle under review has no event, the Poisson model's estimate of the ratio
is 0 and its Wald interval collapses onto it ("-100 %, 95 % CI -100 % to -100 %"),
however few events the baseline had. The honest interval is the exact conditional
one: given each season's total, every event of season s falls after the action with
probability r·E1_s / (E0_s + r·E1_s) at a rate ratio r (E0_s and E1_s the season's
exposure before and after; the conditional test of two Poisson rates, stratified by
season). The chance that none falls after is then

    P(r) = Π_s (E0_s / (E0_s + r·E1_s))^{Y_s}

which falls from 1 at r = 0. The 95 % upper bound of r solves P(r) = 2.5 %
(Clopper and Pearson's rule, the ratio's lower bound being 0), and P(1) is the
one-sided p-value of no change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize


def none_after(
    events: np.ndarray, before: np.ndarray, after: np.ndarray, *, tail: float = 0.025
) -> tuple[float, float]:
    """Upper bound of the ratio after/before and the p-value of no change, no event after.

    Args:
        events: each season's events, all of them before the action.
        before: each season's exposure before (hours, or volume), positive where events are.
        after: each season's exposure after.
        tail: the chance left above the bound (2.5 % for a 95 % interval).

    Example:
        Two events before, none after, over equal exposure: (1 / (1 + r))² = 2.5 % at
        r = √40 − 1, and the chance of none after with no change is (1/2)² = 0.25.

        >>> upper, p = none_after(np.array([2.0]), np.array([336.0]), np.array([336.0]))
        >>> round(upper, 4), p
        (5.3246, 0.25)
    """
    events, before, after = (np.asarray(a, dtype=float) for a in (events, before, after))
    counted = events > 0

    def log_chance(ratio: float) -> float:
        share = before[counted] / (before[counted] + ratio * after[counted])
        return float(np.sum(events[counted] * np.log(share)))

    if not (after[counted] > 0).any():  # nothing could have fallen after
        return np.inf, 1.0
    target = np.log(tail)
    high = 1.0
    while log_chance(high) > target:
        high *= 2.0
    upper = optimize.brentq(lambda r: log_chance(r) - target, 0.0, high, xtol=1e-12)
    return float(upper), float(np.exp(log_chance(1.0)))


def without_events_after(
    frame: pd.DataFrame, after: np.ndarray, promised: float | None
) -> dict[str, Any]:
    """The estimate of :func:`.verification._estimate` when no event fell after the action.

    The interval and p-value are the exact conditional ones (:func:`none_after`; the
    p-value one-sided in the promised direction, as there, and doubled without one), and
    the error behind the power of an inconclusive review is the Poisson error of the log
    ratio at no change, sqrt(1 / events before + 1 / events expected after).
    """
    season = pd.factorize(frame["season"])[0]
    y, e = frame["y"].to_numpy(float), frame["exposure"].to_numpy(float)
    events = np.bincount(season, weights=y)
    exposure = [np.bincount(season, weights=e * mask) for mask in (~after, after)]
    upper, p_none = none_after(events, *exposure)
    expected = float(np.sum(events * exposure[1] / np.where(exposure[0] > 0, exposure[0], np.inf)))
    one_sided = p_none if promised is not None and promised < 0 else 1.0
    p_value = min(1.0, 2 * p_none) if promised is None else one_sided
    return {
        "beta": -np.inf,
        "se": float(np.sqrt(1 / events.sum() + 1 / expected)),
        "effect": -1.0,
        "low": -1.0,
        "high": upper - 1,
        "p_value": p_value,
        "exact_interval": True,
    }
