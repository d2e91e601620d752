"""A shift in a ticket KPI that is a mean over tickets, tested on the tickets' weeks.

Step 5 follows mean time to resolve week by week, by week of opening (the cohort).
Thirteen weekly means are too few for a permutation test to reach the p-values a
report of some thirty tests needs: however clearly the weeks split, a max-type
permutation test of 13 values seldom gives p below 0.003 (measured on the
benchmark's MTTR jump), while Benjamini–Hochberg over 28 tests asks for 0.0018 of
the first. The weeks' values are means of 50 to 100 tickets each, so their sampling
error is known from the tickets themselves; this test uses it.

The model. Week ``w`` has ``n_w`` tickets with mean ``m_w`` and variance ``s²_w``;
its mean's sampling variance is ``v_w = s²_w / n_w``. Weeks may also differ for
reasons of their own (staffing, a major incident): an extra between-week variance
``τ²``, estimated by moments from the weeks' spread around their side's level, the
known sampling variances subtracted (clipped at 0). The level of a run of weeks is
its tickets' mean ``Σ n_w m_w / Σ n_w`` (the KPI's own definition), with variance
``Σ n_w² (v_w + τ²) / (Σ n_w)²``.

The scan and the test. Every split between weeks (at least ``min_size`` weeks on
each side) gives ``t = (level after − level before) / √(var before + var after)``;
the split with the largest ``|t|`` is the candidate. Its p-value is the share of
parametric replicates under no shift, ``m*_w ~ N(0, v_w + τ²)``, whose own largest
``|t|`` (each split with its own ``τ²``) reaches it. No floor but ``1/(n_sim + 1)``.
The replicates' ``τ²`` is the larger of the candidate split's (which does not count
the shift as week-to-week noise, but is biased low: the split is chosen where the
sides are tightest) and the successive-difference estimate (von Neumann's, which a
single shift barely moves). With the split's alone, weeks off by 15 % of their level
gave 8.6 % false shifts at alpha 0.05; with the bound, 6.4 % (500 null cohorts).

Ranks for the test, hours for the size. Times to resolve are heavy-tailed (a few
tickets of weeks among hundreds of hours): one such ticket moves a week's mean by
more than a real change would, and its week's variance with it, so the weekly means
carry an apparent ``τ²`` that costs the test most of its power. Where the shift is
and whether it is real are therefore tested on the tickets' normal scores (each
ticket's rank among all of them as a normal quantile, :func:`normal_scores`): the
same scan and null on values without a tail. The shift's size is then the KPI's own:
the tickets' mean hours before and after that week, with the interval of their
difference from the weeks' sampling variances and ``τ²`` of the hours. A shift is
reported only when that interval excludes no change (``weak_change`` otherwise: the
typical ticket moved, the mean did not clearly). On the benchmark's ×1.6 jump the
scores found and placed the jump in 55 of 60 cohorts where the hours' means did in
38; null cohorts fired 11, 21 and 10 times in 500 (no week effect, 15 % and 30 %).

One explanation. A straight line through the weekly scores may describe them
better than a step. The BICs of a constant, a line and a step are compared (the
date counted as a parameter, the weeks weighted by ``1/(s²/n_w + τ²)`` with ``s²``
the tickets' pooled variance). The step the test found is reported unless a line
or one level is clearly better (BIC lower by :data:`CLEARLY_BETTER`); the record then
says the KPI changes gradually (``gradual_change``) or not clearly (``weak_change``).
Thirteen weeks cannot always tell a step from a ramp: when the line fits about as
well, the statement says so.

Measured: see ``tests/analysis/test_cohort_shift.py`` (calibration on null cohorts
with and without week effects, a planted ×1.6 jump).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csi_helpers.analysis import checks
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question

__all__ = ["cohort_shift", "normal_scores", "week_summaries"]

ANALYSIS = "change_point"
MIN_TICKETS = 5  # a week with fewer tickets is left out
#: A BIC lower by this much is positive evidence for a model (Kass and Raftery 1995);
#: a step the test found is reported unless a line or one level is clearly better.
CLEARLY_BETTER = 2.0


def week_summaries(values: pd.Series, opened: pd.Series, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Tickets, mean and sampling variance of the mean per week of opening.

    Args:
        values: One value per ticket (e.g. hours to resolve).
        opened: Each ticket's opening time, same index as ``values``.
        weeks: The first instants of the weeks to summarise, on a 7-day grid (a week
            may be missing from it); tickets of other weeks are not counted.

    Returns:
        One row per week of ``weeks`` with at least :data:`MIN_TICKETS` tickets:
        ``week``, ``n``, ``mean``, ``var_of_mean``.

    Example:
        >>> opened = pd.Series(pd.to_datetime(["2026-04-01", "2026-04-09"] * 5, utc=True))
        >>> weeks = pd.date_range("2026-04-01", periods=2, freq="7D", tz="UTC")
        >>> week_summaries(pd.Series([1.0, 3.0] * 5), opened, weeks)[["n", "mean"]].values.tolist()
        [[5.0, 1.0], [5.0, 3.0]]
    """
    opened = pd.to_datetime(opened, utc=True)
    first = weeks[0].tz_convert("UTC") if weeks.tz is not None else weeks[0].tz_localize("UTC")
    number = (opened - first) // pd.Timedelta(days=7)
    wanted = ((weeks - weeks[0]) // pd.Timedelta(days=7)).to_numpy()
    frame = pd.DataFrame({"week": number, "value": values.astype(float)}).dropna()
    stats = frame[frame["week"].isin(wanted)].groupby("week")["value"].agg(["count", "mean", "var"])
    stats = stats[stats["count"] >= MIN_TICKETS]
    return pd.DataFrame(
        {
            "week": weeks[np.searchsorted(wanted, stats.index.to_numpy())],
            "n": stats["count"].to_numpy(int),
            "mean": stats["mean"].to_numpy(float),
            "var_of_mean": (stats["var"] / stats["count"]).to_numpy(float),
        }
    )


def _scan(m: np.ndarray, v: np.ndarray, n: np.ndarray, min_size: int) -> dict[str, np.ndarray]:
    """For each row of weekly means ``m`` (B, W): every split's t, τ², levels and variances."""
    w = m.shape[1]
    ks = np.arange(min_size, w - min_size + 1)
    out: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "tau2", "before", "after", "var")}
    for k in ks:
        sides = (slice(0, k), slice(k, w))
        ss = sum(((m[:, s] - m[:, s].mean(axis=1, keepdims=True)) ** 2).sum(axis=1) for s in sides)
        tau2 = np.maximum(0.0, ss / (w - 2) - v.mean())
        levels, variances = [], []
        for s in sides:
            share = n[s] / n[s].sum()
            levels.append(m[:, s] @ share)
            variances.append((share**2) @ v[s] + tau2 * (share**2).sum())
        var = variances[0] + variances[1]
        out["t"].append((levels[1] - levels[0]) / np.sqrt(var))
        out["tau2"].append(tau2)
        out["before"].append(levels[0])
        out["after"].append(levels[1])
        out["var"].append(var)
    return {k: np.stack(vs, axis=1) for k, vs in out.items()} | {"k": ks}


def _bic(m: np.ndarray, weight: np.ndarray, design: np.ndarray, params: int) -> float:
    root = np.sqrt(weight)
    coef, *_ = np.linalg.lstsq(design * root[:, None], m * root, rcond=None)
    return float(np.sum(weight * (m - design @ coef) ** 2) + params * np.log(len(m)))


def cohort_shift(
    values: pd.Series,
    opened: pd.Series,
    *,
    weeks: pd.DatetimeIndex,
    metric: str,
    unit: str,
    alpha: float = 0.05,
    scope: Mapping[str, Any] | None = None,
    min_size: int = 3,
    n_sim: int = 1999,
    seed: int = 0,
) -> list[Finding]:
    """Test whether a mean-over-tickets KPI shifted between two weeks.

    Args:
        values: One value per ticket (hours to resolve, say).
        opened: Each ticket's opening time (same index); it picks the ticket's week.
        weeks: First instant of each week followed (7 days apart).
        metric: The weekly KPI's name, in the statement and the finding id.
        unit: Unit of the values.
        alpha: Significance level of the test.
        scope: Where the tickets come from, copied to the finding.
        min_size: Fewest weeks on each side of the shift.
        n_sim: Parametric replicates under no shift.
        seed: Seed of the replicates.

    Returns:
        A one-element list: a ``"change_point"`` Finding (``effect`` the level after
        minus before, 95 % interval, ``evidence["date"]`` the first week after), or a
        ``"no_finding"`` (``too_short``, ``not_significant``, ``gradual_change`` or
        ``weak_change``) saying why.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> opened = pd.Series(pd.Timestamp("2026-04-01") + pd.to_timedelta(
        ...     np.sort(rng.uniform(0, 91, 900)), unit="D"))
        >>> hours = pd.Series(rng.exponential(20, 900) * np.where(
        ...     opened >= pd.Timestamp("2026-05-13"), 1.6, 1.0))
        >>> weeks = pd.date_range("2026-04-01", periods=13, freq="7D")
        >>> [f] = cohort_shift(hours, opened, weeks=weeks, metric="weekly MTTR", unit="h")
        >>> f.kind, f.evidence["date"], f.p_value < 0.05
        ('change_point', '2026-05-20', True)
    """
    asked = _question(metric, unit, alpha, scope, min_size=min_size, n_sim=n_sim, seed=seed)
    table = week_summaries(values, opened, weeks)
    counts: dict[str, Any] = {
        "n_weeks": len(table),
        "n_tickets": int(table["n"].sum()),
        "weeks_left_out": len(weeks) - len(table),
        "min_size": min_size,
        "alpha": alpha,
        "n_sim": n_sim,
        "seed": seed,
    }
    if len(table) < 2 * min_size:
        detail = (
            f"{metric}: {len(table)} weeks with at least {MIN_TICKETS} tickets, need "
            f"≥ {2 * min_size} ({min_size} on each side)"
        )
        return [asked.no_finding("too_short", detail, evidence=counts)]
    ranked = week_summaries(normal_scores(values), opened, weeks)
    m, v, n = (ranked[c].to_numpy(float) for c in ("mean", "var_of_mean", "n"))
    best = _best_split(m, v, n, min_size=min_size, n_sim=n_sim, seed=seed)
    k, p = best.pop("weeks_before"), best.pop("p")
    sized = _levels(table, k, min_size)
    effect, se = sized["level_after"] - sized["level_before"], sized.pop("se")
    counts |= best | sized | _where(table, k, n, effect, sized["level_before"])
    if p >= alpha:
        detail = (
            f"no significant change in the level of {metric}: the likeliest week, "
            f"{counts['date']}, splits it into levels {_amount(effect, unit)} apart, no more "
            f"than week-to-week noise produces ({format_p(p)} ≥ alpha {alpha})"
        )
        return [
            asked.no_finding("not_significant", detail, evidence=counts, effect=effect, p_value=p)
        ]
    pooled = float(np.sum(v * n * (n - 1)) / np.sum(n - 1)) / n  # one ticket variance for all
    simpler = _simpler(asked, m, pooled + best["tau2"], k, counts)
    if simpler is None and abs(effect) <= 1.96 * se:
        simpler = _mean_unmoved(asked, counts, effect, se, p)
    return [simpler if simpler is not None else _shift(asked, counts, effect, se, p)]


def _question(
    metric: str, unit: str, alpha: float, scope: Mapping[str, Any] | None, **options: int
) -> Question:
    """The options checked, and the question the records answer (its method in words)."""
    checks.alpha(alpha)
    checks.integer("min_size", options["min_size"], low=2)
    checks.integer("n_sim", options["n_sim"], low=99)
    checks.integer("seed", options["seed"], low=0)
    method = (
        f"cohort_shift(min_size={options['min_size']} weeks, n_sim={options['n_sim']}, "
        f"seed={options['seed']}; test=max_t over week splits with ticket sampling variance "
        "and moment tau², parametric null; check=bic(constant,line,step))"
    )
    return Question(ANALYSIS, metric, method, unit, checks.scope(scope))


def _where(
    table: pd.DataFrame, k: int, n: np.ndarray, effect: float, before: float
) -> dict[str, Any]:
    """The split's place: its week, the weeks and tickets on each side, the relative change."""
    return {
        "weeks_before": k,
        "weeks_after": len(table) - k,
        "date": table["week"].iloc[k].strftime("%Y-%m-%d"),
        "last_date_before": table["week"].iloc[k - 1].strftime("%Y-%m-%d"),
        "n_before": int(n[:k].sum()),
        "n_after": int(n[k:].sum()),
        "relative_change": effect / before if before else None,
    }


def normal_scores(values: pd.Series) -> pd.Series:
    """Each value's rank among all of them as a standard normal quantile (Blom's
    ``(r - 3/8) / (n + 1/4)``, ties averaged); NaN stays NaN.

    Example:
        >>> normal_scores(pd.Series([3.0, 100.0, 1.0, None])).round(2).tolist()
        [0.0, 0.87, -0.87, nan]
    """
    ranks = values.rank(method="average")
    return pd.Series(stats.norm.ppf((ranks - 0.375) / (ranks.count() + 0.25)), index=values.index)


def _levels(table: pd.DataFrame, k: int, min_size: int) -> dict[str, float]:
    """The KPI's level (tickets' mean) before and after the ``k``-th week, and the
    standard error of their difference, with the weeks' sampling variances and τ²."""
    m, v, n = (table[c].to_numpy(float) for c in ("mean", "var_of_mean", "n"))
    scan = _scan(m[None, :], v, n, min_size)
    at = int(np.flatnonzero(scan["k"] == k)[0])
    return {
        "level_before": float(scan["before"][0, at]),
        "level_after": float(scan["after"][0, at]),
        "tau2_of_levels": float(scan["tau2"][0, at]),
        "se": float(np.sqrt(scan["var"][0, at])),
    }


def _best_split(
    m: np.ndarray, v: np.ndarray, n: np.ndarray, *, min_size: int, n_sim: int, seed: int
) -> dict[str, Any]:
    """The split of the weekly means with the largest |t|, its t, τ² and p-value."""
    scan = _scan(m[None, :], v, n, min_size)
    best = int(np.argmax(np.abs(scan["t"][0])))
    t, tau2 = float(scan["t"][0, best]), float(scan["tau2"][0, best])
    # the replicates' week-to-week variance: the best split's estimate is biased low (the
    # split is where the sides are tightest), so the successive-difference one bounds it
    successive = float(np.sum(np.diff(m) ** 2)) / (2 * (len(m) - 1)) - float(v.mean())
    rng = np.random.default_rng(seed)
    null = rng.normal(0.0, np.sqrt(v + max(tau2, successive, 0.0)), size=(n_sim, len(m)))
    largest = np.abs(_scan(null, v, n, min_size)["t"]).max(axis=1)
    return {
        "weeks_before": int(scan["k"][best]),
        "max_t": t,
        "tau2": tau2,
        "p": (1 + int(np.sum(largest >= abs(t) * (1 - 1e-9)))) / (n_sim + 1),
    }


def _shift(asked: Question, counts: dict[str, Any], effect: float, se: float, p: float) -> Finding:
    """The finding of a shift that passed the test and the model check."""
    low, high = effect - 1.96 * se, effect + 1.96 * se
    unit, date, relative = asked.unit, counts["date"], counts["relative_change"]
    also = "; a steady rise or fall fits the weeks about as well"
    return asked.finding(
        f"{asked.metric} shifted from {_amount(counts['level_before'], unit)} to "
        f"{_amount(counts['level_after'], unit)} from the week of {date} "
        f"({_amount(effect, unit, signed=True)}, 95 % CI {format_number(low)} to "
        f"{format_number(high)}; {format_p(p)})" + (also if counts["line_fits_as_well"] else ""),
        severity="high"
        if relative is not None and abs(relative) >= 0.25 and p < 0.01
        else "medium",
        effect=effect,
        ci_low=low,
        ci_high=high,
        p_value=p,
        evidence=counts,
        id=f"{asked.id}#{date}",
    )


def _simpler(
    asked: Question, m: np.ndarray, total_var: np.ndarray, k: int, counts: dict[str, Any]
) -> Finding | None:
    """The no-finding when a line or one level describes the weeks better than the step."""
    x = np.arange(len(m), dtype=float)
    one = np.ones_like(x)
    weight = 1.0 / total_var
    bic = {
        "constant": _bic(m, weight, one[:, None], 1),
        "line": _bic(m, weight, np.column_stack([one, x]), 2),
        "step": _bic(m, weight, np.column_stack([one, x >= k]), 3),
    }
    counts["bic"] = bic
    winner = min(bic, key=bic.__getitem__)
    counts["line_fits_as_well"] = bic["line"] < bic["step"]
    if bic["step"] - bic[winner] < CLEARLY_BETTER:
        return None
    if winner == "line":
        detail = (
            f"{asked.metric} changes gradually rather than in one step: a straight line through "
            f"the weekly values describes them better (BIC {bic['line']:.1f} vs step "
            f"{bic['step']:.1f}), so no change point is reported"
        )
        return asked.no_finding("gradual_change", detail, evidence=counts)
    detail = (
        f"no clear change in the level of {asked.metric}: the step in the week of "
        f"{counts['date']} fits no better than one level once its extra parameters are "
        f"counted (BIC {bic['constant']:.1f} vs {bic['step']:.1f})"
    )
    return asked.no_finding("weak_change", detail, evidence=counts)


def _mean_unmoved(
    asked: Question, counts: dict[str, Any], effect: float, se: float, p: float
) -> Finding:
    """The no-finding when the tickets' times moved but their mean (the KPI) did not
    clearly: the interval of its change includes none."""
    detail = (
        f"the times of {asked.metric}'s tickets shifted from the week of {counts['date']} "
        f"({format_p(p)}), but its level moved by {_amount(effect, asked.unit, signed=True)} "
        f"(95 % CI {format_number(effect - 1.96 * se)} to {format_number(effect + 1.96 * se)}), "
        "an interval that includes no change"
    )
    return asked.no_finding("weak_change", detail, evidence=counts, effect=effect, p_value=p)


def _amount(value: float, unit: str, *, signed: bool = False) -> str:
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{format_number(value)} {unit}".rstrip()
