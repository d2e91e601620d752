"""Hourly monitoring: the campaign calendar, request volume, latency and errors.

Request volume is planted as ``trend x weekday-hour profile x campaign uplift x
noise``; latency and error rate are flat up to the utilisation threshold and
rise linearly above it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csi_helpers.demo import scenario as sc

_THEMES = (
    "Spring sale", "Easter weekend deals", "New garden range", "May long weekend",
    "Mother's Day gifts", "Summer preview", "Father's Day gifts", "Mid-year clearance",
    "Summer sale", "Holiday essentials", "Back to school", "Late summer offers",
    "Autumn preview", "Members' week", "Festival season", "September clearance",
)  # fmt: skip


def weekday_hour_profile() -> np.ndarray:
    """Return the 7 x 24 share of a weekly-mean day's requests in each weekday-hour.

    Row ``d`` (Monday = 0) sums to ``WEEKLY_FACTORS[d]``, so the rows average 1
    and the expected daily total is the trend level times the weekday factor.
    Friday 18:00-22:00 carries the extra Friday-evening factor.

    Example:
        >>> profile = weekday_hour_profile()
        >>> profile.shape, round(float(profile.sum()), 6)
        ((7, 24), 7.0)
        >>> divmod(int(profile.argmax()), 24)  # Friday 20:00 is the busiest hour
        (4, 20)
    """
    first, last = sc.EVENING_PEAK_HOURS
    shapes = np.array([sc.WEEKDAY_SHAPE] * 5 + [sc.WEEKEND_SHAPE] * 2, dtype=float)
    shapes[4, first : last + 1] *= sc.FRIDAY_EVENING_FACTOR
    shares = shapes / shapes.sum(axis=1, keepdims=True)
    return shares * np.asarray(sc.WEEKLY_FACTORS)[:, None]


def _campaign_weeks(cycle_start: pd.Timestamp, rng: np.random.Generator) -> pd.DatetimeIndex:
    """Pick the Mondays of the full weeks in a cycle that carry a campaign."""
    first_monday = cycle_start + pd.Timedelta(days=(7 - cycle_start.day_of_week) % 7)
    mondays = pd.date_range(first_monday, periods=12, freq="7D", unit="s")
    chosen = np.sort(rng.choice(len(mondays), size=sc.CAMPAIGNS_PER_CYCLE, replace=False))
    return mondays[chosen]


def draw_campaigns(rng: np.random.Generator) -> pd.DataFrame:
    """Draw the e-mail campaign calendar for both cycles.

    Cycle 1 campaigns mostly go out on Friday at 17:00 (the rest on Monday or
    Thursday at 10:00); cycle 2 campaigns are staggered to Tuesday or Wednesday
    mornings. At most one campaign per week, so windows never overlap.

    Example:
        >>> cal = draw_campaigns(np.random.default_rng(1))
        >>> len(cal), cal["start"].is_monotonic_increasing
        (14, True)
        >>> set(cal.loc[cal["start"] >= "2026-07-01", "start"].dt.day_of_week) <= {1, 2}
        True
    """
    starts: list[pd.Timestamp] = []
    for monday in _campaign_weeks(sc.CYCLE1_START, rng):
        if rng.random() < sc.FRIDAY_SEND_SHARE_CYCLE1:
            offset = pd.Timedelta(days=4, hours=17)
        else:
            offset = pd.Timedelta(days=int(rng.choice([0, 3])), hours=10)
        starts.append(monday + offset)
    for monday in _campaign_weeks(sc.CYCLE2_START, rng):
        starts.append(
            monday + pd.Timedelta(days=int(rng.integers(1, 3)), hours=int(rng.integers(9, 11)))
        )
    start = pd.DatetimeIndex(starts).as_unit("s")
    themes = [_THEMES[i % len(_THEMES)] for i in range(len(start))]
    return pd.DataFrame(
        {
            "campaign_id": [f"CMP-{i + 1:03d}" for i in range(len(start))],
            "name": [f"{theme} {ts:%Y-%m-%d}" for theme, ts in zip(themes, start, strict=True)],
            "channel": "email",
            "start": start,
            "end": start + pd.Timedelta(hours=sc.CAMPAIGN_WINDOW_HOURS),
            "audience_size": rng.integers(180, 420, size=len(start)) * 1_000,
        }
    )


def campaign_hours(index: pd.DatetimeIndex, campaigns: pd.DataFrame) -> np.ndarray:
    """Flag the hours of ``index`` that start inside any campaign window.

    Example:
        >>> idx = pd.date_range("2026-04-03 16:00", periods=3, freq="h")
        >>> cal = pd.DataFrame({"start": [pd.Timestamp("2026-04-03 17:00")],
        ...                     "end": [pd.Timestamp("2026-04-05 17:00")]})
        >>> campaign_hours(idx, cal).tolist()
        [False, True, True]
    """
    values = index.to_numpy()
    active = np.zeros(len(index), dtype=bool)
    for start, end in zip(campaigns["start"], campaigns["end"], strict=True):
        active |= (values >= start.to_datetime64()) & (values < end.to_datetime64())
    return active


def expected_requests(index: pd.DatetimeIndex) -> np.ndarray:
    """Expected requests per hour before campaigns and noise (trend x profile).

    Example:
        >>> idx = pd.date_range("2026-04-01", periods=24, freq="h")
        >>> round(float(expected_requests(idx).sum()))  # Wednesday: 240,000 x 0.96
        230400
    """
    day = np.asarray((index.normalize() - sc.CYCLE1_START).days, dtype=float)
    level = sc.TREND_BASELINE_PER_DAY + sc.TREND_SLOPE_PER_DAY * day
    return level * weekday_hour_profile()[index.day_of_week, index.hour]


def hourly_load(campaigns: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Hourly requests, capacity and utilisation for both cycles.

    Example:
        >>> rng = np.random.default_rng(3)
        >>> load = hourly_load(draw_campaigns(rng), rng)
        >>> load["capacity_rph"].iloc[[0, -1]].tolist()
        [35000, 70000]
    """
    index = sc.hourly_index()
    uplift = np.where(campaign_hours(index, campaigns), 1.0 + sc.CAMPAIGN_UPLIFT, 1.0)
    sigma = sc.NOISE_SIGMA
    noise = rng.lognormal(-(sigma**2) / 2, sigma, size=len(index))
    requests = np.rint(expected_requests(index) * uplift * noise).astype(np.int64)
    capacity = np.where(index < sc.CYCLE2_START, sc.CAPACITY_CYCLE1_RPH, sc.CAPACITY_CYCLE2_RPH)
    return pd.DataFrame(
        {
            "timestamp": index,
            "service": sc.SERVICE_ID,
            "requests": requests,
            "capacity_rph": capacity.astype(np.int64),
            "utilisation": np.round(requests / capacity, 4),
        }
    )


def service_health(load: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Add p95 latency and error rate to the hourly load (a new frame).

    Below the utilisation threshold latency is the base with small noise; above
    it ``base x (1 + k x (u - threshold))``. The error rate (the share of served
    requests that failed) follows the same hinge. Downtime is not folded in: it
    is recorded in the outage table only, so the planted hinges stay exact.

    Example:
        >>> rng = np.random.default_rng(3)
        >>> load = hourly_load(draw_campaigns(rng), rng)
        >>> health = service_health(load, rng)
        >>> bool(health.loc[health["utilisation"] < 0.5, "latency_p95_ms"].median() < 190)
        True
    """
    excess = np.clip(load["utilisation"].to_numpy() - sc.UTILISATION_THRESHOLD, 0.0, None)
    n = len(load)
    lat_sigma, err_sigma = sc.LATENCY_NOISE_SIGMA, sc.ERROR_NOISE_SIGMA
    lat_noise = rng.lognormal(-(lat_sigma**2) / 2, lat_sigma, size=n)
    err_noise = rng.lognormal(-(err_sigma**2) / 2, err_sigma, size=n)
    latency = sc.LATENCY_BASE_MS * (1.0 + sc.LATENCY_SLOPE * excess) * lat_noise
    errors = np.clip((sc.ERROR_RATE_BASE + sc.ERROR_RATE_SLOPE * excess) * err_noise, 0.0, 1.0)
    return load.assign(
        latency_p95_ms=np.round(latency, 1),
        error_rate=np.round(errors, 5),
    )
