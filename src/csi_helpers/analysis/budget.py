"""Error budget of one SLO: how much is spent, how fast, and when it runs out.

The input is one row per *eligible unit* (an hour that meets a latency threshold
or not, a request answered OK or not, a ticket resolved within its SLA or not)
with its ``timestamp`` and a boolean ``good``. The definitions are those of the
KPI library (:mod:`csi_helpers.kpis.budget`, whose ``Spend`` and ``elapsed_share``
this module reuses, so the figures agree on the same inputs):

* **Period** ``[period_start, period_end)``; with ``as_of`` (a period still
  running) only units before ``as_of`` count and the **elapsed share** is
  (as_of − start) / (end − start); without it the period is closed (share 1).
* **Budget** = (1 − slo/100) × eligible units / elapsed share: the bad units the
  SLO allows over the whole period, extrapolated from the units so far.
* **Consumption share** = bad units / budget; **remaining** = 1 − that.
* **Burn rate** = consumption share / elapsed share: 1 spends the budget exactly
  by the period end. It equals the bad-unit rate over the allowed rate
  (1 − slo/100), so its 95 % interval is the exact (Clopper-Pearson) binomial
  interval of the bad-unit rate divided by the allowed rate, and the p-value is
  the two-sided exact binomial test of "burn rate = 1" (scipy
  :func:`~scipy.stats.binomtest`). Units are treated as independent trials;
  bad units that cluster (an outage spans consecutive hours) make the interval
  too narrow.
* **Exhaustion.** When bad units have reached the budget, the date is when the
  running count of bad units reached it. Otherwise, at the period's burn rate
  ``b`` the budget lasts an elapsed share of ``1/b``: exhaustion is projected at
  ``start + (end − start) / b`` when ``b > 1``, else "not before period end".
* **Fast burn.** The same burn rate over the last ``fast_burn_days`` (7) days
  before ``as_of`` (or the period end), with the date the remaining budget would
  run out at that recent pace.

Severity. High when the budget is exhausted or projected to be before the period
end. Because the budget lasts ``1/b`` of the period, "burn rate above 1" and
"projected exhaustion before the end" are the same condition for the period's
burn rate; medium is therefore given when only the *recent* (fast-burn) rate is
above 1, a pace the budget does not sustain. Low when the burn rate is at most 1
but its interval reaches above 1, info when even the upper bound is at most 1. A
healthy budget is a finding too (kind ``"error_budget"``, severity info): the
report states it. ``no_finding`` is kept for data that cannot give a budget (no
unit in the period, an SLO of 100 % that allows none, a period not started).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.analysis.findings import Finding, format_number, format_p
from csi_helpers.analysis.question import Question
from csi_helpers.kpis.base import in_period
from csi_helpers.kpis.budget import Spend, elapsed_share

ANALYSIS = "error_budget"

TimeLike = pd.Timestamp | datetime | str


def _timestamp(name: str, value: object) -> pd.Timestamp:
    if isinstance(value, bool) or not isinstance(value, (pd.Timestamp, datetime, str)):
        raise TypeError(f"{name} must be a timestamp or an ISO date string, got {value!r}")
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise ValueError(f"{name} {value!r} is not a date; use e.g. '2026-07-01'") from exc
    if stamp is pd.NaT:
        raise ValueError(f"{name} is missing (NaT)")
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _period(
    period_start: object, period_end: object, as_of: object
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp | None]:
    """The period's start and end, and ``as_of`` (None: the period is closed), in UTC."""
    start, end = _timestamp("period_start", period_start), _timestamp("period_end", period_end)
    if end <= start:
        raise ValueError(f"period_end {end} must come after period_start {start}")
    return start, end, None if as_of is None else _timestamp("as_of", as_of)


def _check_inputs(units: object, good: object, options: dict[str, Any]) -> None:
    checks.frame(units, function="error_budget")
    roles = [
        ("the timestamp of error_budget", "timestamp"),
        ("the good flag of error_budget", good),
    ]
    checks.columns(units, roles)
    checks.aware_column(units, "timestamp")
    _check_flags(units[good].dropna(), good)
    checks.number(
        "slo",
        options["slo"],
        meaning="a percentage of good units, 0 to 100",
        valid=lambda slo: 0 <= slo <= 100,
    )
    checks.integer("fast_burn_days", options["fast_burn_days"], low=1, meaning="a positive integer")
    checks.label("metric", options["metric"], meaning="a non-empty string (the SLO's name)")
    checks.label("unit", options["unit"], meaning="a non-empty string (what one row is)")


def _check_flags(flags: pd.Series, good: str) -> None:
    """The good/bad flags hold booleans or 0/1 (missing ones are dropped first)."""
    if pd.api.types.is_bool_dtype(flags.dtype) or flags.map(type).isin([bool, np.bool_]).all():
        return
    values = pd.to_numeric(flags, errors="coerce")
    if values.isna().any() or not values.isin([0, 1]).all():
        shown = flags[~values.isin([0, 1])].head(3).tolist()
        message = f"column {good!r} must hold booleans (True = good unit) or 0/1, got {shown}"
        raise (ValueError if pd.api.types.is_numeric_dtype(flags.dtype) else TypeError)(message)


def _binomial(bad: int, n: int, allowed: float) -> tuple[float, float, float]:
    """Clopper-Pearson 95 % interval of the bad-unit rate, and the test of rate = allowed."""
    from scipy import stats

    test = stats.binomtest(bad, n, allowed)
    interval = test.proportion_ci(confidence_level=0.95, method="exact")
    return float(interval.low), float(interval.high), float(test.pvalue)


def _instants(stamps: pd.Series) -> np.ndarray:
    """Timestamps as a numeric datetime64 array (UTC for tz-aware ones), for sorting."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        return stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    return stamps.to_numpy()


def _exhausted_at(stamps: pd.Series, bad: pd.Series, budget: float) -> pd.Timestamp | None:
    """When the running count of bad units first reached the budget."""
    # as instants (datetime64, UTC): a tz-aware column's to_numpy() is one object per row
    order = np.argsort(_instants(stamps), kind="stable")
    running = np.cumsum(bad.to_numpy()[order])
    hits = np.flatnonzero(running >= budget)
    return pd.Timestamp(stamps.iloc[order[hits[0]]]) if len(hits) else None


def _day(stamp: pd.Timestamp | None) -> str | None:
    return None if stamp is None else f"{stamp:%Y-%m-%d}"


def error_budget(
    units: pd.DataFrame,
    *,
    slo: float,
    period_start: TimeLike,
    period_end: TimeLike,
    metric: str,
    as_of: TimeLike | None = None,
    good: str = "good",
    unit: str = "units",
    fast_burn_days: int = 7,
    scope: Mapping[str, Any] | None = None,
) -> Finding:
    """Consumption, burn rate and exhaustion date of one SLO's error budget.

    Args:
        units: One row per eligible unit: a timezone-aware ``timestamp`` and a
            boolean ``good`` (True = the unit met the objective). Rows outside the
            period or without a flag are left out and counted.
        slo: Objective, percent of units that must be good (e.g. 99.9).
        period_start: First instant of the period (naive values are read as UTC).
        period_end: End of the period, exclusive.
        metric: Name of the SLO or SLI (e.g. ``"availability"``), for the statement and id.
        as_of: For a period still running, the moment the data run to; ``None``
            treats the period as closed (elapsed share 1).
        good: Column of the good/bad flag.
        unit: What one row is, plural (``"hours"``, ``"tickets"``), for the statement.
        fast_burn_days: Window of the recent ("fast burn") rate, in days.
        scope: Where the SLO applies (service, ...), copied to the finding.

    Returns:
        A Finding of kind ``"error_budget"`` whose ``effect`` is the burn rate (unit
        ``"x"``: 1 spends the budget exactly by the period end) with the 95 % interval
        from the Clopper-Pearson interval of the bad-unit rate and the p-value of the
        exact test of burn rate 1; ``evidence`` holds the budget, consumed, remaining,
        consumption and elapsed shares, exhaustion date (actual or projected), and
        the recent burn rate. Severity is high, medium, low or info as the module
        docstring says. No unit in the period, an SLO of 100 % or a period not yet
        started give a ``"no_finding"`` record that says why.

    Raises:
        TypeError: If ``units`` is not a DataFrame, a column or an option is of the wrong
            type (naive timestamps, text flags).
        ValueError: If a column is missing, a flag is a number other than 0 and 1, the
            period ends before it starts, or an option is out of range.

    Example:
        >>> hours = pd.date_range("2026-07-01", periods=24 * 25, freq="h", tz="UTC")
        >>> units = pd.DataFrame({"timestamp": hours, "good": np.arange(600) % 200 != 7})
        >>> f = error_budget(units, slo=99.0, period_start="2026-07-01",
        ...                  period_end="2026-08-01", as_of="2026-07-26", metric="latency",
        ...                  unit="hours")
        >>> round(f.effect, 6), f.severity, round(f.evidence["budget"], 6), f.evidence["consumed"]
        (0.5, 'low', 7.44, 3)
    """
    options = {"slo": slo, "fast_burn_days": fast_burn_days, "metric": metric, "unit": unit}
    _check_inputs(units, good, options)
    start, end, moment = _period(period_start, period_end, as_of)
    method = (
        f"error_budget(slo={slo:g}, as_of={_day(moment) or 'period end'}, "
        f"fast_burn_days={fast_burn_days}; ci=clopper_pearson, test=exact_binomial)"
    )
    asked = Question(ANALYSIS, metric, method, "x", checks.scope(scope))
    elapsed, until = elapsed_share(start, end, moment)
    counts: dict[str, Any] = {
        "slo": slo,
        "period_start": start,
        "period_end": end,
        "as_of": until,
        "closed": moment is None,
        "elapsed_share": elapsed,
        "units": unit,
    }
    if elapsed <= 0:
        return asked.no_finding(
            "not_started",
            f"{metric}: as_of {moment:%Y-%m-%d %H:%M} is at or before the period start "
            f"{start:%Y-%m-%d}: no time has elapsed",
            evidence=counts,
        )
    stamps = units["timestamp"]
    inside = in_period(stamps, start, until)
    flags = units.loc[inside, good]
    made = flags.dropna().astype(bool)
    counts.update(n_outside_period=int((~inside).sum()), n_missing_flag=int(flags.isna().sum()))
    unusable = _unusable(asked, made, counts, start=start, until=until)
    if unusable is not None:
        return unusable
    when = stamps[inside][flags.notna()]
    burn = _burn(made, when, counts, start=start, end=end, fast_burn_days=fast_burn_days)
    return _answer(asked, burn, counts, fast_burn_days=fast_burn_days)


def _unusable(
    asked: Question,
    made: pd.Series,
    counts: dict[str, Any],
    *,
    start: pd.Timestamp,
    until: pd.Timestamp,
) -> Finding | None:
    """The no-finding of no flagged unit in the period, or an SLO that allows none bad."""
    metric, unit, slo = asked.metric, counts["units"], counts["slo"]
    if made.empty:
        return asked.no_finding(
            "no_units",
            f"{metric}: no {unit} with a good/bad flag between {start:%Y-%m-%d} and "
            f"{until:%Y-%m-%d}",
            evidence=counts,
        )
    n, bad = len(made), int((~made).sum())
    spend = Spend(slo, n, float(bad), counts["elapsed_share"], unit, n, counts["n_missing_flag"])
    if spend.budget <= 0:
        return asked.no_finding(
            "no_budget",
            f"{metric}: an SLO of {slo:g} % allows no bad {unit}, so there is no error budget "
            f"({bad} of {n:,} {unit} were bad)",
            evidence={**counts, "eligible": n, "consumed": bad},
        )
    return None


def _burn(
    made: pd.Series,
    when: pd.Series,
    counts: dict[str, Any],
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    fast_burn_days: int,
) -> dict[str, Any]:
    """Budget, consumption, burn rate with its interval, exhaustion, and the recent burn.

    Returns the numbers for the evidence, the p-value of the test of burn rate 1, and
    when the budget runs out at the recent pace (``recent_out``, None if it does not).
    """
    slo, elapsed, until = counts["slo"], counts["elapsed_share"], counts["as_of"]
    n, bad = len(made), int((~made).sum())
    spend = Spend(slo, n, float(bad), elapsed, counts["units"], n, counts["n_missing_flag"])
    allowed = 1 - slo / 100
    share, burn = spend.spent, spend.spent / elapsed
    rate_low, rate_high, p_value = _binomial(bad, n, allowed)
    exhausted_at = _exhausted_at(when, ~made, spend.budget) if bad >= spend.budget else None
    projected = start + (end - start) / burn if exhausted_at is None and burn > 1 else None
    window_start = max(start, until - pd.Timedelta(days=fast_burn_days))
    recent = (when >= window_start).to_numpy()
    n_recent, bad_recent = int(recent.sum()), int((~made.to_numpy())[recent].sum())
    recent_burn = bad_recent / n_recent / allowed if n_recent else None
    recent_low = recent_high = recent_out = None
    if n_recent:
        recent_low, recent_high, _ = _binomial(bad_recent, n_recent, allowed)
        days = (until - window_start) / pd.Timedelta(days=1)
        left = spend.budget - bad
        if left > 0 and bad_recent:
            recent_out = until + pd.Timedelta(days=left / (bad_recent / days))
    outlook = "not before period end"
    if exhausted_at is not None:
        outlook = "exhausted"
    elif projected is not None:
        outlook = "before period end"
    evidence = {
        "allowed_bad_share": allowed,
        "eligible": n,
        "consumed": bad,
        "budget": spend.budget,
        "remaining": spend.budget - bad,
        "remaining_pct": 100 * (1 - share),
        "consumption_pct": 100 * share,
        "elapsed_pct": 100 * elapsed,
        "burn_rate": burn,
        "bad_rate": bad / n,
        "bad_rate_ci_low": rate_low,
        "bad_rate_ci_high": rate_high,
        "exhausted": exhausted_at is not None,
        "exhausted_at": exhausted_at,
        "projected_exhaustion": projected,
        "exhaustion_outlook": outlook,
        "fast_burn_days": fast_burn_days,
        "fast_burn_window_start": window_start,
        "fast_burn_units": n_recent,
        "fast_burn_consumed": bad_recent,
        "fast_burn_rate": recent_burn,
        "fast_burn_rate_ci_low": None if recent_low is None else recent_low / allowed,
        "fast_burn_rate_ci_high": None if recent_high is None else recent_high / allowed,
        "exhaustion_at_fast_burn": recent_out if recent_out is None or recent_out < end else None,
    }
    return {"evidence": evidence, "p_value": p_value, "recent_out": recent_out}


def _answer(
    asked: Question, burn: dict[str, Any], counts: dict[str, Any], *, fast_burn_days: int
) -> Finding:
    """The finding: what is spent, how fast, when it runs out, and how urgent that is."""
    p_value, recent_out = burn["p_value"], burn["recent_out"]
    evidence = {**counts, **burn["evidence"]}
    burn = burn["evidence"]
    unit, end, slo = counts["units"], counts["period_end"], counts["slo"]
    allowed, rate = burn["allowed_bad_share"], burn["burn_rate"]
    low, high = burn["bad_rate_ci_low"] / allowed, burn["bad_rate_ci_high"] / allowed
    exhausted_at, projected = burn["exhausted_at"], burn["projected_exhaustion"]
    recent_burn = burn["fast_burn_rate"]

    def x(value: float) -> str:
        return f"{format_number(value)}x"

    rate_text = f"burn rate {x(rate)} (95 % CI {x(low)} to {x(high)}; {format_p(p_value)})"
    spent = (
        f"{burn['consumed']:,} bad {unit} of a budget of {format_number(burn['budget'])} "
        f"({burn['consumption_pct']:.0f} % consumed, {burn['elapsed_pct']:.0f} % of the period "
        "elapsed)"
    )
    if exhausted_at is not None:
        outlook, severity = f"budget used up on {exhausted_at:%Y-%m-%d}", "high"
    elif projected is not None:
        outlook = (
            f"at this rate the budget runs out on {projected:%Y-%m-%d}, before the period "
            f"ends on {end:%Y-%m-%d}"
        )
        severity = "high"
    else:
        outlook = f"at this rate the budget lasts to the period end ({end:%Y-%m-%d})"
        fast = recent_burn is not None and recent_burn > 1
        severity = "medium" if fast else ("low" if high > 1 else "info")
    if recent_burn is None:
        recent_text = f"no {unit} in the last {fast_burn_days} days"
    else:
        fast = "fast burn: " if recent_burn > 1 and recent_burn > rate else ""
        recent_text = f"{fast}last {fast_burn_days} days {x(recent_burn)}"
        if fast and recent_out is not None and recent_out < end and exhausted_at is None:
            recent_text += f", at which pace it runs out on {recent_out:%Y-%m-%d}"
    state = "exhausted" if exhausted_at is not None else "at risk" if severity == "high" else ""
    head = f"{asked.metric} error budget (SLO {slo:g} %){' ' + state if state else ''}"
    return asked.finding(
        f"{head}: {spent}, {rate_text}; {outlook}; {recent_text}",
        severity=severity,
        effect=rate,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        evidence=evidence,
    )
