"""error_budget against hand-computed figures and against the KPI library."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csi_helpers.analysis.budget import error_budget
from csi_helpers.errors import DataError
from csi_helpers.kpis.budget import (
    error_budget_burn_rate,
    error_budget_remaining,
    sla_burn_rate,
    sla_error_budget_remaining,
)

START = pd.Timestamp("2026-07-01", tz="UTC")


def hourly_units(hours: int, bad_hours: list[int], *, start: pd.Timestamp = START) -> pd.DataFrame:
    """One unit per hour from ``start``; the listed hours (0-based) are bad."""
    good = np.ones(hours, dtype=bool)
    good[bad_hours] = False
    stamps = pd.date_range(start, periods=hours, freq="h")
    return pd.DataFrame({"timestamp": stamps, "good": good})


def budget(units: pd.DataFrame, **options) -> object:
    defaults = {"slo": 99.0, "period_start": START, "period_end": "2026-07-11", "metric": "latency"}
    return error_budget(units, **{**defaults, **options})


def test_tiny_closed_period_by_hand():
    # 10 units, SLO 80 %: 2 bad allowed; 1 bad spends half the budget.
    units = hourly_units(10, [3])
    original = units.copy()
    f = budget(units, slo=80.0, unit="hours")
    ev = f.evidence
    assert (ev["budget"], ev["consumed"], ev["remaining"]) == pytest.approx((2.0, 1, 1.0))
    assert ev["consumption_pct"] == pytest.approx(50.0)
    assert ev["elapsed_pct"] == 100.0 and ev["closed"] is True
    assert f.effect == pytest.approx(0.5) and f.unit == "x"
    # Clopper-Pearson for 1 of 10: Beta(0.025; 1, 10) and Beta(0.975; 2, 9), over 0.2.
    assert f.ci_low == pytest.approx(stats.beta.ppf(0.025, 1, 10) / 0.2)
    assert f.ci_high == pytest.approx(stats.beta.ppf(0.975, 2, 9) / 0.2)
    assert f.p_value == pytest.approx(stats.binomtest(1, 10, 0.2).pvalue)
    assert ev["projected_exhaustion"] is None and ev["exhausted"] is False
    assert ev["exhaustion_outlook"] == "not before period end"
    assert f.severity == "low"  # 0.5x, but the interval reaches 2.2x
    assert f.kind == "error_budget" and f.id == "error_budget:latency"
    assert "1 bad hours of a budget of 2 (50 % consumed, 100 % of the period elapsed)" in (
        f.statement
    )
    assert "budget lasts to the period end (2026-07-11)" in f.statement
    pd.testing.assert_frame_equal(units, original)


def test_running_period_projects_exhaustion_before_the_end():
    # 4 of 10 days elapsed, 96 hourly units, SLO 99 %: budget 0.01 x 96 / 0.4 = 2.4.
    # 2 bad: 83.3 % spent at 40 % elapsed, burn 2.083; the budget lasts 1/2.083 of the
    # period, 4.8 days: it runs out on 2026-07-05 19:12.
    f = budget(hourly_units(96, [10, 50]), as_of="2026-07-05")
    ev = f.evidence
    assert ev["elapsed_share"] == pytest.approx(0.4)
    assert ev["budget"] == pytest.approx(2.4)
    assert ev["consumption_pct"] == pytest.approx(100 * 2 / 2.4)
    assert f.effect == pytest.approx(2 / 96 / 0.01)
    assert pd.Timestamp(ev["projected_exhaustion"]) == pd.Timestamp("2026-07-05 19:12", tz="UTC")
    assert f.severity == "high" and ev["exhausted"] is False
    assert ev["exhaustion_outlook"] == "before period end"
    assert "runs out on 2026-07-05, before the period ends on 2026-07-11" in f.statement
    assert f.statement.startswith("latency error budget (SLO 99 %) at risk:")


def test_exhausted_budget_gives_the_day_it_ran_out():
    # Budget 2.4 as above; the third bad unit (hour 70) takes the count past it.
    f = budget(hourly_units(96, [10, 50, 70, 90]), as_of="2026-07-05")
    ev = f.evidence
    assert ev["exhausted"] is True and ev["exhaustion_outlook"] == "exhausted"
    assert pd.Timestamp(ev["exhausted_at"]) == START + pd.Timedelta(hours=70)
    assert ev["remaining_pct"] == pytest.approx(100 * (1 - 4 / 2.4))
    assert ev["projected_exhaustion"] is None
    assert f.severity == "high"
    assert "exhausted: 4 bad units" in f.statement and "used up on 2026-07-03" in f.statement


def test_fast_burn_alone_is_medium():
    # 30-day closed period of hours, SLO 99 %: budget 7.2. Five bad hours, all in the
    # last 7 days: 0.694x over the period, 5/168/0.01 = 2.98x over the last week.
    hours = 24 * 30
    f = budget(hourly_units(hours, [hours - 1 - 30 * k for k in range(5)]), period_end="2026-07-31")
    ev = f.evidence
    assert f.effect == pytest.approx(5 / 720 / 0.01)
    assert ev["fast_burn_units"] == 168 and ev["fast_burn_consumed"] == 5
    assert ev["fast_burn_rate"] == pytest.approx(5 / 168 / 0.01)
    assert f.severity == "medium"
    assert "fast burn: last 7 days 2.98x" in f.statement


def test_fast_burn_projects_when_the_remaining_budget_runs_out():
    # 20 of 30 days elapsed, 480 hours: budget 0.01 x 480 / (2/3) = 7.2, 2 bad so far,
    # both in the last 7 days: 2 per 7 days spends the 5.2 left in 18.2 days, past the end.
    # With 4 bad in the last 7 days the 3.2 left go in 5.6 days: on 2026-07-26 14:24.
    slow = budget(hourly_units(480, [400, 470]), period_end="2026-07-31", as_of="2026-07-21")
    assert slow.evidence["exhaustion_at_fast_burn"] is None
    fast = budget(
        hourly_units(480, [400, 420, 450, 470]), period_end="2026-07-31", as_of="2026-07-21"
    )
    at = pd.Timestamp(fast.evidence["exhaustion_at_fast_burn"])
    assert at == pd.Timestamp("2026-07-21", tz="UTC") + pd.Timedelta(days=3.2 / (4 / 7))
    assert "at which pace it runs out on 2026-07-26" in fast.statement
    assert fast.severity == "medium"


def test_healthy_budget_is_an_info_finding():
    f = budget(hourly_units(240, []), slo=95.0)
    assert f.kind == "error_budget" and f.severity == "info"
    assert f.effect == 0 and f.ci_low == 0
    assert f.ci_high == pytest.approx((1 - 0.025 ** (1 / 240)) / 0.05)  # CP upper for 0 of 240
    assert f.ci_high < 1


def by_hand(units: pd.DataFrame, *, slo: float, end: str, as_of: str | None) -> dict[str, float]:
    """The budget figures from their definitions, sharing no code with the package: units
    in [start, as_of) with a flag count; the budget is (1 − SLO) × those units / the
    elapsed share of the period; burn = (bad / budget) / elapsed share."""
    stop = pd.Timestamp(end, tz="UTC")
    until = stop if as_of is None else min(pd.Timestamp(as_of, tz="UTC"), stop)
    elapsed = (until - START) / (stop - START)
    inside = units[(units["timestamp"] >= START) & (units["timestamp"] < until)]
    flags = [bool(v) for v in inside["good"] if v is not pd.NA]
    eligible, bad = len(flags), flags.count(False)
    allowed = (100 - slo) / 100 * eligible / elapsed
    return {
        "budget": allowed,
        "consumed": bad,
        "eligible": eligible,
        "elapsed_share": elapsed,
        "remaining_pct": 100 * (1 - bad / allowed),
        "burn": bad / allowed / elapsed,
        "missing": len(inside) - eligible,
    }


@pytest.mark.parametrize("as_of", [None, "2026-07-04 06:00", "2026-07-09"])
@pytest.mark.parametrize("slo", [99.0, 99.9])
def test_agrees_with_the_kpi_library_on_availability(as_of, slo):
    rng = np.random.default_rng(int(slo * 10))
    stamps = pd.date_range("2026-06-30", "2026-07-12", freq="5min", tz="UTC")
    up = pd.array(rng.random(len(stamps)) > 0.004, dtype="boolean")
    up[rng.choice(len(up), 20, replace=False)] = pd.NA
    monitoring = pd.DataFrame({"timestamp": stamps, "up": up})
    period = {"start": START, "end": pd.Timestamp("2026-07-11", tz="UTC"), "slo": slo}
    moment = None if as_of is None else pd.Timestamp(as_of, tz="UTC")
    remaining = error_budget_remaining(monitoring, **period, as_of=moment)
    burn = error_budget_burn_rate(monitoring, **period, as_of=moment)
    f = budget(monitoring.rename(columns={"up": "good"}), slo=slo, as_of=as_of)
    ev = f.evidence
    assert ev["budget"] == pytest.approx(remaining.details["budget"], abs=1e-6)
    assert ev["consumed"] == remaining.details["consumed"]
    assert ev["eligible"] == remaining.details["eligible"]
    assert ev["elapsed_share"] == pytest.approx(remaining.details["elapsed_share"], abs=1e-6)
    assert ev["remaining_pct"] == pytest.approx(remaining.value, abs=1e-4)
    assert f.effect == pytest.approx(burn.value, abs=1e-6)
    assert ev["n_missing_flag"] == remaining.excluded
    # and both against the definitions by hand (they share Spend and elapsed_share)
    hand = by_hand(
        monitoring.rename(columns={"up": "good"}), slo=slo, end="2026-07-11", as_of=as_of
    )
    assert ev["budget"] == pytest.approx(hand["budget"], rel=1e-9)
    assert remaining.details["budget"] == pytest.approx(hand["budget"], abs=1e-6)
    assert ev["consumed"] == remaining.details["consumed"] == hand["consumed"] > 0
    assert ev["eligible"] == remaining.details["eligible"] == hand["eligible"]
    assert ev["elapsed_share"] == pytest.approx(hand["elapsed_share"], rel=1e-9)
    assert ev["remaining_pct"] == pytest.approx(hand["remaining_pct"], rel=1e-9)
    assert remaining.value == pytest.approx(hand["remaining_pct"], abs=1e-4)
    assert f.effect == pytest.approx(hand["burn"], rel=1e-9)
    assert burn.value == pytest.approx(hand["burn"], abs=1e-6)
    assert ev["n_missing_flag"] == hand["missing"] > 0


@pytest.mark.parametrize("as_of", [None, "2026-08-15"])
def test_agrees_with_the_kpi_library_on_sla_tickets(as_of):
    rng = np.random.default_rng(5)
    opened = START + pd.to_timedelta(rng.uniform(-5, 70, 400), unit="D")
    tickets = pd.DataFrame({"opened_at": opened, "made_sla": rng.random(400) > 0.12})
    period = {"start": START, "end": pd.Timestamp("2026-10-01", tz="UTC"), "target": 90.0}
    moment = None if as_of is None else pd.Timestamp(as_of, tz="UTC")
    remaining = sla_error_budget_remaining(tickets, **period, as_of=moment)
    burn = sla_burn_rate(tickets, **period, as_of=moment)
    units = tickets.rename(columns={"opened_at": "timestamp", "made_sla": "good"})
    f = budget(units, slo=90.0, period_end="2026-10-01", as_of=as_of, unit="tickets")
    assert f.evidence["budget"] == pytest.approx(remaining.details["budget"], abs=1e-6)
    assert f.evidence["consumed"] == remaining.details["consumed"]
    assert f.evidence["remaining_pct"] == pytest.approx(remaining.value, abs=1e-4)
    assert f.effect == pytest.approx(burn.value, abs=1e-6)
    hand = by_hand(units, slo=90.0, end="2026-10-01", as_of=as_of)
    assert f.evidence["budget"] == pytest.approx(hand["budget"], rel=1e-9)
    assert remaining.details["budget"] == pytest.approx(hand["budget"], abs=1e-6)
    assert f.evidence["consumed"] == remaining.details["consumed"] == hand["consumed"] > 0
    assert f.evidence["remaining_pct"] == pytest.approx(hand["remaining_pct"], rel=1e-9)
    assert remaining.value == pytest.approx(hand["remaining_pct"], abs=1e-4)
    assert f.effect == pytest.approx(hand["burn"], rel=1e-9)
    assert burn.value == pytest.approx(hand["burn"], abs=1e-6)


def test_units_outside_the_period_and_without_a_flag_are_counted():
    units = hourly_units(24 * 12, [5], start=START - pd.Timedelta(days=1))
    units["good"] = units["good"].astype(object)
    units.loc[100:109, "good"] = None
    f = budget(units)
    assert f.evidence["n_outside_period"] == 48  # the day before and the day after
    assert f.evidence["n_missing_flag"] == 10
    assert f.evidence["eligible"] == 240 - 10
    assert f.evidence["consumed"] == 0  # hour 5 of the day before is outside


def test_integer_flags_are_read_as_booleans():
    units = hourly_units(100, [1, 2])
    ints = budget(units.assign(good=units["good"].astype(int)))
    assert ints == budget(units)


def test_no_units_in_the_period_gives_no_finding():
    f = budget(hourly_units(48, [], start=START - pd.Timedelta(days=5)))
    assert f.kind == "no_finding" and f.evidence["reason"] == "no_units"
    assert "no units with a good/bad flag" in f.statement


def test_slo_of_100_percent_has_no_budget():
    f = budget(hourly_units(48, [3]), slo=100.0)
    assert f.kind == "no_finding" and f.evidence["reason"] == "no_budget"
    assert "allows no bad units" in f.statement and "1 of 48" in f.statement


def test_period_not_started_gives_no_finding():
    f = budget(hourly_units(48, [3]), as_of="2026-06-20")
    assert f.kind == "no_finding" and f.evidence["reason"] == "not_started"


def test_same_input_same_answer():
    units = hourly_units(300, [4, 90, 250])
    assert budget(units, as_of="2026-07-09") == budget(units, as_of="2026-07-09")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"slo": 120.0}, ValueError, "slo must be a percentage of good units, 0 to 100"),
        ({"slo": "99.9"}, TypeError, "slo must be a percentage of good units"),
        (
            {"good": "ok"},
            ValueError,
            r"column 'ok' \(the good flag of error_budget\) is not in the table",
        ),
        ({"period_end": "2026-06-01"}, ValueError, "period_end .* must come after period_start"),
        ({"period_start": "not a date"}, ValueError, "period_start 'not a date' is not a date"),
        ({"as_of": 5}, TypeError, "as_of must be a timestamp"),
        ({"fast_burn_days": 0}, ValueError, "fast_burn_days must be a positive integer"),
        ({"metric": " "}, ValueError, "metric must be a non-empty string"),
        ({"unit": ""}, ValueError, "unit must be a non-empty string"),
        ({"scope": "checkout"}, TypeError, "scope must be a dict"),
    ],
)
def test_bad_arguments_are_programming_errors_not_data_errors(options, error, message):
    with pytest.raises(error, match=message) as raised:
        budget(hourly_units(24, [1]), **options)
    assert not isinstance(raised.value, DataError)  # a bug fails the step, never "could not run"


def test_bad_tables_are_programming_errors_not_data_errors():
    units = hourly_units(24, [1])
    cases = [
        (TypeError, "expects a DataFrame", units["good"]),
        (
            TypeError,
            "timezone-aware",
            units.assign(timestamp=units["timestamp"].dt.tz_localize(None)),
        ),
        (TypeError, "must hold booleans", units.assign(good=["yes"] * 24)),
        (ValueError, "must hold booleans", units.assign(good=[2] * 24)),
    ]
    for error, message, table in cases:
        with pytest.raises(error, match=message) as raised:
            budget(table)
        assert not isinstance(raised.value, DataError)
