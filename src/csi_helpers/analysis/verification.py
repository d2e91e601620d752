"""Before/after verification: did a KPI really change between two cycles?

An improvement action is proved by comparing its KPI in the baseline cycle with
the cycle after it. A plain ratio of the two cycle totals is misleading when the
cycles differ in length, in their mix of weekdays and hours (a quarter with more
Friday evenings has more peak-hour outages), or in volume (more requests bring
more incidents). The comparison here is a regression on the hourly series of
both cycles:

    E[y_h] = exposure_h × exp(α_{weekday(h), hour(h)} + β · after_h)

a Poisson generalised linear model (log link) with one fixed effect per
weekday × hour of day (seasonality) and, optionally, ``log exposure`` as an
offset (volume: requests for incident counts; none for time-based KPIs such as
downtime minutes). ``exp(β)`` is the ratio of the after to the before level at
equal season and volume; the effect reported is ``exp(β) − 1`` (a fraction, so
−0.5 is a 50 % drop). The Poisson estimating equations need only the mean to be
right, so they serve continuous, over-dispersed, mostly-zero series such as
downtime minutes per hour, as long as the variance comes from a sandwich rather
than from the Poisson model.

Hours of one outage or one busy evening are correlated, so the sandwich is
clustered by day, the unit within which such shocks stay. The estimate and its
standard error equal statsmodels' ``GLM(..., Poisson).fit(cov_type="cluster")``
on a dummy design (a test checks it); :func:`_fit` computes them directly.

The verdict reads the 95 % interval of the change against the action's promise, in
words a service owner can act on (worked, did not work, inconclusive: :mod:`._verdict`).

The p-value stays one-sided in the promised direction, as the action named it before
the data were seen; the interval, and so the verdict, is two-sided 95 %. When the cycle
under review saw no event at all, the model's interval collapses onto -100 %, so the
interval and p-value are the exact conditional ones instead (:mod:`._none_after`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from csi_helpers.analysis import checks
from csi_helpers.analysis._none_after import without_events_after
from csi_helpers.analysis._verdict import WORKED, verdict_of
from csi_helpers.analysis.findings import Finding, format_p
from csi_helpers.analysis.question import Question

ANALYSIS = "verification"
MIN_HOURS = 24 * 14  # two weeks each side, so every weekday-hour is seen twice


def _check(series: object, name: str) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise TypeError(
            f"{name} must be a pandas Series of hourly values, got {type(series).__name__}"
        )
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
        raise TypeError(f"{name} must be indexed by timezone-aware hourly timestamps")
    return series.astype(float)


def _check_options(options: dict[str, Any]) -> None:
    checks.label("metric", options["metric"])
    checks.label("unit", options["unit"], blank=True)
    if options["expected_change"] is not None:
        checks.number(
            "expected_change",
            options["expected_change"],
            meaning="a fraction ≥ -1 (-0.5 for 'halve it') or None",
            valid=lambda change: change >= -1,
        )
    checks.choice("better", options["better"], ("lower", "higher", None))
    checks.alpha(options["alpha"])
    if (options["exposure_before"] is None) != (options["exposure_after"] is None):
        raise ValueError("give exposure for both cycles or for neither")


def _frame(series: pd.Series, exposure: pd.Series | None, after: int) -> pd.DataFrame:
    frame = pd.DataFrame({"y": series})
    frame["exposure"] = 1.0 if exposure is None else exposure.reindex(series.index).astype(float)
    frame["after"] = after
    stamps = frame.index.tz_convert("UTC")
    frame["season"] = stamps.day_of_week.astype(str) + "-" + stamps.hour.astype(str)
    frame["day"] = stamps.normalize()
    return frame


def _fit(frame: pd.DataFrame) -> tuple[float, float, float]:
    """β of the Poisson model with season fixed effects, its day-clustered SE, and the scale.

    With one fixed effect per season the season levels profile out in closed form:
    for a given β, ``exp(α_s) = Y_s / (E0_s + e^β E1_s)`` (totals and exposures of
    season s before and after). β then solves the one-dimensional score equation
    ``Σ_after (y − μ) = 0``, found by Newton's method. The sandwich variance uses
    each hour's score for β with the season effects partialled out,
    ``(x − x̄_s)(y − μ)``, summed per day (clusters) with the factor
    G/(G−1) · (N−1)/(N−K), over the squared information ``Σ μ (x − x̄_s)²``.
    This is statsmodels' GLM with dummies and ``cov_type="cluster"`` (the tests
    check it), without a 168-column design matrix, so it runs in milliseconds.
    """
    season = pd.factorize(frame["season"])[0]
    x = frame["after"].to_numpy(float)
    y = frame["y"].to_numpy(float)
    e = frame["exposure"].to_numpy(float)
    k = season.max() + 1
    total = np.bincount(season, weights=y, minlength=k)
    e0 = np.bincount(season, weights=e * (1 - x), minlength=k)
    e1 = np.bincount(season, weights=e * x, minlength=k)
    y1 = float(y[x == 1].sum())
    beta = np.log(max(y1, 0.5) / max(float(y[x == 0].sum()), 0.5) * e0.sum() / e1.sum())
    for _ in range(50):
        share = np.exp(beta) * e1 / (e0 + np.exp(beta) * e1)  # after's share of each season
        score = y1 - float(np.sum(total * share))
        information = float(np.sum(total * share * (1 - share)))
        step = score / information
        beta += step
        if abs(step) < 1e-12:
            break
    level = total / (e0 + np.exp(beta) * e1)
    mu = e * level[season] * np.exp(beta * x)
    weight = np.bincount(season, weights=mu, minlength=k)
    x_bar = np.bincount(season, weights=mu * x, minlength=k) / np.where(weight > 0, weight, 1)
    centred = x - x_bar[season]
    information = float(np.sum(mu * centred**2))
    days = pd.factorize(frame["day"])[0]
    per_day = np.bincount(days, weights=centred * (y - mu))
    g, n = len(per_day), len(y)
    correction = g / (g - 1) * (n - 1) / (n - k - 1)  # statsmodels' (Stata's) small-sample factor
    variance = correction * float(np.sum(per_day**2)) / information**2
    residual = (y - mu) / np.sqrt(np.where(mu > 0, mu, 1))
    scale = float(np.sum(residual[mu > 0] ** 2) / max(1, int((mu > 0).sum()) - k - 1))
    return float(beta), float(np.sqrt(variance)), scale


def before_after(
    before: pd.Series,
    after: pd.Series,
    *,
    metric: str,
    unit: str,
    expected_change: float | None = None,
    exposure_before: pd.Series | None = None,
    exposure_after: pd.Series | None = None,
    better: str | None = None,
    alpha: float = 0.05,
    scope: Mapping[str, Any] | None = None,
) -> Finding:
    """Compare an hourly KPI between a baseline cycle and a later one.

    Args:
        before: Hourly values of the baseline cycle (e.g. downtime minutes per hour).
        after: Hourly values of the cycle under review.
        metric: What is compared, for the statement.
        unit: Unit of the hourly values (the effect is a fraction either way).
        expected_change: The change the action promised, as a fraction (−0.5 for
            "halve it"); ``None`` only tests for a change.
        exposure_before: Volume per hour in the baseline (e.g. requests), when the
            KPI should be compared per unit of volume; ``None`` compares per hour.
        exposure_after: Volume per hour in the cycle under review.
        better: ``"lower"`` or ``"higher"``: which way the KPI improves. Without an
            ``expected_change`` it makes the test one-sided in that direction and
            the verdict "met" mean a significant improvement.
        alpha: Significance level of the test.
        scope: Where the comparison applies (action id, KPI), copied to the finding.

    Returns:
        A Finding of kind ``"verification"``: effect ``exp(β) − 1`` with its 95 %
        interval and p-value, and ``evidence["verdict"]``: ``"worked"``, ``"did not
        work"`` or ``"inconclusive"`` when a direction was promised (``"changed"`` or
        ``"no clear change"`` otherwise), with ``evidence["reason"]``; a no-finding when
        the data cannot support the comparison.

    Example:
        >>> hours = pd.date_range("2026-04-01", periods=24 * 28, freq="h", tz="UTC")
        >>> rng = np.random.default_rng(1)
        >>> base = pd.Series(rng.poisson(4.0, len(hours)), index=hours)
        >>> later = pd.Series(rng.poisson(2.0, len(hours)), index=hours + pd.Timedelta(weeks=4))
        >>> f = before_after(base, later, metric="incidents", unit="per hour",
        ...                  expected_change=-0.4)
        >>> f.evidence["verdict"], f.ci_low < -0.5 < f.ci_high
        ('worked', True)
    """
    before, after = _check(before, "before"), _check(after, "after")
    options = {"metric": metric, "unit": unit, "expected_change": expected_change}
    options |= {"better": better, "alpha": alpha}
    _check_options(options | {"exposure_before": exposure_before, "exposure_after": exposure_after})
    volume = exposure_before is not None
    method = (
        "Poisson GLM, weekday × hour effects"
        + (", volume offset" if volume else "")
        + ", day-clustered errors"
    )
    asked = Question(ANALYSIS, metric, method, "fraction", checks.scope(scope))
    frame = pd.concat(
        [_frame(before, exposure_before, 0), _frame(after, exposure_after, 1)]
    ).dropna(subset=["y", "exposure"])
    frame = frame[frame["exposure"] > 0]
    counts = {
        "hours_before": int((frame["after"] == 0).sum()),
        "hours_after": int((frame["after"] == 1).sum()),
        "total_before": float(frame.loc[frame["after"] == 0, "y"].sum()),
        "total_after": float(frame.loc[frame["after"] == 1, "y"].sum()),
    }
    # Seasons without any value in either cycle carry no information (and no estimate).
    seen = frame.groupby("season")["y"].transform("sum") > 0
    unusable = _unusable(asked, frame, counts, seen)
    if unusable is not None:
        return unusable
    # a promised change of 0 names no size: only the direction (better), if any, is tested
    promise = {"expected_change": expected_change or None, "better": better}
    estimate = _estimate(frame[seen], **promise)
    verdict, reason = verdict_of(estimate, **promise, alpha=alpha)
    return _answer(asked, estimate, counts, verdict, reason, options=options, volume=volume)


def _unusable(
    asked: Question, frame: pd.DataFrame, counts: dict[str, Any], seen: pd.Series
) -> Finding | None:
    """The no-finding of cycles too short, negative values, a zero baseline or no hour after
    at the weekdays and hours of the values before (None if usable)."""
    metric = asked.metric
    if min(counts["hours_before"], counts["hours_after"]) < MIN_HOURS:
        detail = (
            f"too few hours to compare {metric}: {counts['hours_before']} before and "
            f"{counts['hours_after']} after, need ≥ {MIN_HOURS} each (two weeks)"
        )
        return asked.no_finding("too_short", detail, evidence=counts)
    if (frame["y"] < 0).any():
        detail = f"{metric} has negative values; the model needs ≥ 0"
        return asked.no_finding("negative_values", detail, evidence=counts)
    if counts["total_before"] == 0:
        detail = (
            f"{metric} was zero throughout the baseline cycle, so a relative change is undefined"
        )
        return asked.no_finding("no_baseline", detail, evidence=counts)
    if not (frame.loc[seen, "after"] == 1).any():
        detail = (
            f"no hour after the action shares a weekday and hour with the {metric} of the "
            "baseline (they have no value or volume after), so nothing compares at equal "
            "hours; compare cycles that share them"
        )
        return asked.no_finding("no_overlap", detail, evidence=counts)
    return None


def _estimate(
    frame: pd.DataFrame, *, expected_change: float | None, better: str | None
) -> dict[str, Any]:
    """β, the effect exp(β) − 1 with its 95 % interval, and the p-value in the named direction."""
    beta, se, scale = _fit(frame)
    groups = pd.factorize(frame["day"])[0]
    p_two = float(2 * stats.norm.sf(abs(beta) / se))
    promised = expected_change
    if promised is None and better is not None:
        promised = -1e-12 if better == "lower" else 1e-12  # a direction without a size
    if promised is None:
        p_value = p_two
    else:  # the action named its direction before the data: a one-sided test
        p_value = p_two / 2 if np.sign(beta) == np.sign(promised) else 1 - p_two / 2
    z = 1.959963984540054
    after = frame["after"].to_numpy() == 1
    estimate = {
        "beta": beta,
        "se": se,
        "days_before": int(frame.loc[~after, "day"].nunique()),
        "days_after": int(frame.loc[after, "day"].nunique()),
        # one hour of the week per season: hours per season are the weeks after
        "weeks_after": float(frame.loc[after].groupby("season").size().mean()),
        "effect": float(np.expm1(beta)),
        "low": float(np.expm1(beta - z * se)),
        "high": float(np.expm1(beta + z * se)),
        "p_value": p_value,
        "promised": promised,
        "days_clustered": int(groups.max() + 1),
        "pearson_scale": scale,
        "exact_interval": False,
    }
    if not frame.loc[after, "y"].sum() > 0:
        estimate |= without_events_after(frame, after, promised)
    return estimate


def _answer(
    asked: Question,
    estimate: dict[str, Any],
    counts: dict[str, Any],
    verdict: str,
    reason: str,
    *,
    options: dict[str, Any],
    volume: bool,
) -> Finding:
    """The finding: the change, its interval and p-value, and the verdict."""
    effect, low, high, p_value = (estimate[k] for k in ("effect", "low", "high", "p_value"))
    raw = (
        counts["total_after"]
        / counts["hours_after"]
        / (counts["total_before"] / counts["hours_before"])
        - 1
    )
    evidence = {
        **counts,
        "ratio": float(np.exp(estimate["beta"])),
        "raw_change": raw,
        "expected_change": options["expected_change"],
        "verdict": verdict,
        "reason": reason,
        "alpha": options["alpha"],
        "days_clustered": estimate["days_clustered"],
        "days_before": estimate["days_before"],
        "days_after": estimate["days_after"],
        "pearson_scale": estimate["pearson_scale"],
        "exact_interval": estimate["exact_interval"],
    }
    statement = (
        f"{asked.metric} changed by {effect * 100:+.1f} % after against before at equal weekday "
        f"and hour{' and volume' if volume else ''} (95 % CI "
        f"{low * 100:+.1f} % to {high * 100:+.1f} %; {format_p(p_value)}): {verdict}, {reason}"
    )
    return asked.finding(
        statement,
        severity="low" if verdict == WORKED else "medium",
        effect=effect,
        ci_low=min(low, effect),
        ci_high=max(high, effect),
        p_value=p_value,
        evidence=evidence,
    )
