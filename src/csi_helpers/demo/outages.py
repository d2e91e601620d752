"""Downtime records: outages drawn towards busy hours, cycle 2 at half the minutes.

Outage starts are drawn hour by hour with a chance proportional to
``utilisation ** OUTAGE_LOAD_EXPONENT``, so most fall in the evening peak. The
cycle-2 durations are rescaled so that its total is exactly ``DOWNTIME_RATIO``
of cycle 1 (to the tenth of a minute, the resolution durations are held at).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csi_helpers.demo import scenario as sc

# (cause, assignment group); load-driven causes apply when the start hour is past the threshold.
LOAD_CAUSES = (
    ("Web tier saturated: connection pool exhausted", "Web Platform"),
    ("Checkout service out of memory under load", "Web Platform"),
    ("Database connection limit reached", "Database"),
)
OTHER_CAUSES = (
    ("Payment gateway unreachable", "Payments"),
    ("Load balancer health-check failure", "Network"),
    ("CDN configuration error", "Network"),
    ("Database failover", "Database"),
    ("Application crash after cache flush", "Web Platform"),
)
_MIN_GAP_HOURS = 6  # no two outages start within this many hours of each other
_TAIL_HOURS = 4  # no outage starts in the last hours of a cycle, so none spills over


def _pick_start_hours(utilisation: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``count`` hour positions, weighted by load, at least the minimum gap apart."""
    weights = np.power(utilisation, sc.OUTAGE_LOAD_EXPONENT)
    weights[-_TAIL_HOURS:] = 0.0
    chosen: list[int] = []
    for _ in range(count):
        pos = int(rng.choice(len(weights), p=weights / weights.sum()))
        chosen.append(pos)
        weights[max(0, pos - _MIN_GAP_HOURS) : pos + _MIN_GAP_HOURS + 1] = 0.0
    return np.sort(np.asarray(chosen))


def _durations_tenths(count: int, rng: np.random.Generator) -> np.ndarray:
    """Outage durations in tenths of a minute: lognormal, median 16 min, 3-150 min."""
    minutes = np.clip(rng.lognormal(np.log(sc.OUTAGE_MEDIAN_MIN), 0.55, size=count), 3.0, 150.0)
    return np.rint(minutes * 10).astype(np.int64)


def _rescale_tenths(tenths: np.ndarray, total: int) -> np.ndarray:
    """Scale durations to sum exactly to ``total`` tenths; the rounding rest goes to the longest.

    Example:
        >>> _rescale_tenths(np.array([100, 300]), 200).tolist()
        [50, 150]
    """
    scaled = np.rint(tenths * (total / tenths.sum())).astype(np.int64)
    scaled[int(np.argmax(scaled))] += total - int(scaled.sum())
    return scaled


def draw_outages(load: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw the outages of both cycles from the hourly load.

    Returns one row per outage, ordered by start, with ``incident_number``
    left empty (the ticket module fills it in).

    Example:
        >>> from csi_helpers.demo.monitoring import draw_campaigns, hourly_load
        >>> rng = np.random.default_rng(5)
        >>> load = hourly_load(draw_campaigns(rng), rng)
        >>> down = draw_outages(load, rng)
        >>> by_cycle = down.groupby(sc.cycle_of(down["start"]))["duration_min"].sum()
        >>> round(float(by_cycle[2] / by_cycle[1]), 3)
        0.5
    """
    cycle = sc.cycle_of(load["timestamp"])
    counts = {1: sc.OUTAGES_CYCLE1, 2: sc.OUTAGES_CYCLE2}
    frames = []
    total1 = 0
    for number in (1, 2):
        hours = load.loc[cycle == number].reset_index(drop=True)
        pos = _pick_start_hours(hours["utilisation"].to_numpy(dtype=float), counts[number], rng)
        tenths = _durations_tenths(len(pos), rng)
        if number == 1:
            total1 = int(tenths.sum())
        else:
            tenths = _rescale_tenths(tenths, round(total1 * sc.DOWNTIME_RATIO))
        minute = rng.integers(0, 60, size=len(pos))
        start = pd.DatetimeIndex(hours["timestamp"].iloc[pos]) + pd.to_timedelta(minute, "min")
        loaded = hours["utilisation"].to_numpy()[pos] > sc.UTILISATION_THRESHOLD
        load_pick = rng.integers(0, len(LOAD_CAUSES), size=len(pos))
        other_pick = rng.integers(0, len(OTHER_CAUSES), size=len(pos))
        causes = [
            LOAD_CAUSES[a] if hot else OTHER_CAUSES[b]
            for hot, a, b in zip(loaded, load_pick, other_pick, strict=True)
        ]
        frames.append(
            pd.DataFrame(
                {
                    "start": start.as_unit("s"),
                    "end": (start + pd.to_timedelta(tenths * 6, "s")).as_unit("s"),
                    "duration_min": tenths / 10,
                    "cause": [cause for cause, _ in causes],
                    "group": [group for _, group in causes],
                }
            )
        )
    outages = pd.concat(frames, ignore_index=True)
    outages.insert(0, "outage_id", [f"OUT-{i + 1:03d}" for i in range(len(outages))])
    outages.insert(1, "service", sc.SERVICE_ID)
    outages["incident_number"] = ""
    return outages
