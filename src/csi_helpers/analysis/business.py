"""Money at stake: downtime, SLA breaches and agent time priced with the params' business figures.

Each ``price_*`` function takes a quantity and the params' ``business`` section
(:class:`~csi_helpers.params.Business`) and returns an :class:`Impact`: the amount,
its currency, and a formula a manager can check ("283.4 min of downtime × €230.47/min
on average at the hours they fell in = €65,315"). It returns None when the section
gives no figure to price that quantity with.

- Downtime is priced minute by minute: each minute of the merged outages (as the
  downtime KPIs count them, :func:`csi_helpers.kpis.availability.merged_outages`) at
  the revenue of the weekday and hour it fell in, in the service's time zone
  (:func:`downtime_by_hour`, :func:`price_downtime`). Every sale of those minutes
  counts as lost, none as deferred: an upper bound. ``downtime_cost_per_minute``, when
  given, replaces the revenue.
- SLA breaches: each breach × the penalty per breach (:func:`price_sla_breaches`).
- Agent hours × the cost of an agent hour (:func:`price_agent_hours`). No KPI is
  priced this way yet: tickets record elapsed time, not the effort spent on them.

Step 5 applies these to each red KPI of the scorecard whose library KPI has a money
model (:data:`MONEY_MODELS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks
from csi_helpers.kpis.availability import merged_outages
from csi_helpers.kpis.clock import TWENTY_FOUR_SEVEN, ServiceCalendar
from csi_helpers.params.business import WEEKDAYS, Business
from csi_helpers.report import formatting

__all__ = [
    "IMPACT_COLUMNS",
    "MONEY_MODELS",
    "Impact",
    "downtime_by_hour",
    "format_money",
    "impact_frame",
    "minute_rates",
    "price_agent_hours",
    "price_downtime",
    "price_sla_breaches",
    "sla_breaches",
]

#: Library KPI → the quantity its money at stake is priced on.
MONEY_MODELS = {
    "availability": "downtime",
    "downtime_minutes": "downtime",
    "sla_compliance": "sla_breaches",
}

#: The columns of step 5's impact table, one row per priced red KPI entry.
IMPACT_COLUMNS = [
    "kpi_id", "kpi_name", "basis", "quantity", "unit", "amount", "currency", "formula",
    "assumption",
]  # fmt: skip

_LOST_SALES = (
    "every sale the service would have taken in those minutes counts as lost, none as "
    "deferred to later, so this is an upper bound"
)


@dataclass(frozen=True)
class Impact:
    """An amount of money at stake and how it was reached."""

    basis: str  # what the money is: "lost revenue", "downtime cost", "SLA penalties", ...
    quantity: float  # what was priced, in ``unit``
    unit: str  # "min of downtime", "breaches", "agent hours"
    amount: float
    currency: str
    formula: str  # quantity × rate = amount, in words
    assumption: str  # what the formula takes for granted


def format_money(amount: float, currency: str) -> str:
    """An amount as a report shows it (:func:`csi_helpers.report.formatting.money`).

    Example:
        >>> [format_money(a, "EUR") for a in (65315.2, 230.467, 250, 0.5)]
        ['€65,315', '€230.47', '€250', '€0.50']
    """
    return formatting.money(amount, currency)


def downtime_by_hour(
    outages: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str = "UTC",
    calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
) -> pd.DataFrame:
    """Minutes of downtime in each weekday and hour of the service's time zone.

    The outages are merged and clipped to [start, end) as the downtime KPIs do; only
    agreed service time (``calendar``) counts, so the minutes add up to the
    ``downtime_minutes`` KPI of the same period and calendar.

    Returns:
        Columns ``weekday`` (Monday = 0), ``hour`` (0–23) and ``minutes``, one row per
        weekday and hour with downtime.

    Example:
        Friday 2 January 2026, 19:30 to 20:45 UTC (two overlapping records), is 20:30
        to 21:45 in Amsterdam:

        >>> d = pd.DataFrame({
        ...     "start": pd.to_datetime(["2026-01-02 19:30", "2026-01-02 20:00"], utc=True),
        ...     "end": pd.to_datetime(["2026-01-02 20:15", "2026-01-02 20:45"], utc=True)})
        >>> downtime_by_hour(d, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                  end=pd.Timestamp("2026-02-01", tz="UTC"),
        ...                  timezone="Europe/Amsterdam").values.tolist()
        [[4.0, 20.0, 30.0], [4.0, 21.0, 45.0]]
    """
    checks.frame(outages, function="downtime_by_hour", what="a table of outages")
    checks.columns(outages, [("outage start", "start"), ("outage end", "end")], table="outages")
    merged, _ = merged_outages(outages)
    merged = merged[(merged["start"] < end) & (merged["end"] > start)]
    pieces = _quarter_hours(merged["start"].clip(lower=start), merged["end"].clip(upper=end))
    minutes = 60.0 * calendar.elapsed_hours(pieces["start"], pieces["end"]).fillna(0.0)
    local = pieces["start"].dt.tz_convert(timezone)
    when = {"weekday": local.dt.day_of_week, "hour": local.dt.hour}
    frame = pd.DataFrame(when | {"minutes": minutes})
    frame = frame[frame["minutes"] > 0]
    return frame.groupby(["weekday", "hour"], as_index=False)["minutes"].sum()


def _quarter_hours(starts: pd.Series, ends: pd.Series) -> pd.DataFrame:
    """The intervals cut at every quarter hour (UTC): each piece lies in one local hour,
    as every time zone's offset is a whole number of quarter hours."""
    first, last = [], []
    for s, e in zip(starts, ends, strict=True):
        cuts = pd.date_range(s.ceil("15min"), e, freq="15min", inclusive="left")
        edges = [s, *(c for c in cuts if c > s), e]
        first += edges[:-1]
        last += edges[1:]
    as_utc = pd.DatetimeTZDtype("us", "UTC")
    return pd.DataFrame(
        {"start": pd.Series(first, dtype=as_utc), "end": pd.Series(last, dtype=as_utc)}
    )


def minute_rates(business: Business) -> tuple[np.ndarray, str] | None:
    """What a minute of downtime costs in each weekday and hour (7 × 24, Monday first),
    and where that comes from in words; None when the section prices no downtime.

    Example:
        >>> b = Business(currency="EUR", orders_per_hour=120, average_order_value=45)
        >>> rates, source = minute_rates(b)
        >>> (rates.shape, float(rates[4, 20]), source)
        ((7, 24), 90.0, '120 orders per hour × €45 average order ÷ 60')
    """
    money = business.currency
    if business.downtime_cost_per_minute is not None:
        return np.full((7, 24), business.downtime_cost_per_minute), "downtime cost per minute"
    source = business.revenue_source
    if source is None:
        return None
    value = getattr(business, source)
    hourly = np.array([value[d] for d in WEEKDAYS]) if isinstance(value, dict) else value
    hourly = np.broadcast_to(np.asarray(hourly, dtype=float), (7, 24))
    if source == "revenue_per_hour":
        return hourly / 60, f"{format_money(value, money)} revenue per hour ÷ 60"
    if source == "revenue_profile":
        return hourly / 60, "revenue by weekday and hour ÷ 60"
    aov = business.average_order_value or 0.0
    order = f"{format_money(aov, money)} average order ÷ 60"
    if source == "orders_per_hour":
        return hourly * aov / 60, f"{value:,g} orders per hour × {order}"
    return hourly * aov / 60, f"orders by weekday and hour × {order}"


def price_downtime(minutes: pd.DataFrame, business: Business) -> Impact | None:
    """Each minute of downtime at what a minute costs in its weekday and hour.

    Args:
        minutes: ``weekday`` (Monday = 0), ``hour`` and ``minutes``, as
            :func:`downtime_by_hour` gives them.
        business: the params' business figures.

    Example:
        30 min on Friday at 19:00 (€6,000 an hour, €100/min), 45 min at 20:00 (€12,000,
        €200/min), 10 min on Saturday at 03:00 (€600, €10/min): €3,000 + €9,000 + €100.

        >>> profile = {d: [600.0] * 24 for d in WEEKDAYS}
        >>> profile["fri"] = [600.0] * 19 + [6000.0, 12000.0] + [600.0] * 3
        >>> b = Business(currency="EUR", revenue_profile=profile)
        >>> m = pd.DataFrame({"weekday": [4, 4, 5], "hour": [19, 20, 3],
        ...                   "minutes": [30.0, 45.0, 10.0]})
        >>> price_downtime(m, b).formula
        '85.0 min of downtime × €142.35/min on average at the hours they fell in = €12,100'
    """
    checks.frame(minutes, function="price_downtime", what="minutes by weekday and hour")
    checks.columns(minutes, [("weekday", "weekday"), ("hour", "hour"), ("minutes", "minutes")])
    rated = minute_rates(business)
    if rated is None:
        return None
    rates, source = rated
    total_minutes = float(minutes["minutes"].sum())
    amount = float((rates[minutes["weekday"], minutes["hour"]] * minutes["minutes"]).sum())
    money = business.currency
    rate = amount / total_minutes if total_minutes else float(rates.mean())
    varies = bool(np.ptp(rates) > 0)
    how = " on average at the hours they fell in" if varies else ""
    formula = (
        f"{total_minutes:,.1f} min of downtime × {format_money(rate, money)}/min{how}"
        f"{'' if varies else f' ({source})'} = {format_money(amount, money)}"
    )
    lost = business.downtime_cost_per_minute is None
    assumption = (
        f"lost revenue: {_LOST_SALES}"
        if lost
        else "the downtime cost per minute of the params, the same at every hour"
    )
    basis = "lost revenue" if lost else "downtime cost"
    return Impact(basis, total_minutes, "min of downtime", amount, money, formula, assumption)


def price_sla_breaches(breaches: int, business: Business) -> Impact | None:
    """Each SLA breach × the penalty per breach; None without a penalty in the params.

    Example:
        >>> b = Business(currency="EUR", sla_penalty_per_breach=250)
        >>> price_sla_breaches(301, b).formula
        '301 breaches × €250 per breach = €75,250'
    """
    checks.integer("breaches", breaches, low=0)
    penalty = business.sla_penalty_per_breach
    if penalty is None:
        return None
    money = business.currency
    amount = breaches * penalty
    formula = (
        f"{breaches:,} breach{'' if breaches == 1 else 'es'} × {format_money(penalty, money)} "
        f"per breach = {format_money(amount, money)}"
    )
    assumption = "the penalty per breach of the params, for every ticket that breached its SLA"
    return Impact("SLA penalties", breaches, "breaches", amount, money, formula, assumption)


def price_agent_hours(hours: float, business: Business) -> Impact | None:
    """Agent hours × the cost of an agent hour; None without that cost in the params.

    Example:
        >>> b = Business(currency="EUR", agent_hour_cost=55)
        >>> price_agent_hours(120.5, b).formula
        '120.5 agent hours × €55 per hour = €6,628'
    """
    checks.number("hours", hours, meaning="hours of 0 or more", valid=lambda h: h >= 0)
    cost = business.agent_hour_cost
    if cost is None:
        return None
    money = business.currency
    amount = float(hours) * cost
    formula = (
        f"{hours:,.1f} agent hours × {format_money(cost, money)} per hour = "
        f"{format_money(amount, money)}"
    )
    assumption = "the cost of an agent hour of the params, for every hour counted"
    return Impact("agent time", float(hours), "agent hours", amount, money, formula, assumption)


def sla_breaches(details: Mapping[str, object], n: int) -> int:
    """The breaches behind an ``sla_compliance`` value: its ``breached`` detail (targets),
    else the tickets counted less those that met the SLA (the export's flag).

    Example:
        >>> sla_breaches({"met": 1056}, 1357), sla_breaches({"breached": 50, "met": 145}, 195)
        (301, 50)
    """
    if "breached" in details:
        return int(details["breached"])  # type: ignore[call-overload]
    if "met" not in details:
        raise ValueError(f"an sla_compliance result has 'met' or 'breached' details; got {details}")
    return int(n) - int(details["met"])  # type: ignore[call-overload]


def impact_frame(impacts: Mapping[tuple[str, str], Impact]) -> pd.DataFrame:
    """Step 5's impact table: one row per (KPI id, KPI name), largest amount first.

    Example:
        >>> b = Business(currency="EUR", sla_penalty_per_breach=100)
        >>> t = impact_frame({("sla", "SLA"): price_sla_breaches(3, b),
        ...                   ("p1", "P1 SLA"): price_sla_breaches(5, b)})
        >>> t[["kpi_id", "amount"]].values.tolist()
        [['p1', 500.0], ['sla', 300.0]]
    """
    rows = [
        {"kpi_id": kpi_id, "kpi_name": name} | asdict(impact)
        for (kpi_id, name), impact in impacts.items()
    ]
    frame = pd.DataFrame(rows, columns=IMPACT_COLUMNS)
    frame = frame.astype({"quantity": float, "amount": float})
    return frame.sort_values("amount", ascending=False, kind="stable", ignore_index=True)
