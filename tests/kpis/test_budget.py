"""Error budgets on monitoring SLIs and on ticket SLAs, against hand-computed figures."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.errors import ParamsError
from csi_helpers.kpis.budget import (
    DEFINITIONS,
    error_budget_burn_rate,
    error_budget_remaining,
    sla_burn_rate,
    sla_error_budget_remaining,
)

DAY = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": pd.Timestamp("2026-01-02", tz="UTC")}
BY_ID = {d.id: d for d in DEFINITIONS}


def probes(bad: int, total: int = 1000) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=total, freq="min", tz="UTC"),
            "up": pd.array([False] * bad + [True] * (total - bad), dtype="boolean"),
        }
    )


def test_half_the_budget_left() -> None:
    m = probes(5)
    r = error_budget_remaining(m, **DAY, slo=99.0)
    assert r.value == pytest.approx(50.0)
    assert r.details["budget"] == pytest.approx(10.0)
    assert r.details["consumed"] == 5.0
    assert r.details["units"] == "samples"
    assert error_budget_burn_rate(m, **DAY, slo=99.0).value == pytest.approx(0.5)


def test_blown_budget_goes_negative() -> None:
    m = probes(15)
    r = error_budget_remaining(m, **DAY, slo=99.0)
    assert r.value == pytest.approx(-50.0)
    assert "blown" in r.note
    assert error_budget_burn_rate(m, **DAY, slo=99.0).value == pytest.approx(1.5)


def test_default_slo_is_99_9() -> None:
    assert error_budget_remaining(probes(0), **DAY).details["budget"] == pytest.approx(1.0)


def test_latency_sli_counts_samples_over_the_threshold() -> None:
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC"),
            "latency_ms": [100.0, 300.0, 301.0, 500.0, None],
            "latency_p95_ms": [400.0, 400.0, 400.0, 400.0, 400.0],
        }
    )
    r = error_budget_remaining(m, **DAY, slo=75.0, sli="latency", latency_threshold_ms=300.0)
    # budget 0.25 × 4 = 1 bad sample, consumed 2 (301 and 500; 300 is within)
    assert (r.value, r.n, r.excluded) == (pytest.approx(-100.0), 4, 1)
    p95 = error_budget_remaining(m, **DAY, slo=0.0, sli="latency_p95")
    assert p95.value == pytest.approx(0.0)  # all 5 bad against a budget of 5


def test_errors_sli_is_request_weighted() -> None:
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=3, freq="h", tz="UTC"),
            "error_rate": [0.01, 0.0, 0.5],
            "requests": [1000.0, 1000.0, None],
        }
    )
    r = error_budget_remaining(m, **DAY, slo=99.0, sli="errors")
    # 10 failed requests out of 2,000: budget 20 → half left; the sample without requests is out
    assert r.value == pytest.approx(50.0)
    assert (r.details["units"], r.n, r.excluded) == ("requests", 2, 1)
    assert r.details["consumed"] == pytest.approx(10.0)


def test_burn_rate_of_a_running_period() -> None:
    period = {
        "start": pd.Timestamp("2026-01-01", tz="UTC"),
        "end": pd.Timestamp("2026-01-11", tz="UTC"),
    }
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=240, freq="h", tz="UTC"),
            "up": [False] * 3 + [True] * 117 + [False] * 120,  # the second half is not yet seen
        }
    )
    as_of = pd.Timestamp("2026-01-06", tz="UTC")
    remaining = error_budget_remaining(m, **period, slo=95.0, as_of=as_of)
    # 120 samples in half the period → budget 0.05 × 240 = 12; 3 consumed
    assert remaining.value == pytest.approx(75.0)
    assert remaining.details["elapsed_share"] == pytest.approx(0.5)
    burn = error_budget_burn_rate(m, **period, slo=95.0, as_of=as_of.to_pydatetime())
    assert burn.value == pytest.approx(0.5)
    assert error_budget_burn_rate(m, **period, slo=95.0).value == pytest.approx(123 / 12)


def test_sla_budget() -> None:
    t = pd.DataFrame(
        {
            "opened_at": pd.to_datetime(["2026-01-05"] * 41 + ["2025-12-31"], utc=True),
            "made_sla": pd.array([False] + [True] * 39 + [None, False], dtype="boolean"),
        }
    )
    month = {
        "start": pd.Timestamp("2026-01-01", tz="UTC"),
        "end": pd.Timestamp("2026-02-01", tz="UTC"),
    }
    r = sla_error_budget_remaining(t, **month)  # target 95 % of 40 → budget 2, 1 breached
    assert (r.value, r.n, r.excluded) == (pytest.approx(50.0), 40, 1)
    assert r.details["units"] == "tickets"
    assert sla_burn_rate(t, **month).value == pytest.approx(0.5)
    assert sla_error_budget_remaining(t, **month, target=97.5).value == pytest.approx(0.0)


def test_no_budget_and_bad_objectives() -> None:
    assert error_budget_remaining(probes(0), **DAY, slo=100.0).value is None
    with pytest.raises(ParamsError, match="0 to 100"):
        error_budget_remaining(probes(0), **DAY, slo=150.0)


def test_empty_and_all_na_inputs() -> None:
    empty = pd.DataFrame(
        {
            "timestamp": pd.Series([], dtype="datetime64[us, UTC]"),
            "up": pd.Series([], dtype="boolean"),
        }
    )
    assert error_budget_remaining(empty, **DAY).value is None
    na = probes(0).assign(up=pd.array([None] * 1000, dtype="boolean"))
    r = error_budget_burn_rate(na, **DAY)
    assert (r.value, r.excluded) == (None, 1000)
    tickets = pd.DataFrame(
        {
            "opened_at": pd.Series([], dtype="datetime64[us, UTC]"),
            "made_sla": pd.Series([], dtype="boolean"),
        }
    )
    assert sla_burn_rate(tickets, **DAY).value is None


def test_options_through_the_definition() -> None:
    d = BY_ID["error_budget_remaining"]
    assert d.validate_options({"slo": "99.5", "sli": "latency"}) == {"slo": 99.5, "sli": "latency"}
    with pytest.raises(ValueError, match="did you mean 'latency_threshold_ms'"):
        d.validate_options({"latency_treshold_ms": 250})
    with pytest.raises(ValueError, match="option sli"):
        d.validate_options({"sli": "throughput"})
    assert d.needed_fields({}) == ("timestamp", "up")
    assert d.needed_fields({"sli": "latency_p95"}) == ("timestamp", "latency_p95_ms")
    assert d(probes(5), **DAY, options={"slo": 99.0}).value == pytest.approx(50.0)
    assert "Formula:" in d.formula


def test_errors_sli_without_request_counts_spends_error_rates_per_sample() -> None:
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=4, freq="h", tz="UTC"),
            "error_rate": [0.02, 0.0, 0.0, 0.0],
        }
    )
    r = error_budget_remaining(m, **DAY, slo=99.0, sli="errors")
    # budget 0.01 × 4 samples = 0.04; consumed 0.02 sample
    assert r.value == pytest.approx(50.0)
    assert r.details["units"] == "samples" and "no request counts" in r.note


def test_running_errors_budget_in_full_by_hand() -> None:
    """A third of a 3-day period has run (as_of 2026-01-02 00:00): two samples, 1,234.56789
    requests at 1.23456789 % failed and 987 at 0.5 %. By the docstring's formulas: failed
    15.2416 + 4.935 = 20.1766, budget (1 − 99.5/100) × 2,221.56789 / (1/3) = 33.3235,
    remaining 100 (1 − failed/budget), burn (failed/budget) / (1/3); details to 6 places
    (the values have more, so 5 or 7 would show)."""
    m = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2026-01-01 06:00", "2026-01-01 18:00"], utc=True),
            "error_rate": [0.0123456789, 0.005],
            "requests": [1234.5678912, 987.0],
        }
    )
    period = {"start": DAY["start"], "end": pd.Timestamp("2026-01-04", tz="UTC")}
    as_of = pd.Timestamp("2026-01-02", tz="UTC")
    failed = 0.0123456789 * 1234.5678912 + 0.005 * 987
    share = 1 / 3
    budget = (1 - 99.5 / 100) * (1234.5678912 + 987) / share
    r = error_budget_remaining(m, **period, slo=99.5, sli="errors", as_of=as_of)
    assert r.value == pytest.approx(100 * (1 - failed / budget))
    assert r.details == {
        "budget": round(budget, 6),
        "consumed": round(failed, 6),
        "units": "requests",
        "eligible": round(1234.5678912 + 987, 6),
        "objective_pct": 99.5,
        "elapsed_share": 0.333333,
        "remaining_pct": round(100 * (1 - failed / budget), 6),
        "burn_rate": round(failed / budget / share, 6),
    }
    assert r.note == ""  # nothing left out, budget not blown
    burn = error_budget_burn_rate(m, **period, slo=99.5, sli="errors", as_of=as_of)
    assert burn.value == pytest.approx(failed / budget / share)  # 1.82, not spent ** share (0.85)


def test_a_budget_spent_exactly_is_not_blown_and_notes_say_what_was_left_out() -> None:
    exact = error_budget_remaining(probes(10), **DAY, slo=99.0)  # budget 10, 10 bad
    assert exact.value == pytest.approx(0.0) and exact.note == ""
    gappy = probes(5).assign(up=pd.array([False] * 5 + [True] * 994 + [None], dtype="boolean"))
    r = error_budget_remaining(gappy, **DAY, slo=99.0)
    assert (r.n, r.excluded, r.note) == (999, 1, "1 sample(s) without up are left out")
    t = pd.DataFrame(
        {
            "opened_at": pd.to_datetime(["2026-01-01 10:00"] * 3, utc=True),
            "made_sla": pd.array([True, True, None], dtype="boolean"),
        }
    )
    sla = sla_error_budget_remaining(t, **DAY)
    assert (sla.n, sla.excluded) == (2, 1)
    assert sla.note == "1 ticket(s) without an SLA flag are left out"
    assert sla_error_budget_remaining(t.iloc[:2], **DAY).note == ""


def test_objective_bounds_elapsed_time_and_single_samples() -> None:
    """0 and 100 are percentages (100 leaves no budget); an as_of before the period has no
    time elapsed; one sample is enough; an SLI named by a string built at run time (as
    params give it) is the same SLI."""
    assert error_budget_remaining(probes(0), **DAY, slo=0.0).value == pytest.approx(100.0)
    with pytest.raises(ParamsError, match="0 to 100"):
        error_budget_remaining(probes(0), **DAY, slo=-0.1)
    before = error_budget_remaining(probes(1), **DAY, as_of=pd.Timestamp("2025-12-31", tz="UTC"))
    assert (before.value, before.note) == (
        None,
        "as_of is at or before the period start: no time has elapsed",
    )
    one = error_budget_remaining(probes(0, total=1), **DAY, slo=50.0)
    assert (one.value, one.n, one.details["budget"]) == (100.0, 1, 0.5)
    sli = "".join(["avail", "ability"])
    assert error_budget_remaining(probes(5), **DAY, slo=99.0, sli=sli).value == pytest.approx(50.0)


def test_the_default_latency_threshold_is_300_ms() -> None:
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=4, freq="h", tz="UTC"),
            "latency_ms": [299.5, 300.0, 300.5, 100.0],
        }
    )
    r = error_budget_remaining(m, **DAY, slo=50.0, sli="latency")
    assert r.details["consumed"] == 1.0  # only 300.5 ms is above 300 ms


def test_spend_is_frozen() -> None:
    import dataclasses

    from csi_helpers.kpis.budget import Spend

    spend = Spend(99.0, 10.0, 1.0, 1.0, "samples", 10)
    assert (spend.excluded, spend.note) == (0, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spend.consumed = 2.0  # type: ignore[misc]


def test_more_bounds_an_empty_period_and_the_errors_sli_from_params() -> None:
    with pytest.raises(ParamsError, match="0 to 100"):
        error_budget_remaining(probes(0), **DAY, slo=100.5)
    later = {
        "start": pd.Timestamp("2026-02-01", tz="UTC"),
        "end": pd.Timestamp("2026-02-02", tz="UTC"),
    }
    none = error_budget_remaining(probes(3), **later)
    assert (none.value, none.note) == (None, "no up sample in the period")
    m = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=2, freq="h", tz="UTC"),
            "error_rate": [0.01, 0.03],
            "requests": [100.0, 100.0],
        }
    )
    sli = "".join(["err", "ors"])  # as params give it
    r = error_budget_remaining(m, **DAY, slo=97.0, sli=sli)  # 4 failed of a budget of 6
    assert r.value == pytest.approx(100 * (1 - 4 / 6)) and r.details["units"] == "requests"
