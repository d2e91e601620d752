"""Step 5's ticket KPIs over time: a planted jump in MTTR is found where it is."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from csi_helpers.params import load_params
from csi_helpers.steps.analyse import tickets as step
from csi_helpers.steps.common import measure_entry

PARAMS = load_params("params/demo.yaml")  # cycle 2026-07-01 to 2026-09-30
JUMP_AT = pd.Timestamp("2026-08-10", tz="UTC")


def synthetic_tickets(
    seed: int,
    *,
    jump: float,
    per_day: int = 20,
    sigma: float = 0.5,
    days: int = 183,
    at: pd.Timestamp = JUMP_AT,
) -> pd.DataFrame:
    """``per_day`` tickets a day over the last ``days`` days of both cycles; time to
    resolve lognormal around 20 h (log sd ``sigma``), ×``jump`` from ``at`` (by
    opening time; 10 August by default)."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp("2026-10-01", tz="UTC") - pd.Timedelta(days=days)
    opened = first + pd.to_timedelta(np.sort(rng.uniform(0, days * 24, days * per_day)), unit="h")
    noise = rng.lognormal(-(sigma**2) / 2, sigma, len(opened))
    hours = 20.0 * np.where(opened >= at, jump, 1.0) * noise
    resolved = opened + pd.to_timedelta(hours, unit="h")
    return pd.DataFrame(
        {
            "ticket_id": [f"INC{i}" for i in range(len(opened))],
            "opened_at": opened,
            "resolved_at": pd.Series(resolved).where(
                resolved < pd.Timestamp("2026-10-01", tz="UTC")
            ),
            "state": "Resolved",
            "priority": "3 - Moderate",
            "made_sla": pd.array(hours < 24, dtype="boolean"),
        }
    )


def run(
    monkeypatch: pytest.MonkeyPatch,
    table: pd.DataFrame,
    first_day: str = "2026-04-01",
    permutations: int = 499,
) -> list:
    entries = [k for _, _, k in PARAMS.strategy.kpis() if k.id == "mttr"]
    params = SimpleNamespace(
        analysis=PARAMS.analysis.model_copy(update={"permutations": permutations}),
        cycle_window=PARAMS.cycle_window,
        calendar=PARAMS.calendar,
        strategy=SimpleNamespace(kpis=lambda: [(None, None, k) for k in entries]),
    )
    ctx = SimpleNamespace(params=params, save_figure=lambda name, figure: plt.close(figure))
    monkeypatch.setattr(step, "ticket_table", lambda ctx: table)
    monkeypatch.setattr(step, "pauses_table", lambda ctx: None)
    inputs = SimpleNamespace(
        history=pd.DataFrame({"day": pd.date_range(first_day, "2026-09-30")}),
        card=pd.DataFrame({"kpi": ["mean_time_to_resolve"], "status": ["red"]}),
    )
    return step.analyse_ticket_kpis(ctx, inputs)


def test_a_jump_in_mttr_is_located_and_sized(monkeypatch):
    found = [f for f in run(monkeypatch, synthetic_tickets(1, jump=1.6)) if f.is_finding]
    [shift] = [f for f in found if f.kind == "change_point"]
    assert shift.metric == "weekly mean time to resolve" and shift.unit == "h"
    # weeks start on the cycle's weekday; the jump falls inside the week the shift names
    assert abs(pd.Timestamp(shift.evidence["date"]) - JUMP_AT.tz_localize(None)) <= pd.Timedelta(
        days=7
    )
    assert shift.ci_low <= 0.6 * 20 <= shift.ci_high and shift.severity == "high"
    assert not [f for f in found if f.kind == "trend"]  # the jump is one shift, not a trend


def test_a_jump_in_one_quarter_of_few_tickets_survives_a_reports_28_tests(monkeypatch):
    """10 tickets a day (log sd 0.8), one quarter only: 13 weeks, the jump at the start
    of the seventh (12 August), as in the false-alarm benchmark. The jump's p-value
    clears Benjamini–Hochberg's bar for one true finding among 28 tests in 4 of 5 seeds
    at least: it is tested on the tickets, not on the 13 weekly means, whose permutation
    test seldom goes below 0.003. Measured: 5 of 5; the weekly test, 1 of 5."""
    cleared = 0
    for seed in range(5):
        table = synthetic_tickets(
            seed, jump=1.6, per_day=10, sigma=0.8, days=92, at=pd.Timestamp("2026-08-12", tz="UTC")
        )
        found = run(monkeypatch, table, first_day="2026-07-01", permutations=1999)
        shifts = [f for f in found if f.kind == "change_point"]
        assert shifts and all(f.method.startswith("cohort_shift") for f in shifts)
        cleared += any(f.p_value <= 0.05 / 28 for f in shifts)
    assert cleared >= 4, cleared


@pytest.mark.slow
def test_no_jump_gives_no_finding_most_of_the_time(monkeypatch):
    """20 seeds without a jump: at alpha 0.05 per test (a shift test and a trend test),
    more than 3 cycles with a finding would mean a method well above its level."""
    fired = sum(
        any(f.is_finding for f in run(monkeypatch, synthetic_tickets(seed, jump=1.0)))
        for seed in range(100, 120)
    )
    assert fired <= 3


def test_weekly_values_are_the_kpi_over_each_week(monkeypatch):
    table = synthetic_tickets(2, jump=1.0)
    [entry] = [k for _, _, k in PARAMS.strategy.kpis() if k.id == "mttr"]
    ctx = SimpleNamespace(params=PARAMS)
    start, end = PARAMS.cycle_window()
    weekly = step.weekly_values(ctx, entry, table, start=start, end=end)
    assert len(weekly) == 13 and weekly.index[0] == pd.Timestamp("2026-07-01")
    # the tickets opened in the week (all resolved by then), as the KPI with that scope
    first = table[(table["opened_at"] >= start) & (table["opened_at"] < start + step.WEEK)]
    by_hand = ((first["resolved_at"] - first["opened_at"]).dt.total_seconds() / 3600).mean()
    assert weekly.iloc[0] == pytest.approx(by_hand)
    cohort = entry.model_copy(update={"options": {"scope": "opened_in_period"}})
    week = measure_entry(ctx, cohort, table, start=start, end=start + step.WEEK)
    assert weekly.iloc[0] == week.value


def test_a_thin_week_is_missing_not_zero():
    table = synthetic_tickets(3, jump=1.0)
    table = table[(table["opened_at"] < "2026-07-20") | (table["opened_at"] >= "2026-07-29")]
    [entry] = [k for _, _, k in PARAMS.strategy.kpis() if k.id == "mttr"]
    start, end = PARAMS.cycle_window()
    weekly = step.weekly_values(SimpleNamespace(params=PARAMS), entry, table, start=start, end=end)
    assert np.isnan(weekly.loc["2026-07-22"]) and weekly.notna().sum() == 12
