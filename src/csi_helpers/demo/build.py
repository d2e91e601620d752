"""Assemble the demo tables for a seed and read the realised truths off them.

Each family draws from its own child stream of ``numpy.random.default_rng(seed)``,
so a change to how tickets are drawn leaves the monitoring data untouched.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.demo import scenario as sc
from csi_helpers.demo.changes import UPGRADE_DESCRIPTION, draw_changes
from csi_helpers.demo.monitoring import draw_campaigns, hourly_load, service_health
from csi_helpers.demo.outages import draw_outages
from csi_helpers.demo.surveys import draw_surveys
from csi_helpers.demo.tickets import draw_incidents
from csi_helpers.errors import DataError

_STREAMS = ("campaigns", "load", "outages", "health", "changes", "incidents", "surveys")


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(
            f"demo seed: expected a non-negative whole number, got {seed!r}; "
            f"set `seed` (for example to {sc.DEFAULT_SEED})"
        )
    return int(seed)


def build_tables(*, seed: int = sc.DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Draw every demo table for ``seed`` (in memory, typed columns, UTC-naive times).

    Returns a dict with ``monitoring``, ``campaigns``, ``outages``, ``incidents``,
    ``csat`` and ``changes``. Outages and incidents carry a few helper columns
    (such as ``group``) that are not written to the CSV files.

    Example:
        >>> tables = build_tables(seed=1)
        >>> sorted(tables)
        ['campaigns', 'changes', 'csat', 'incidents', 'monitoring', 'outages']
        >>> len(tables["monitoring"])
        4392
    """
    seed = _check_seed(seed)
    rng = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS)), strict=True))
    campaigns = draw_campaigns(rng["campaigns"])
    load = hourly_load(campaigns, rng["load"])
    outages = draw_outages(load, rng["outages"])
    monitoring = service_health(load, rng["health"])
    changes = draw_changes(rng["changes"])
    incidents, outages = draw_incidents(monitoring, outages, changes, rng["incidents"])
    return {
        "monitoring": monitoring,
        "campaigns": campaigns,
        "outages": outages,
        "incidents": incidents,
        "csat": draw_surveys(incidents, rng["surveys"]),
        "changes": changes,
    }


def _share(part: float, whole: float) -> float:
    return round(float(part) / float(whole), 4) if whole else 0.0


def _realised(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The figures that depend on the draw, read off the tables."""
    mon, camp, down = tables["monitoring"], tables["campaigns"], tables["outages"]
    inc, csat, chg = tables["incidents"], tables["csat"], tables["changes"]
    mon_cycle, camp_cycle = sc.cycle_of(mon["timestamp"]), sc.cycle_of(camp["start"])
    down_cycle, inc_cycle = sc.cycle_of(down["start"]), sc.cycle_of(inc["opened_at"])
    hours = {c: int((mon_cycle == c).sum()) for c in (1, 2)}
    minutes = {c: round(float(down.loc[down_cycle == c, "duration_min"].sum()), 1) for c in (1, 2)}
    first, last = sc.OUTAGE_PEAK_WINDOW
    in_peak = (down["start"].dt.hour >= first) & (down["start"].dt.hour < last)
    friday_5pm = (camp["start"].dt.day_of_week == 4) & (camp["start"].dt.hour == 17)
    breaches = inc.loc[~inc["made_sla"], "assignment_group"].value_counts()
    worst = str(breaches.index[0])
    made = csat["incident_number"].map(inc.set_index("number")["made_sla"]).astype(bool)
    answered = csat["score"].notna()
    util = mon["utilisation"]
    return {
        "hours_cycle1": hours[1],
        "hours_cycle2": hours[2],
        "campaigns_cycle1": int((camp_cycle == 1).sum()),
        "campaigns_cycle2": int((camp_cycle == 2).sum()),
        "campaigns_friday_evening_cycle1": int((friday_5pm & (camp_cycle == 1)).sum()),
        "capacity_upgrade_change": str(
            chg.loc[chg["short_description"] == UPGRADE_DESCRIPTION, "number"].iloc[0]
        ),
        "peak_utilisation_cycle1": float(util[mon_cycle == 1].max()),
        "peak_utilisation_cycle2": float(util[mon_cycle == 2].max()),
        "hours_above_threshold_cycle1": int(
            ((mon_cycle == 1) & (util > sc.UTILISATION_THRESHOLD)).sum()
        ),
        "hours_above_threshold_cycle2": int(
            ((mon_cycle == 2) & (util > sc.UTILISATION_THRESHOLD)).sum()
        ),
        "outages_cycle1": int((down_cycle == 1).sum()),
        "outages_cycle2": int((down_cycle == 2).sum()),
        "outage_minutes_cycle1": minutes[1],
        "outage_minutes_cycle2": minutes[2],
        "outage_minutes_ratio": round(minutes[2] / minutes[1], 6),
        "availability_pct_cycle1": round(100 * (1 - minutes[1] / (hours[1] * 60)), 4),
        "availability_pct_cycle2": round(100 * (1 - minutes[2] / (hours[2] * 60)), 4),
        "outage_minutes_share_peak_window": _share(
            down.loc[in_peak, "duration_min"].sum(), down["duration_min"].sum()
        ),
        "incidents_total": len(inc),
        "incidents_cycle1": int((inc_cycle == 1).sum()),
        "incidents_cycle2": int((inc_cycle == 2).sum()),
        "incidents_open_at_end": int(inc["resolved_at"].isna().sum()),
        "sla_compliance_cycle1": round(float(inc.loc[inc_cycle == 1, "made_sla"].mean()), 4),
        "sla_compliance_cycle2": round(float(inc.loc[inc_cycle == 2, "made_sla"].mean()), 4),
        "worst_sla_group": worst,
        "worst_group_breach_share": _share(breaches.iloc[0], breaches.sum()),
        "worst_group_ticket_share": _share((inc["assignment_group"] == worst).sum(), len(inc)),
        "reassigned_share": _share((inc["reassignment_count"] > 0).sum(), len(inc)),
        "reopened_share": _share((inc["reopen_count"] > 0).sum(), len(inc)),
        "incidents_caused_by_changes": int((inc["caused_by"] != "").sum()),
        "csat_surveys": len(csat),
        "csat_response_rate": _share(answered.sum(), len(csat)),
        "csat_mean_score_sla_met": round(float(csat.loc[answered & made, "score"].mean()), 4),
        "csat_mean_score_sla_breached": round(float(csat.loc[answered & ~made, "score"].mean()), 4),
        "changes_total": len(chg),
        "changes_failed_or_backed_out": int((chg["outcome"] != "Successful").sum()),
    }


def truths_from_tables(tables: dict[str, pd.DataFrame], *, seed: int) -> sc.PlantedTruths:
    """Combine the planted constants with the figures realised in ``tables``."""
    return sc.PlantedTruths(
        seed=seed,
        generator_version=sc.GENERATOR_VERSION,
        service_id=sc.SERVICE_ID,
        service_name=sc.SERVICE_NAME,
        cycle1_start=sc.iso_z(sc.CYCLE1_START),
        cycle1_end=sc.iso_z(sc.CYCLE2_START - pd.Timedelta(hours=1)),
        cycle2_start=sc.iso_z(sc.CYCLE2_START),
        cycle2_end=sc.iso_z(sc.DATA_END - pd.Timedelta(hours=1)),
        trend_baseline_requests_per_day=sc.TREND_BASELINE_PER_DAY,
        trend_slope_requests_per_day_per_day=sc.TREND_SLOPE_PER_DAY,
        noise_sigma=sc.NOISE_SIGMA,
        weekly_factors=dict(zip(sc.WEEKDAY_NAMES, sc.WEEKLY_FACTORS, strict=True)),
        evening_peak_hours=sc.EVENING_PEAK_HOURS,
        friday_evening_factor=sc.FRIDAY_EVENING_FACTOR,
        campaign_uplift=sc.CAMPAIGN_UPLIFT,
        campaign_window_hours=sc.CAMPAIGN_WINDOW_HOURS,
        campaigns_staggered_from=f"{sc.CYCLE2_START:%Y-%m-%d}",
        capacity_cycle1_rph=sc.CAPACITY_CYCLE1_RPH,
        capacity_cycle2_rph=sc.CAPACITY_CYCLE2_RPH,
        capacity_change_at=sc.iso_z(sc.CYCLE2_START),
        utilisation_threshold=sc.UTILISATION_THRESHOLD,
        latency_base_ms=sc.LATENCY_BASE_MS,
        latency_slope_per_utilisation=sc.LATENCY_SLOPE,
        latency_noise_sigma=sc.LATENCY_NOISE_SIGMA,
        error_rate_base=sc.ERROR_RATE_BASE,
        error_rate_slope_per_utilisation=sc.ERROR_RATE_SLOPE,
        outage_peak_window=sc.OUTAGE_PEAK_WINDOW,
        sla_target_hours=dict(sc.SLA_TARGET_HOURS),
        **_realised(tables),
    )


@lru_cache(maxsize=8)
def _cached_truths(seed: int) -> sc.PlantedTruths:
    return truths_from_tables(build_tables(seed=seed), seed=seed)


def planted_truths(*, seed: int = sc.DEFAULT_SEED) -> sc.PlantedTruths:
    """Return every planted truth for ``seed``, realised figures included.

    The result is frozen and cached per seed, so repeated calls are free.

    Example:
        >>> truths = planted_truths()
        >>> truths.campaign_uplift, truths.capacity_cycle2_rph / truths.capacity_cycle1_rph
        (0.4, 2.0)
        >>> abs(truths.outage_minutes_ratio - 0.5) <= 0.005
        True
    """
    return _cached_truths(_check_seed(seed))
