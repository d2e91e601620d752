"""The money model: outage minutes by weekday and hour, and each pricing against a hand sum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csi_helpers.analysis.business import (
    downtime_by_hour,
    format_money,
    impact_frame,
    minute_rates,
    price_agent_hours,
    price_downtime,
    price_sla_breaches,
    sla_breaches,
)
from csi_helpers.kpis.availability import downtime_minutes
from csi_helpers.kpis.clock import ServiceCalendar
from csi_helpers.params.business import WEEKDAYS, Business

UTC = "UTC"
JANUARY = {"start": pd.Timestamp("2026-01-01", tz=UTC), "end": pd.Timestamp("2026-02-01", tz=UTC)}


def outages(*spans: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": pd.to_datetime([s for s, _ in spans], utc=True),
            "end": pd.to_datetime([e for _, e in spans], utc=True),
        }
    )


def by_hour(frame: pd.DataFrame) -> dict[tuple[int, int], float]:
    return {(int(r.weekday), int(r.hour)): r.minutes for r in frame.itertuples()}


# Three rows of downtime: Friday 19:00 and 20:00, Saturday 03:00 (Monday = 0).
MINUTES = pd.DataFrame({"weekday": [4, 4, 5], "hour": [19, 20, 3], "minutes": [30.0, 45.0, 10.0]})


def week(default: float, **hours: dict[int, float]) -> dict[str, list[float]]:
    """A weekday × hour profile: ``default`` everywhere but the given day's hours."""
    profile = {d: [default] * 24 for d in WEEKDAYS}
    for day, changed in hours.items():
        for hour, value in changed.items():
            profile[day][hour] = value
    return profile


def test_overlapping_outages_count_once_in_their_hours():
    # 19:30-20:15 and 20:00-20:45 UTC merge into 19:30-20:45: 30 min at 19, 45 min at 20.
    frame = downtime_by_hour(
        outages(("2026-01-02 19:30", "2026-01-02 20:15"), ("2026-01-02 20:00", "2026-01-02 20:45")),
        **JANUARY,
    )
    assert by_hour(frame) == {(4, 19): 30.0, (4, 20): 45.0}


def test_hours_are_local_across_a_clock_change_and_a_quarter_hour_zone():
    # Amsterdam skips 02:00-03:00 on 29 March 2026 (01:00 UTC): 00:30-01:30 UTC is
    # 01:30-02:00 CET and 03:00-03:30 CEST, a Sunday.
    march = {"start": pd.Timestamp("2026-03-01", tz=UTC), "end": pd.Timestamp("2026-04-01", tz=UTC)}
    spring = outages(("2026-03-29 00:30", "2026-03-29 01:30"))
    frame = downtime_by_hour(spring, **march, timezone="Europe/Amsterdam")
    assert by_hour(frame) == {(6, 1): 30.0, (6, 3): 30.0}
    # Kathmandu is UTC+05:45: Monday 00:00-01:00 UTC is 05:45-06:45 there.
    monday = outages(("2026-01-05 00:00", "2026-01-05 01:00"))
    frame = downtime_by_hour(monday, **JANUARY, timezone="Asia/Kathmandu")
    assert by_hour(frame) == {(0, 5): 15.0, (0, 6): 45.0}


def test_only_service_time_inside_the_period_counts():
    # Business hours 08-18 UTC: Monday 07:30-08:30 costs 30 min, at 08:00.
    office = ServiceCalendar(kind="business_hours")
    frame = downtime_by_hour(
        outages(("2026-01-05 07:30", "2026-01-05 08:30")), **JANUARY, calendar=office
    )
    assert by_hour(frame) == {(0, 8): 30.0}
    # 31 December 23:40 to 1 January 00:20: the cycle keeps its 20 minutes of Thursday 00:00.
    frame = downtime_by_hour(outages(("2025-12-31 23:40", "2026-01-01 00:20")), **JANUARY)
    assert by_hour(frame) == {(3, 0): 20.0}
    assert downtime_by_hour(outages(), **JANUARY).empty


def test_the_minutes_add_up_to_the_downtime_kpi():
    rng = np.random.default_rng(3)
    starts = pd.Timestamp("2026-01-01", tz=UTC) + pd.to_timedelta(
        rng.uniform(-2, 31 * 24, 40), unit="h"
    )
    table = pd.DataFrame(
        {"start": starts, "end": starts + pd.to_timedelta(rng.uniform(1, 300, 40), unit="min")}
    )
    office = ServiceCalendar(kind="business_hours", timezone="Europe/Amsterdam")
    for calendar in (ServiceCalendar(), office):
        frame = downtime_by_hour(table, **JANUARY, timezone="Europe/Amsterdam", calendar=calendar)
        kpi = downtime_minutes(table, **JANUARY, calendar=calendar).value
        assert frame["minutes"].sum() == pytest.approx(kpi)


def test_each_minute_is_priced_at_the_revenue_of_its_weekday_and_hour():
    # €6,000/h = €100/min at Fri 19:00; €12,000/h = €200/min at Fri 20:00; €600/h = €10/min
    # elsewhere: 30 × 100 + 45 × 200 + 10 × 10 = €12,100 over 85 min (€142.35/min).
    business = Business(currency="EUR", revenue_profile=week(600, fri={19: 6000, 20: 12000}))
    impact = price_downtime(MINUTES, business)
    assert impact.amount == pytest.approx(12_100)
    assert impact.quantity == 85 and impact.currency == "EUR" and impact.basis == "lost revenue"
    assert impact.formula == (
        "85.0 min of downtime × €142.35/min on average at the hours they fell in = €12,100"
    )
    assert "upper bound" in impact.assumption


def test_orders_times_the_average_order_price_the_same_minutes():
    # 150 orders/h × €40 = €6,000/h at Fri 19:00, 300 × 40 = €12,000 at 20:00, 15 × 40 = €600.
    business = Business(
        currency="EUR",
        orders_profile=week(15, fri={19: 150, 20: 300}),
        average_order_value=40,
    )
    assert price_downtime(MINUTES, business).amount == pytest.approx(12_100)
    flat = Business(currency="USD", orders_per_hour=90, average_order_value=40)  # $60/min
    impact = price_downtime(MINUTES, flat)
    assert impact.amount == pytest.approx(85 * 60)
    assert impact.formula == (
        "85.0 min of downtime × $60/min (90 orders per hour × $40 average order ÷ 60) = $5,100"
    )


def test_a_flat_revenue_and_a_downtime_cost_per_minute():
    flat = Business(currency="GBP", revenue_per_hour=6000)
    assert price_downtime(MINUTES, flat).formula == (
        "85.0 min of downtime × £100/min (£6,000 revenue per hour ÷ 60) = £8,500"
    )
    # The cost per minute replaces the revenue: 85 × €150.
    costed = Business(currency="EUR", revenue_per_hour=6000, downtime_cost_per_minute=150)
    impact = price_downtime(MINUTES, costed)
    assert impact.amount == pytest.approx(12_750) and impact.basis == "downtime cost"
    assert impact.formula == (
        "85.0 min of downtime × €150/min (downtime cost per minute) = €12,750"
    )


def test_without_a_revenue_or_a_cost_downtime_is_not_priced():
    business = Business(currency="EUR", sla_penalty_per_breach=100)
    assert minute_rates(business) is None
    assert price_downtime(MINUTES, business) is None
    assert price_agent_hours(3.0, business) is None


def test_breaches_times_the_penalty():
    business = Business(currency="EUR", sla_penalty_per_breach=500)
    impact = price_sla_breaches(50, business)
    assert impact.amount == 25_000 and impact.basis == "SLA penalties"
    assert impact.formula == "50 breaches × €500 per breach = €25,000"
    assert price_sla_breaches(1, business).formula == "1 breach × €500 per breach = €500"
    assert price_sla_breaches(3, Business(currency="EUR", revenue_per_hour=1)) is None
    with pytest.raises(TypeError, match="breaches must be an integer"):
        price_sla_breaches(2.5, business)


def test_agent_hours_times_their_cost():
    impact = price_agent_hours(12.5, Business(currency="EUR", agent_hour_cost=60))
    assert impact.amount == 750 and impact.formula == ("12.5 agent hours × €60 per hour = €750")


def test_breaches_are_read_from_the_sla_kpi_details():
    assert sla_breaches({"met": 1056}, 1357) == 301  # by flag: counted less met
    assert sla_breaches({"breached": 55, "met": 154, "breached_while_open": 0}, 209) == 55
    with pytest.raises(ValueError, match="'met' or 'breached'"):
        sla_breaches({}, 10)


def test_money_is_written_with_separators_and_never_an_exponent():
    assert format_money(1.5e9, "EUR") == "€1,500,000,000"
    assert format_money(65_315.4, "EUR") == "€65,315"
    assert format_money(142.3529, "EUR") == "€142.35"
    assert format_money(0.004, "USD") == "$0.00"
    assert format_money(2500, "SEK") == "SEK 2,500"


def test_the_impact_table_ranks_by_amount():
    penalty = Business(currency="EUR", sla_penalty_per_breach=100)
    table = impact_frame(
        {
            ("sla", "SLA compliance"): price_sla_breaches(3, penalty),
            ("p1-sla", "P1 SLA"): price_sla_breaches(7, penalty),
        }
    )
    assert table["kpi_id"].tolist() == ["p1-sla", "sla"]
    assert table["amount"].tolist() == [700.0, 300.0]
    assert list(table.columns[:3]) == ["kpi_id", "kpi_name", "basis"]
    assert impact_frame({}).empty
