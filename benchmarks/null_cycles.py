"""Cycles of synthetic data for `bench_false_alarms.py`: null cycles and planted effects.

A cycle is the canonical tables step 4 would write for the demo's first cycle
(2026 Q2, UTC hours): ``monitoring``, ``incidents``, ``outages``, ``campaigns``
and ``changes``. Three **null families** carry the demo's shapes but no effect of
anything:

* ``additive``: the demo's weekday × hour load profile plus Gaussian noise of one
  spread for every hour (6 % of the mean hour); flat latency and error rate with
  additive noise;
* ``multiplicative``: the same profile times mean-one lognormal noise (σ = 0.06,
  as the demo), so the spread grows with the hour's level; latency and error rate
  lognormal around flat levels;
* ``calendar``: ``multiplicative`` plus a campaign calendar (the demo's draw, 7
  campaigns of 48 h) and a change calendar (60 changes) whose events change nothing.

In every family tickets open as a Poisson process (10 a day on the load profile's
shape), each a copy of a random demo ticket moved in time, with ``made_sla``
shuffled across tickets (no group, category or priority holds more breaches than
chance); outages (Poisson, 16 a cycle) fall at random hours.

**Planted effects** (:data:`PLANTS`), none of which the demo uses, each on the
``calendar`` family: a latency knee at 60 % utilisation, a step in daily incidents
(+50 % from 20 May), a jump in MTTR (resolution times × 1.6 from 13 May), an error
rate raised by 50 % only during campaigns, and load halved on one day (the first from
13 May that no campaign or change window touches,
08–22 h). Each returns the truth to check the reported location and size against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.demo import scenario as sc
from csi_helpers.demo.monitoring import campaign_hours, draw_campaigns, weekday_hour_profile

FAMILIES = ("additive", "multiplicative", "calendar")
START = pd.Timestamp("2026-04-01", tz="UTC")
END = pd.Timestamp("2026-07-01", tz="UTC")
DAILY_LOAD = sc.TREND_BASELINE_PER_DAY  # requests on a mean day (no trend: null)
CAPACITY = float(sc.CAPACITY_CYCLE1_RPH)
INCIDENTS_PER_DAY = 10.0
STEP_DATE = pd.Timestamp("2026-05-20", tz="UTC")
STEP_FACTOR = 1.5
MTTR_DATE = pd.Timestamp("2026-05-13", tz="UTC")
MTTR_FACTOR = 1.6
KNEE = 0.60
KNEE_CAPACITY = 25_000.0  # so the busiest hours reach about 75 % utilisation
CAMPAIGN_ERROR_FACTOR = 1.5
DROP_DAY = pd.Timestamp("2026-05-13", tz="UTC")
DROP_HOURS = (8, 22)  # first and last hour of the drop, inclusive
DROP_FACTOR = 0.5
TIME_COLUMNS = ("acknowledged_at", "assigned_at", "resolved_at", "closed_at")


@dataclass
class Cycle:
    """The canonical tables of one synthetic cycle and the truth planted in it."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any] = field(default_factory=dict)


def hours() -> pd.DatetimeIndex:
    """The UTC hours of the cycle."""
    return pd.date_range(START, END, freq="h", inclusive="left")


def null_cycle(family: str, seed: int, templates: dict[str, pd.DataFrame]) -> Cycle:
    """One null cycle of ``family``, its tables typed like the template run's.

    Args:
        family: One of :data:`FAMILIES`.
        seed: Seed of this cycle's draws.
        templates: The template run's canonical tables (types, tickets to copy).

    Returns:
        The cycle, with no truth.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    rng = np.random.default_rng(seed)
    index = hours()
    events = family == "calendar"
    campaigns = _campaigns(rng) if events else templates["campaigns"].iloc[:0]
    changes = (
        _changes(rng, index, templates["changes"]) if events else templates["changes"].iloc[:0]
    )
    monitoring = _monitoring(rng, index, additive=family == "additive")
    tables = {
        "monitoring": monitoring,
        "incidents": _incidents(rng, index, templates["incidents"], rate=_ticket_rate(index)),
        "outages": _outages(rng, index, templates["outages"]),
        "campaigns": campaigns,
        "changes": changes,
        "csat": templates["csat"],  # surveys as the demo's: step 5 tests nothing on them
    }
    return Cycle({name: _typed(t, templates[name]) for name, t in tables.items()})


def _profile(index: pd.DatetimeIndex) -> np.ndarray:
    """The demo's share of a mean day in each hour (Friday evening peak included)."""
    return weekday_hour_profile()[index.day_of_week, index.hour]


def _monitoring(
    rng: np.random.Generator, index: pd.DatetimeIndex, *, additive: bool
) -> pd.DataFrame:
    expected = DAILY_LOAD * _profile(index)
    n = len(index)
    if additive:
        requests = expected + rng.normal(0.0, sc.NOISE_SIGMA * expected.mean(), n)
        latency = sc.LATENCY_BASE_MS + rng.normal(0.0, sc.LATENCY_BASE_MS * 0.04, n)
        errors = sc.ERROR_RATE_BASE + rng.normal(0.0, sc.ERROR_RATE_BASE * 0.1, n)
    else:
        requests = expected * _lognormal(rng, sc.NOISE_SIGMA, n)
        latency = sc.LATENCY_BASE_MS * _lognormal(rng, sc.LATENCY_NOISE_SIGMA, n)
        errors = sc.ERROR_RATE_BASE * _lognormal(rng, sc.ERROR_NOISE_SIGMA, n)
    requests = np.rint(np.clip(requests, 0, None))
    return pd.DataFrame(
        {
            "timestamp": index,
            "service": sc.SERVICE_ID,
            "requests": requests,
            "capacity": CAPACITY,
            "utilisation": np.round(requests / CAPACITY, 4),
            "latency_ms": np.nan,
            "latency_p95_ms": np.round(latency, 1),
            "error_rate": np.round(np.clip(errors, 0, 1), 5),
            "up": pd.NA,
        }
    )


def _lognormal(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(-(sigma**2) / 2, sigma, n)


def _ticket_rate(index: pd.DatetimeIndex) -> np.ndarray:
    """Expected incidents opened per hour: the daily rate on the load profile's shape."""
    return INCIDENTS_PER_DAY * _profile(index)


def _incidents(
    rng: np.random.Generator, index: pd.DatetimeIndex, template: pd.DataFrame, *, rate: np.ndarray
) -> pd.DataFrame:
    """Demo tickets moved to Poisson opening times, ``made_sla`` shuffled.

    Only resolved demo tickets are copied: a copy of a ticket still open at the demo
    data's end would never be resolved wherever it lands, and the copies would pile
    up into a backlog that grows through the cycle (a true trend, not a null).
    """
    template = template[template["resolved_at"].notna()]
    counts = rng.poisson(rate)
    hour = np.repeat(index.to_numpy(), counts)
    opened = pd.DatetimeIndex(hour).tz_localize(None).tz_localize("UTC") + pd.to_timedelta(
        rng.uniform(0, 3600, len(hour)), unit="s"
    ).round("s")
    rows = template.iloc[rng.integers(0, len(template), len(hour))].reset_index(drop=True)
    delta = opened - pd.DatetimeIndex(rows["opened_at"])
    rows["opened_at"] = opened
    for column in TIME_COLUMNS:
        rows[column] = rows[column] + delta
    rows["ticket_id"] = [f"INC{i + 1:07d}" for i in range(len(rows))]
    rows["made_sla"] = rng.permutation(rows["made_sla"].to_numpy())
    rows["caused_by"] = pd.NA
    return rows


def _outages(
    rng: np.random.Generator, index: pd.DatetimeIndex, template: pd.DataFrame
) -> pd.DataFrame:
    n = rng.poisson(sc.OUTAGES_CYCLE1)
    start = pd.DatetimeIndex(rng.choice(index, n, replace=False)).sort_values()
    start = start + pd.to_timedelta(rng.integers(0, 60, n), unit="min")
    return pd.DataFrame(
        {
            "outage_id": [f"OUT-{i + 1:03d}" for i in range(n)],
            "service": sc.SERVICE_ID,
            "start": start,
            "end": start + pd.to_timedelta(rng.uniform(10, 50, n).round(), unit="min"),
            "cause": "random outage (null data)",
            "ticket_id": pd.NA,
        }
    )


def _campaigns(rng: np.random.Generator) -> pd.DataFrame:
    """The demo's campaign draw for the first cycle, as the canonical calendar table."""
    drawn = draw_campaigns(rng).head(sc.CAMPAIGNS_PER_CYCLE)
    return pd.DataFrame(
        {
            "event_id": drawn["campaign_id"],
            "name": drawn["name"],
            "start": drawn["start"].dt.tz_localize("UTC"),
            "end": drawn["end"].dt.tz_localize("UTC"),
        }
    )


def _changes(
    rng: np.random.Generator, index: pd.DatetimeIndex, template: pd.DataFrame
) -> pd.DataFrame:
    n = 60
    working = index[(index.day_of_week < 5) & (index.hour >= 8) & (index.hour < 18)]
    planned = pd.DatetimeIndex(rng.choice(working, n, replace=False)).sort_values()
    length = pd.to_timedelta(rng.integers(30, 180, n), unit="min")
    late = pd.to_timedelta(rng.integers(0, 20, n), unit="min")
    return pd.DataFrame(
        {
            "change_id": [f"CHG{i + 1:07d}" for i in range(n)],
            "type": rng.choice(["Normal", "Standard"], n),
            "planned_start": planned,
            "planned_end": planned + length,
            "actual_start": planned + late,
            "actual_end": planned + late + length,
            "outcome": "Successful",
            "service": pd.NA,
        }
    )


def _typed(frame: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the template table's columns and types."""
    out = frame.reindex(columns=template.columns)
    return out.astype(template.dtypes.to_dict()).reset_index(drop=True)


# ------------------------------------------------------------------ planted effects
def knee(cycle: Cycle, rng: np.random.Generator) -> None:
    """Latency rises above 60 % utilisation (×(1 + 10 × excess), as the demo's knee at 75 %)."""
    mon = cycle.tables["monitoring"]
    util = (mon["requests"] / KNEE_CAPACITY).astype(float)
    lat = sc.LATENCY_BASE_MS * (1 + sc.LATENCY_SLOPE * np.clip(util - KNEE, 0, None))
    lat = lat * _lognormal(rng, sc.LATENCY_NOISE_SIGMA, len(mon))
    cycle.tables["monitoring"] = mon.assign(
        capacity=KNEE_CAPACITY, utilisation=util.round(4), latency_p95_ms=lat.round(1)
    ).astype(mon.dtypes.to_dict())
    slope = sc.LATENCY_BASE_MS * sc.LATENCY_SLOPE / 100  # ms per utilisation point
    cycle.truth = {"location": KNEE, "size": slope}


def incident_step(cycle: Cycle, rng: np.random.Generator) -> None:
    """Incidents open 50 % more often from 20 May."""
    index = hours()
    rate = _ticket_rate(index) * np.where(index >= STEP_DATE, STEP_FACTOR, 1.0)
    template = cycle.tables["incidents"]
    fresh = _incidents(rng, index, template, rate=rate)
    cycle.tables["incidents"] = _typed(fresh, template)
    cycle.truth = {"location": STEP_DATE, "size": INCIDENTS_PER_DAY * (STEP_FACTOR - 1)}


def mttr_jump(cycle: Cycle, rng: np.random.Generator) -> None:
    """Tickets opened from 13 May take 1.6 times as long to resolve."""
    t = cycle.tables["incidents"].copy()
    late = t["opened_at"] >= MTTR_DATE
    extra = (t["resolved_at"] - t["opened_at"]) * (MTTR_FACTOR - 1)
    before = (t.loc[~late, "resolved_at"] - t.loc[~late, "opened_at"]).mean()
    for column in ("resolved_at", "closed_at"):
        t.loc[late, column] = t.loc[late, column] + extra[late]
    cycle.tables["incidents"] = t
    hours_before = before / pd.Timedelta(hours=1)
    cycle.truth = {
        "location": MTTR_DATE,
        "size": hours_before * (MTTR_FACTOR - 1),
        "relative": MTTR_FACTOR - 1,
    }


def campaign_errors(cycle: Cycle, rng: np.random.Generator) -> None:
    """The error rate is 50 % higher during campaigns, and only then."""
    mon = cycle.tables["monitoring"]
    cal = cycle.tables["campaigns"]
    plain = pd.DataFrame(
        {"start": cal["start"].dt.tz_localize(None), "end": cal["end"].dt.tz_localize(None)}
    )
    active = campaign_hours(pd.DatetimeIndex(mon["timestamp"]).tz_localize(None), plain)
    factor = np.where(active, CAMPAIGN_ERROR_FACTOR, 1.0)
    cycle.tables["monitoring"] = mon.assign(
        error_rate=(mon["error_rate"].astype(float) * factor).round(5)
    ).astype(mon.dtypes.to_dict())
    cycle.truth = {"location": "campaigns", "size": CAMPAIGN_ERROR_FACTOR - 1}


def _quiet_day(cycle: Cycle, stamp: pd.DatetimeIndex) -> pd.Timestamp:
    """The first day from :data:`DROP_DAY` whose drop hours no known event touches.

    Step 5 attributes an episode inside a campaign, or a change and the day after it,
    to that event; the calendar family has a change on most working days, so a drop on
    a fixed day would mostly test the attribution, not the detection.
    """
    changes = cycle.tables["changes"]
    start = changes["actual_start"].fillna(changes["planned_start"])
    windows = [(s, s + pd.Timedelta(hours=24) + pd.Timedelta(hours=4)) for s in start]
    campaigns = cycle.tables["campaigns"]
    windows += list(zip(campaigns["start"], campaigns["end"], strict=True))
    first, last = DROP_HOURS
    for day in pd.date_range(DROP_DAY, stamp.max().normalize(), freq="D"):
        lo, hi = day + pd.Timedelta(hours=first), day + pd.Timedelta(hours=last + 1)
        if not any(s < hi and e > lo for s, e in windows if pd.notna(s)):
            return day
    return DROP_DAY


def load_drop(cycle: Cycle, rng: np.random.Generator) -> None:
    """Load halves from 08:00 to 22:59 on the first day from 13 May free of known events."""
    mon = cycle.tables["monitoring"]
    stamp = pd.DatetimeIndex(mon["timestamp"])
    first, last = DROP_HOURS
    day = _quiet_day(cycle, stamp)
    hit = (stamp.normalize() == day) & (stamp.hour >= first) & (stamp.hour <= last)
    before = mon["requests"].astype(float)
    after = np.where(hit, np.rint(before * DROP_FACTOR), before)
    cycle.tables["monitoring"] = mon.assign(
        requests=after, utilisation=np.round(after / CAPACITY, 4)
    ).astype(mon.dtypes.to_dict())
    drop = pd.Series(after - before.to_numpy(), index=stamp)
    cycle.truth = {
        "location": (day + pd.Timedelta(hours=first), day + pd.Timedelta(hours=last + 1)),
        "size": drop[hit].to_dict(),
    }


#: Planted effect → (how to plant it on a ``calendar`` null cycle, what finds it).
PLANTS = {
    "latency knee at 60 % utilisation": knee,
    "step in daily incidents (+50 %)": incident_step,
    "MTTR jump (×1.6)": mttr_jump,
    "error rate +50 % during campaigns": campaign_errors,
    "load halved on one day": load_drop,
}


def planted_cycle(plant: str, seed: int, templates: dict[str, pd.DataFrame]) -> Cycle:
    """A ``calendar`` null cycle with one effect of :data:`PLANTS` planted."""
    cycle = null_cycle("calendar", seed, templates)
    PLANTS[plant](cycle, np.random.default_rng([seed, 1]))
    return cycle
