"""Anomalies outside known events, with a calibrated p-value (issue 14 point 2).

Null series use the demo's own shapes (:mod:`csi_helpers.demo`): its weekday × hour
profile and load trend, a campaign calendar drawn as the demo draws it, and either
multiplicative lognormal noise (sigma 0.06, as the demo) or additive noise of the
same size at the mean level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from calibration import null_bound, power_at_double
from scipy import stats

from csi_helpers.analysis.event_anomaly import cycle_p_values, event_anomalies
from csi_helpers.analysis.expected_level import event_hours, expected_level
from csi_helpers.demo import monitoring, scenario

HOURS = pd.date_range(scenario.CYCLE1_START, scenario.CYCLE2_START, freq="h", inclusive="left")
LOAD = monitoring.expected_requests(HOURS)


def campaigns(rng: np.random.Generator) -> pd.DataFrame:
    """The demo's cycle-1 campaign calendar as an events table."""
    cal = monitoring.draw_campaigns(rng)
    cal = cal[cal["start"] < scenario.CYCLE2_START]
    return pd.DataFrame(
        {
            "start": cal["start"],
            "end": cal["end"],
            "event_id": cal["campaign_id"],
            "name": cal["name"],
            "kind": "calendar",
        }
    ).reset_index(drop=True)


def null_cycle(family: str, seed: int) -> tuple[pd.Series, pd.DataFrame]:
    """One null cycle of a family (additive noise, else multiplicative): the calendar
    is there, nothing has any effect."""
    rng = np.random.default_rng(seed)
    events = campaigns(rng)
    sigma = scenario.NOISE_SIGMA
    if family == "additive":
        values = LOAD + rng.normal(0.0, sigma * LOAD.mean(), len(HOURS))
    else:
        values = LOAD * rng.lognormal(-(sigma**2) / 2, sigma, len(HOURS))
    return pd.Series(values, index=HOURS), events


def anomalies(found: list) -> list:
    return [f for f in found if f.kind == "anomaly"]


def test_event_hours_marks_each_window_and_the_first_event_wins() -> None:
    t = pd.date_range("2026-05-01", periods=8, freq="h")
    events = pd.DataFrame(
        {"start": [t[1], t[2], t[6]], "end": [t[4], t[6], pd.Timestamp("2026-05-01 06:30")]}
    )
    assert event_hours(t, events).tolist() == [-1, 0, 0, 0, 1, 1, 2, -1]


def test_cycle_p_value_is_the_sidak_bound_of_the_largest_hour() -> None:
    z = np.array([4.0, -4.0, np.nan])
    point = 2 * stats.norm.sf(4.0)
    expected = 1 - (1 - point) ** 2000
    assert cycle_p_values(z, 2000)[:2] == pytest.approx([expected, expected])
    assert np.isnan(cycle_p_values(z, 2000)[2])


@pytest.mark.parametrize(("family", "power"), [("multiplicative", 0.0), ("additive", 1.0)])
def test_the_spread_picks_log_for_multiplicative_noise_and_none_for_additive(
    family: str, power: float
) -> None:
    series, events = null_cycle(family, 7)
    assert expected_level(series, events).attrs["power"] == power


def test_the_expected_level_is_learned_without_the_campaigns() -> None:
    """Campaigns lift load by 40 %; the expected level stays the campaign-free one."""
    series, events = null_cycle("multiplicative", 3)
    inside = event_hours(HOURS, events) >= 0
    lifted = series.where(~inside, series * 1.4)
    fit = expected_level(lifted, events)
    ratio = fit["expected"].to_numpy() / LOAD
    assert np.median(np.abs(ratio[inside] - 1)) < 0.03
    # the Friday evening after a campaign is not a drop: nothing outside events is far out
    assert np.nanmax(np.abs(fit["z"].to_numpy()[~inside])) < 4.5


def test_a_campaign_on_the_data_is_attributed_to_it_not_an_anomaly() -> None:
    series, events = null_cycle("multiplicative", 11)
    inside = event_hours(HOURS, events)
    lifted = series.where(inside < 0, series * 1.4)
    found = event_anomalies(lifted, events, metric="load", unit="requests")
    assert anomalies(found) == []
    [explained] = [f for f in found if f.kind == "event_episode"]
    listed = explained.evidence["episodes"]
    assert {e["event_id"] for e in listed} == set(events["event_id"])
    assert {e["event_name"] for e in listed} == set(events["name"])
    assert explained.evidence["event_kind"] == "calendar"
    assert explained.p_value is not None and explained.p_value < 0.05
    assert "attributed to those events" in explained.statement


def test_a_load_drop_on_one_day_outside_events_is_found_where_it_is() -> None:
    series, events = null_cycle("multiplicative", 5)
    day = pd.Timestamp("2026-05-20")  # a Wednesday without campaign
    on_day = (HOURS >= day) & (HOURS < day + pd.Timedelta("1D"))  # noqa: SIM300
    assert (event_hours(HOURS, events)[on_day] < 0).all()
    dropped = series.where(~on_day, series * 0.6)
    [f, *_] = anomalies(event_anomalies(dropped, events, metric="load", unit="requests"))
    start, end = pd.Timestamp(f.evidence["start"]), pd.Timestamp(f.evidence["end"])
    assert day <= start <= day + pd.Timedelta("3h")
    assert day + pd.Timedelta("20h") <= end < day + pd.Timedelta("1D")
    assert f.effect < 0 and f.ci_low <= f.effect <= f.ci_high
    assert f.p_value < 1e-6
    assert "fell to" in f.statement and "expected by chance" in f.statement


def test_an_episode_is_sized_by_its_mean_over_its_hours_and_the_interval_holds_it() -> None:
    """A 40 % drop over 15 hours on 30 seeds: the effect is the mean of value minus
    expected over the episode's hours, and its interval holds the mean planted drop over
    those hours in at least 25 of 30 seeds (a 95 % interval falls below that with
    chance < 1 %). Measured: 30 of 30; sized by its peak hour, as before, 21 of 30 (the
    peak is the hour where the noise added most)."""
    assert stats.binom.cdf(24, 30, 0.95) < 0.01
    held = 0
    for seed in range(30):
        series, events = null_cycle("multiplicative", 100 + seed)
        day = pd.Timestamp("2026-05-20")  # a Wednesday without campaign
        hit = (HOURS >= day + pd.Timedelta("8h")) & (HOURS < day + pd.Timedelta("23h"))  # noqa: SIM300
        dropped = series.where(~hit, series * 0.6)
        [f, *_] = anomalies(event_anomalies(dropped, events, metric="load", unit="requests"))
        hours = pd.date_range(f.evidence["start"], f.evidence["end"], freq="h")
        truth = float((dropped - series)[hours].mean())
        value = float(dropped[hours].mean())
        assert f.evidence["mean_value"] == pytest.approx(value)
        assert f.effect == pytest.approx(value - f.evidence["mean_expected"])
        assert f"fell to a mean of {value:,.0f}" in f.statement.replace("\u202f", ",")
        held += f.ci_low <= truth <= f.ci_high
    assert held >= 25, held


def test_a_latency_spike_outside_events_is_found_at_its_hours() -> None:
    rng = np.random.default_rng(21)
    latency = pd.Series(
        scenario.LATENCY_BASE_MS * rng.lognormal(0, scenario.LATENCY_NOISE_SIGMA, len(HOURS)),
        index=HOURS,
    )
    events = campaigns(rng)
    spike = (HOURS >= "2026-06-10 14:00") & (HOURS <= "2026-06-10 16:00")
    latency[spike] *= 1.6
    found = anomalies(event_anomalies(latency, events, metric="p95 latency", unit="ms"))
    assert len(found) == 1
    assert found[0].evidence["start"] == "2026-06-10T14:00:00"
    assert found[0].evidence["end"] == "2026-06-10T16:00:00"
    assert found[0].effect > 0


def test_a_null_cycle_reports_no_anomaly_and_says_why() -> None:
    series, _ = null_cycle("multiplicative", 0)
    [f] = event_anomalies(series, None, metric="load", unit="requests")
    assert f.kind == "no_finding" and f.evidence["reason"] == "no_anomalies"


def test_too_little_data_outside_events_is_a_reason_not_an_error() -> None:
    series, events = null_cycle("multiplicative", 0)
    [f] = event_anomalies(series.iloc[: 24 * 14], events, metric="load", unit="requests")
    assert f.evidence["reason"] == "too_short"


def test_an_events_table_without_its_columns_is_refused() -> None:
    series, events = null_cycle("multiplicative", 0)
    with pytest.raises(ValueError, match="event_id"):
        event_anomalies(series, events.drop(columns="event_id"), metric="load", unit="x")


FAMILIES = ("multiplicative", "additive", "campaigns_not_given")


@pytest.mark.slow
def test_false_episodes_on_null_cycles_stay_near_alpha() -> None:
    """170 null cycles per family, 510 in all. A cycle counts when it reports any
    episode, anomaly or event episode (the campaigns have no effect). At most 39 of 510
    (tests/calibration.py: a 5 % method exceeds that with chance under 0.005, a 10 % one is
    caught with probability 0.96; 300 cycles and 22 caught it 93 % of the time; the old
    detector fired on every null cycle), and at most 17 of 170 in each family (a 5 % method
    exceeds that with chance 0.002). Measured: 2, 2 and 1 of 170 (1 %: conservative), 25 s."""
    per_family = 170
    bound, family_bound = null_bound(3 * per_family, 0.05), null_bound(per_family, 0.05)
    assert (bound, family_bound) == (39, 17)
    assert power_at_double(3 * per_family, 0.05, bound) > 0.95
    fired = dict.fromkeys(FAMILIES, 0)
    for family in FAMILIES:
        for seed in range(per_family):
            series, events = null_cycle(family, seed)
            given = None if family == "campaigns_not_given" else events
            found = event_anomalies(series, given, metric="load", unit="requests", alpha=0.05)
            fired[family] += any(f.kind in ("anomaly", "event_episode") for f in found)
    print(f"\nnull cycles that fired, of {per_family} per family: {fired}")
    assert sum(fired.values()) <= bound, fired
    assert max(fired.values()) <= family_bound, fired
