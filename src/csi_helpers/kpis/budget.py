"""Error budgets: how much of the failure an objective allows has been spent.

An objective (an SLO on monitoring samples, or an SLA target on tickets) allows a
share ``1 − objective/100`` of the period's units to be bad; that allowance is the
**budget**, the bad units are what is **consumed**.

- **Units.** The availability and latency SLIs count monitoring *samples* (each
  sample is one good or bad slice of time). The errors SLI counts *requests*:
  failed requests = Σ error_rate × requests, budget on Σ requests; when the source
  has no request counts it falls back to samples, each spending its error rate.
  The SLA budget counts *tickets* opened in the period with an SLA flag.
- **Remaining** = 100 × (1 − consumed / budget) %. It goes negative once the
  budget is blown: −50 means half a budget again has been spent.
- **Burn rate** = (consumed / budget) / elapsed share of the period: 1 spends the
  budget exactly by the period end, 2 twice as fast. A closed period (the
  default) has elapsed share 1. With option ``as_of`` (a period still running),
  only units before ``as_of`` count, the elapsed share is
  (as_of − start) / (end − start), and the whole period's budget is extrapolated
  from the units so far (units / elapsed share).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pandas as pd

from csi_helpers.errors import ParamsError
from csi_helpers.kpis.base import KpiDefinition, KpiResult, empty, in_period

_SLI_COLUMN = {
    "availability": "up",
    "latency": "latency_ms",
    "latency_p95": "latency_p95_ms",
    "errors": "error_rate",
}


@dataclass(frozen=True)
class _Spend:
    """Bad units against the budget an objective allows, over the elapsed part of a period."""

    objective: float  # percent of units that must be good
    eligible: float  # units observed so far
    consumed: float  # bad units observed so far
    elapsed: float  # elapsed share of the period, in (0, 1]
    unit: str
    n: int
    excluded: int = 0
    note: str = ""

    @property
    def budget(self) -> float:
        return (100 - self.objective) / 100 * self.eligible / self.elapsed

    @property
    def spent(self) -> float:
        return self.consumed / self.budget

    def result(self, value: float) -> KpiResult:
        notes = [self.note] if self.note else []
        if self.consumed > self.budget:
            notes.append(
                f"budget blown: {self.consumed:g} bad {self.unit} against a budget of "
                f"{self.budget:g}, so the remaining budget is negative"
            )
        details = {
            "budget": round(self.budget, 6),
            "consumed": round(self.consumed, 6),
            "units": self.unit,
            "eligible": round(self.eligible, 6),
            "objective_pct": self.objective,
            "elapsed_share": round(self.elapsed, 6),
            "remaining_pct": round(100.0 * (1 - self.spent), 6),
            "burn_rate": round(self.spent / self.elapsed, 6),
        }
        return KpiResult(
            value=value, n=self.n, excluded=self.excluded, note="; ".join(notes), details=details
        )


def _check_objective(name: str, value: float) -> None:
    if not 0 <= value <= 100:
        raise ParamsError(f"KPI option {name} is a percentage: expected 0 to 100, got {value:g}")


def _elapsed(
    start: pd.Timestamp, end: pd.Timestamp, as_of: datetime | None
) -> tuple[float, pd.Timestamp]:
    """Elapsed share of [start, end) at ``as_of`` (1 when None) and the moment it runs to."""
    if as_of is None:
        return 1.0, end
    moment = pd.Timestamp(as_of)
    moment = moment.tz_localize("UTC") if moment.tz is None else moment.tz_convert("UTC")
    moment = min(max(moment, start), end)
    return (moment - start) / (end - start), moment


def _report(spend: _Spend | KpiResult, measure: Literal["remaining", "burn"]) -> KpiResult:
    """The remaining budget (%) or the burn rate, or why there is none."""
    if isinstance(spend, KpiResult):
        return spend
    if spend.budget <= 0:
        note = f"an objective of {spend.objective:g} % leaves no error budget"
        return KpiResult(value=None, n=spend.n, excluded=spend.excluded, note=note)
    if measure == "remaining":
        return spend.result(100.0 * (1 - spend.spent))
    return spend.result(spend.spent / spend.elapsed)


def _sli_spend(
    monitoring: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    slo: float,
    sli: str,
    latency_threshold_ms: float,
    as_of: datetime | None,
) -> _Spend | KpiResult:
    _check_objective("slo", slo)
    share, until = _elapsed(start, end, as_of)
    if share <= 0:
        return empty("as_of is at or before the period start: no time has elapsed")
    column = _SLI_COLUMN[sli]
    scoped = monitoring[in_period(monitoring["timestamp"], start, until)]
    values = scoped[column]
    missing = int(values.isna().sum())
    if values.notna().sum() == 0:
        return KpiResult(
            value=None, n=0, excluded=missing, note=f"no {column} sample in the period"
        )
    note = f"{missing} sample(s) without {column} are left out" if missing else ""
    if sli == "availability":
        up = values.dropna().astype(bool)
        return _Spend(slo, len(up), float((~up).sum()), share, "samples", len(up), missing, note)
    if sli != "errors":
        latency = values.dropna().astype(float)
        bad = float((latency > latency_threshold_ms).sum())
        return _Spend(slo, len(latency), bad, share, "samples", len(latency), missing, note)
    rate = values.astype("Float64")
    requests = scoped.get("requests", pd.Series(pd.NA, index=scoped.index)).astype("Float64")
    both = rate.notna() & requests.notna()
    if not both.any() or float(requests[both].sum()) <= 0:
        rate = rate.dropna()
        note = "; ".join(filter(None, [note, "no request counts: budget on samples"]))
        return _Spend(slo, len(rate), float(rate.sum()), share, "samples", len(rate), missing, note)
    left_out = int((~both).sum())
    note = f"{left_out} sample(s) without error_rate or requests are left out" if left_out else ""
    failed = float((rate[both] * requests[both]).sum())
    return _Spend(
        slo, float(requests[both].sum()), failed, share, "requests", int(both.sum()), left_out, note
    )


def error_budget_remaining(
    monitoring: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    slo: float = 99.9,
    sli: Literal["availability", "latency", "latency_p95", "errors"] = "availability",
    latency_threshold_ms: float = 300.0,
    as_of: datetime | None = None,
) -> KpiResult:
    """Share of the period's error budget left for a monitoring SLI against its SLO (%).

    Options: ``slo`` (percent of good units, default 99.9); ``sli`` (default
    "availability": sample with ``up`` false is bad; "latency" / "latency_p95":
    sample with ``latency_ms`` / ``latency_p95_ms`` above ``latency_threshold_ms``,
    default 300.0, is bad; "errors": failed requests); ``as_of`` (default None: the
    period is closed). Samples without the SLI's column are excluded and counted.

    Formula: 100 × (1 − consumed / budget), budget = (1 − slo/100) × eligible units;
    negative once the budget is blown.

    Example:
        >>> m = pd.DataFrame({
        ...     "timestamp": pd.date_range("2026-01-01", periods=1000, freq="min", tz="UTC"),
        ...     "up": [False] * 5 + [True] * 995})
        >>> r = error_budget_remaining(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                            end=pd.Timestamp("2026-01-02", tz="UTC"), slo=99.0)
        >>> (r.value, r.details["budget"], r.details["consumed"])
        (50.0, 10.0, 5.0)
    """
    spend = _sli_spend(
        monitoring,
        start,
        end,
        slo=slo,
        sli=sli,
        latency_threshold_ms=latency_threshold_ms,
        as_of=as_of,
    )
    return _report(spend, "remaining")


def error_budget_burn_rate(
    monitoring: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    slo: float = 99.9,
    sli: Literal["availability", "latency", "latency_p95", "errors"] = "availability",
    latency_threshold_ms: float = 300.0,
    as_of: datetime | None = None,
) -> KpiResult:
    """How fast a monitoring SLI spends its error budget (1 = exactly by the period end).

    Options as for ``error_budget_remaining``: ``slo`` (default 99.9), ``sli``
    (default "availability"), ``latency_threshold_ms`` (default 300.0), ``as_of``
    (default None: a closed period, elapsed share 1).

    Formula: (consumed / budget) / elapsed share of the period.

    Example:
        >>> m = pd.DataFrame({
        ...     "timestamp": pd.date_range("2026-01-01", periods=1000, freq="min", tz="UTC"),
        ...     "up": [False] * 5 + [True] * 995})
        >>> error_budget_burn_rate(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                        end=pd.Timestamp("2026-01-02", tz="UTC"), slo=99.0).value
        0.5
    """
    spend = _sli_spend(
        monitoring,
        start,
        end,
        slo=slo,
        sli=sli,
        latency_threshold_ms=latency_threshold_ms,
        as_of=as_of,
    )
    return _report(spend, "burn")


def _sla_spend(
    tickets: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    target: float,
    as_of: datetime | None,
) -> _Spend | KpiResult:
    _check_objective("target", target)
    share, until = _elapsed(start, end, as_of)
    if share <= 0:
        return empty("as_of is at or before the period start: no time has elapsed")
    flags = tickets.loc[in_period(tickets["opened_at"], start, until), "made_sla"]
    missing = int(flags.isna().sum())
    made = flags.dropna().astype(bool)
    if made.empty:
        return KpiResult(
            value=None,
            n=0,
            excluded=missing,
            note="no ticket with an SLA flag was opened in the period",
        )
    note = f"{missing} ticket(s) without an SLA flag are left out" if missing else ""
    return _Spend(
        target, len(made), float((~made).sum()), share, "tickets", len(made), missing, note
    )


def sla_error_budget_remaining(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    target: float = 95.0,
    as_of: datetime | None = None,
) -> KpiResult:
    """Share of the SLA breach allowance left for tickets opened in the period (%).

    Options: ``target`` (percent of tickets within SLA, default 95.0); ``as_of``
    (default None: the period is closed). Tickets without an SLA flag are excluded
    and counted.

    Formula: 100 × (1 − breached / budget), budget = (1 − target/100) × tickets
    opened in the period with an SLA flag; negative once the budget is blown.

    Example:
        >>> t = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-01-05"] * 40, utc=True),
        ...     "made_sla": [False] + [True] * 39})
        >>> sla_error_budget_remaining(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                            end=pd.Timestamp("2026-02-01", tz="UTC")).value
        50.0
    """
    spend = _sla_spend(tickets, start, end, target=target, as_of=as_of)
    return _report(spend, "remaining")


def sla_burn_rate(
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    target: float = 95.0,
    as_of: datetime | None = None,
) -> KpiResult:
    """How fast SLA breaches spend the allowance the target gives (1 = exactly by period end).

    Options: ``target`` (default 95.0), ``as_of`` (default None: a closed period).

    Formula: (breached / budget) / elapsed share of the period.

    Example:
        >>> t = pd.DataFrame({
        ...     "opened_at": pd.to_datetime(["2026-01-05"] * 40, utc=True),
        ...     "made_sla": [False] * 4 + [True] * 36})
        >>> sla_burn_rate(t, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...               end=pd.Timestamp("2026-02-01", tz="UTC")).value
        2.0
    """
    spend = _sla_spend(tickets, start, end, target=target, as_of=as_of)
    return _report(spend, "burn")


_SLI_FIELDS = {sli: (column,) for sli, column in _SLI_COLUMN.items()}

DEFINITIONS: tuple[KpiDefinition, ...] = (
    KpiDefinition(
        "error_budget_remaining",
        "Error budget remaining",
        "%",
        "monitoring",
        ("timestamp",),
        "higher",
        error_budget_remaining,
        {"sli": _SLI_FIELDS},
    ),
    KpiDefinition(
        "error_budget_burn_rate",
        "Error budget burn rate",
        "×",
        "monitoring",
        ("timestamp",),
        "lower",
        error_budget_burn_rate,
        {"sli": _SLI_FIELDS},
    ),
    KpiDefinition(
        "sla_error_budget_remaining",
        "SLA error budget remaining",
        "%",
        "tickets",
        ("opened_at", "made_sla"),
        "higher",
        sla_error_budget_remaining,
    ),
    KpiDefinition(
        "sla_burn_rate",
        "SLA error budget burn rate",
        "×",
        "tickets",
        ("opened_at", "made_sla"),
        "lower",
        sla_burn_rate,
    ),
)
