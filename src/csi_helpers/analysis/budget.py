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

from csi_helpers.analysis.findings import Finding, finding_id, format_number, format_p, no_finding
from csi_helpers.errors import DataError
from csi_helpers.kpis.base import in_period
from csi_helpers.kpis.budget import Spend, elapsed_share

ANALYSIS = "error_budget"

TimeLike = pd.Timestamp | datetime | str


def _timestamp(name: str, value: object) -> pd.Timestamp:
    if isinstance(value, bool) or not isinstance(value, (pd.Timestamp, datetime, str)):
        raise DataError(f"{name} must be a timestamp or an ISO date string, got {value!r}")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} {value!r} is not a date; use e.g. '2026-07-01'") from exc
    if stamp is pd.NaT:
        raise DataError(f"{name} is missing (NaT)")
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _check_inputs(
    units: object,
    good: object,
    slo: object,
    fast_burn_days: object,
    metric: object,
    unit: object,
) -> None:
    if not isinstance(units, pd.DataFrame):
        raise DataError(f"error_budget expects a DataFrame, got {type(units).__name__}")
    for role, column in (("timestamp", "timestamp"), ("good flag", good)):
        if not isinstance(column, str) or column not in units.columns:
            raise DataError(
                f"column {column!r} (the {role} of error_budget) is not in the table; "
                f"columns are {list(units.columns)}"
            )
    if not isinstance(units["timestamp"].dtype, pd.DatetimeTZDtype):
        raise DataError(
            f"column 'timestamp' has dtype {units['timestamp'].dtype}; expected "
            "timezone-aware timestamps (pd.to_datetime(..., utc=True) or .dt.tz_localize('UTC'))"
        )
    flags = units[good].dropna()
    if not (
        pd.api.types.is_bool_dtype(flags.dtype) or flags.map(type).isin([bool, np.bool_]).all()
    ):
        values = pd.to_numeric(flags, errors="coerce")
        if values.isna().any() or not values.isin([0, 1]).all():
            shown = flags[~values.isin([0, 1])].head(3).tolist()
            raise DataError(
                f"column {good!r} must hold booleans (True = good unit) or 0/1, got {shown}"
            )
    if isinstance(slo, bool) or not isinstance(slo, (int, float)) or not 0 <= slo <= 100:
        raise DataError(f"slo is a percentage of good units: expected 0 to 100, got {slo!r}")
    if (
        isinstance(fast_burn_days, bool)
        or not isinstance(fast_burn_days, int)
        or fast_burn_days < 1
    ):
        raise DataError(f"fast_burn_days must be a positive integer, got {fast_burn_days!r}")
    if not isinstance(metric, str) or not metric.strip():
        raise DataError(f"metric must be a non-empty string (the SLO's name), got {metric!r}")
    if not isinstance(unit, str) or not unit.strip():
        raise DataError(f"unit must be a non-empty string (what one row is), got {unit!r}")


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
        DataError: If a column is missing or of the wrong type, or an option is out of range.

    Example:
        >>> hours = pd.date_range("2026-07-01", periods=24 * 25, freq="h", tz="UTC")
        >>> units = pd.DataFrame({"timestamp": hours, "good": np.arange(600) % 200 != 7})
        >>> f = error_budget(units, slo=99.0, period_start="2026-07-01",
        ...                  period_end="2026-08-01", as_of="2026-07-26", metric="latency",
        ...                  unit="hours")
        >>> round(f.effect, 6), f.severity, round(f.evidence["budget"], 6), f.evidence["consumed"]
        (0.5, 'low', 7.44, 3)
    """
    _check_inputs(units, good, slo, fast_burn_days, metric, unit)
    start, end = _timestamp("period_start", period_start), _timestamp("period_end", period_end)
    if end <= start:
        raise DataError(f"period_end {end} must come after period_start {start}")
    moment = None if as_of is None else _timestamp("as_of", as_of)
    scope = dict(scope or {})
    method = (
        f"error_budget(slo={slo:g}, as_of={_day(moment) or 'period end'}, "
        f"fast_burn_days={fast_burn_days}; ci=clopper_pearson, test=exact_binomial)"
    )

    def nothing(reason: str, detail: str, evidence: dict[str, Any]) -> Finding:
        return no_finding(
            analysis=ANALYSIS,
            metric=metric,
            reason=reason,
            detail=detail,
            method=method,
            unit="x",
            scope=scope,
            evidence=evidence,
        )

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
        return nothing(
            "not_started",
            f"{metric}: as_of {moment:%Y-%m-%d %H:%M} is at or before the period start "
            f"{start:%Y-%m-%d}: no time has elapsed",
            counts,
        )
    stamps = units["timestamp"]
    inside = in_period(stamps, start, until)
    flags = units.loc[inside, good]
    missing = int(flags.isna().sum())
    made = flags.dropna().astype(bool)
    when = stamps[inside][flags.notna()]
    counts.update(n_outside_period=int((~inside).sum()), n_missing_flag=missing)
    if made.empty:
        return nothing(
            "no_units",
            f"{metric}: no {unit} with a good/bad flag between {start:%Y-%m-%d} and "
            f"{until:%Y-%m-%d}",
            counts,
        )
    n, bad = len(made), int((~made).sum())
    spend = Spend(slo, n, float(bad), elapsed, unit, n, missing)
    if spend.budget <= 0:
        return nothing(
            "no_budget",
            f"{metric}: an SLO of {slo:g} % allows no bad {unit}, so there is no error budget "
            f"({bad} of {n:,} {unit} were bad)",
            {**counts, "eligible": n, "consumed": bad},
        )
    allowed = 1 - slo / 100
    share, burn = spend.spent, spend.spent / elapsed
    rate_low, rate_high, p_value = _binomial(bad, n, allowed)
    burn_low, burn_high = rate_low / allowed, rate_high / allowed

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
    outlook_code = "not before period end"
    if exhausted_at is not None:
        outlook_code = "exhausted"
    elif projected is not None:
        outlook_code = "before period end"
    evidence = {
        **counts,
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
        "exhaustion_outlook": outlook_code,
        "fast_burn_days": fast_burn_days,
        "fast_burn_window_start": window_start,
        "fast_burn_units": n_recent,
        "fast_burn_consumed": bad_recent,
        "fast_burn_rate": recent_burn,
        "fast_burn_rate_ci_low": None if recent_low is None else recent_low / allowed,
        "fast_burn_rate_ci_high": None if recent_high is None else recent_high / allowed,
        "exhaustion_at_fast_burn": recent_out if recent_out is None or recent_out < end else None,
    }

    def x(value: float) -> str:
        return f"{format_number(value)}x"

    rate = f"burn rate {x(burn)} (95 % CI {x(burn_low)} to {x(burn_high)}; {format_p(p_value)})"
    spent = (
        f"{bad:,} bad {unit} of a budget of {format_number(spend.budget)} "
        f"({100 * share:.0f} % consumed, {100 * elapsed:.0f} % of the period elapsed)"
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
        severity = (
            "medium"
            if recent_burn is not None and recent_burn > 1
            else ("low" if burn_high > 1 else "info")
        )
    if recent_burn is None:
        recent_text = f"no {unit} in the last {fast_burn_days} days"
    else:
        fast = "fast burn: " if recent_burn > 1 and recent_burn > burn else ""
        recent_text = f"{fast}last {fast_burn_days} days {x(recent_burn)}"
        if fast and recent_out is not None and recent_out < end and exhausted_at is None:
            recent_text += f", at which pace it runs out on {recent_out:%Y-%m-%d}"
    state = "exhausted" if exhausted_at is not None else "at risk" if severity == "high" else ""
    head = f"{metric} error budget (SLO {slo:g} %){' ' + state if state else ''}"
    return Finding(
        id=finding_id(ANALYSIS, metric, scope),
        kind=ANALYSIS,
        statement=f"{head}: {spent}, {rate}; {outlook}; {recent_text}",
        metric=metric,
        method=method,
        severity=severity,
        scope=scope,
        effect=burn,
        unit="x",
        ci_low=burn_low,
        ci_high=burn_high,
        p_value=p_value,
        evidence=evidence,
    )
