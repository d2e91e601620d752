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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal

import pandas as pd

from csi_helpers.errors import ParamsError
from csi_helpers.kpis.base import KpiDefinition, KpiResult, define, empty, in_period, named_after
from csi_helpers.kpis.performance import failed_requests

#: The monitoring column each SLI of an error-budget KPI counts (its ``sli`` option).
SLI_COLUMN = {
    "availability": "up",
    "latency": "latency_ms",
    "latency_p95": "latency_p95_ms",
    "errors": "error_rate",
}


@dataclass(frozen=True)
class Spend:
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

    @property
    def remaining_pct(self) -> float:
        """Share of the budget left (%), negative once it is blown."""
        return 100.0 * (1 - self.spent)

    @property
    def burn_rate(self) -> float:
        """Share of the budget spent per elapsed share of the period (1 = exactly by the end)."""
        return self.spent / self.elapsed

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
            "remaining_pct": round(self.remaining_pct, 6),
            "burn_rate": round(self.burn_rate, 6),
        }
        return KpiResult(
            value=value, n=self.n, excluded=self.excluded, note="; ".join(notes), details=details
        )


def _check_objective(name: str, value: float) -> None:
    if not 0 <= value <= 100:
        raise ParamsError(f"KPI option {name} is a percentage: expected 0 to 100, got {value:g}")


def elapsed_share(
    start: pd.Timestamp, end: pd.Timestamp, as_of: datetime | None
) -> tuple[float, pd.Timestamp]:
    """Elapsed share of [start, end) at ``as_of`` (1 when None) and the moment it runs to."""
    if as_of is None:
        return 1.0, end
    moment = pd.Timestamp(as_of)
    moment = moment.tz_localize("UTC") if moment.tz is None else moment.tz_convert("UTC")
    moment = min(max(moment, start), end)
    return (moment - start) / (end - start), moment


def _budget_kpi(
    spend_until: Callable[[pd.Timestamp, float], Spend | KpiResult],
    measure: Callable[[Spend], float],
    *,
    objective: tuple[str, float],
    start: pd.Timestamp,
    end: pd.Timestamp,
    as_of: datetime | None,
) -> KpiResult:
    """``measure`` of what was spent up to ``as_of`` (details: the spend), or why there is none.

    ``objective`` is the option's name and value, checked first; ``spend_until(until,
    share)`` counts the units before ``until``, ``share`` being the elapsed share.
    """
    _check_objective(*objective)
    share, until = elapsed_share(start, end, as_of)
    if share <= 0:
        return empty("as_of is at or before the period start: no time has elapsed")
    spend = spend_until(until, share)
    if isinstance(spend, KpiResult):
        return spend
    if spend.budget <= 0:
        note = f"an objective of {spend.objective:g} % leaves no error budget"
        return KpiResult(value=None, n=spend.n, excluded=spend.excluded, note=note)
    return spend.result(measure(spend))


def _sli_spend(
    monitoring: pd.DataFrame,
    start: pd.Timestamp,
    until: pd.Timestamp,
    share: float,
    *,
    slo: float,
    sli: str,
    latency_threshold_ms: float,
) -> Spend | KpiResult:
    """Bad units of the SLI among the samples in [start, until)."""
    column = SLI_COLUMN[sli]
    scoped = monitoring[in_period(monitoring["timestamp"], start, until)]
    values = scoped[column]
    missing = int(values.isna().sum())
    if values.notna().sum() == 0:
        return empty(f"no {column} sample in the period", excluded=missing)
    note = f"{missing} sample(s) without {column} are left out" if missing else ""
    if sli == "availability":
        up = values.dropna().astype(bool)
        return Spend(slo, len(up), float((~up).sum()), share, "samples", len(up), missing, note)
    if sli != "errors":
        latency = values.dropna().astype(float)
        bad = float((latency > latency_threshold_ms).sum())
        return Spend(slo, len(latency), bad, share, "samples", len(latency), missing, note)
    weighted = failed_requests(scoped)
    if weighted is None:
        rate = values.astype("Float64").dropna()
        note = "; ".join(filter(None, [note, "no request counts: budget on samples"]))
        return Spend(slo, len(rate), float(rate.sum()), share, "samples", len(rate), missing, note)
    left_out = weighted.left_out
    note = f"{left_out} sample(s) without error_rate or requests are left out" if left_out else ""
    return Spend(
        slo, weighted.requests, weighted.failed, share, "requests", weighted.samples, left_out, note
    )


def _on_sli_spend(measure: Callable[[Spend], float]) -> Callable[..., KpiResult]:
    """A monitoring error-budget KPI: the decorated measure of the spend, with its name and doc.

    The KPI takes the canonical monitoring table, the period [start, end) and the
    options ``slo``, ``sli``, ``latency_threshold_ms`` and ``as_of``.
    """

    def kpi(
        monitoring: pd.DataFrame,
        *,
        start: pd.Timestamp,
        end: pd.Timestamp,
        slo: float = 99.9,
        sli: Literal["availability", "latency", "latency_p95", "errors"] = "availability",
        latency_threshold_ms: float = 300.0,
        as_of: datetime | None = None,
    ) -> KpiResult:
        spend_until = partial(
            _sli_spend,
            monitoring,
            start,
            slo=slo,
            sli=sli,
            latency_threshold_ms=latency_threshold_ms,
        )
        return _budget_kpi(
            spend_until, measure, objective=("slo", slo), start=start, end=end, as_of=as_of
        )

    return named_after(kpi, measure)


@_on_sli_spend
def error_budget_remaining(spend: Spend) -> float:
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
    return spend.remaining_pct


@_on_sli_spend
def error_budget_burn_rate(spend: Spend) -> float:
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
    return spend.burn_rate


def _sla_spend(
    tickets: pd.DataFrame, start: pd.Timestamp, until: pd.Timestamp, share: float, *, target: float
) -> Spend | KpiResult:
    """Tickets opened in [start, until) that missed their SLA."""
    flags = tickets.loc[in_period(tickets["opened_at"], start, until), "made_sla"]
    missing = int(flags.isna().sum())
    made = flags.dropna().astype(bool)
    if made.empty:
        return empty("no ticket with an SLA flag was opened in the period", excluded=missing)
    note = f"{missing} ticket(s) without an SLA flag are left out" if missing else ""
    return Spend(
        target, len(made), float((~made).sum()), share, "tickets", len(made), missing, note
    )


def _on_sla_spend(measure: Callable[[Spend], float]) -> Callable[..., KpiResult]:
    """An SLA error-budget KPI: the decorated measure of the spend, with its name and doc.

    The KPI takes the canonical tickets table, the period [start, end) and the
    options ``target`` and ``as_of``.
    """

    def kpi(
        tickets: pd.DataFrame,
        *,
        start: pd.Timestamp,
        end: pd.Timestamp,
        target: float = 95.0,
        as_of: datetime | None = None,
    ) -> KpiResult:
        spend_until = partial(_sla_spend, tickets, start, target=target)
        return _budget_kpi(
            spend_until, measure, objective=("target", target), start=start, end=end, as_of=as_of
        )

    return named_after(kpi, measure)


@_on_sla_spend
def sla_error_budget_remaining(spend: Spend) -> float:
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
    return spend.remaining_pct


@_on_sla_spend
def sla_burn_rate(spend: Spend) -> float:
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
    return spend.burn_rate


_SLI_FIELDS = {sli: (column,) for sli, column in SLI_COLUMN.items()}

_SLA = ("opened_at", "made_sla")
_SLI = ("timestamp",)
_BY_SLI = {"sli": _SLI_FIELDS}

DEFINITIONS: tuple[KpiDefinition, ...] = (
    define(
        "monitoring", error_budget_remaining, "Error budget remaining", "%", _SLI, "higher", _BY_SLI
    ),
    define(
        "monitoring", error_budget_burn_rate, "Error budget burn rate", "×", _SLI, "lower", _BY_SLI
    ),
    define(
        "tickets", sla_error_budget_remaining, "SLA error budget remaining", "%", _SLA, "higher"
    ),
    define("tickets", sla_burn_rate, "SLA error budget burn rate", "×", _SLA, "lower"),
)
