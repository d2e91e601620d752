"""The ShopFront scenario: calendar, planted constants and the truths record.

Everything the generator plants by construction is a module constant here, so
the generator modules, :class:`PlantedTruths` and the tests read one source.
All timestamps are UTC and held as timezone-naive ``datetime64`` values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

GENERATOR_VERSION = "1"
DEFAULT_SEED: int = 20260401

SERVICE_ID = "shopfront"
SERVICE_NAME = "ShopFront"

CYCLE1_START = pd.Timestamp("2026-04-01 00:00")
CYCLE2_START = pd.Timestamp("2026-07-01 00:00")
DATA_END = pd.Timestamp("2026-10-01 00:00")  # exclusive: the last hour starts 2026-09-30 23:00

# 1. Request volume: trend x weekday-hour profile x campaign uplift x noise.
TREND_BASELINE_PER_DAY = 240_000.0  # expected requests per day on 2026-04-01 (weekly mean)
TREND_SLOPE_PER_DAY = 200.0  # growth of that expected daily total, requests/day per day
NOISE_SIGMA = 0.06  # sigma of the mean-one lognormal hourly noise
EVENING_PEAK_HOURS = (18, 22)  # first and last hour of the evening peak, inclusive
FRIDAY_EVENING_FACTOR = 1.25  # extra multiplier on Friday 18:00-22:00 before normalising
WEEKLY_FACTORS = (0.97, 0.96, 0.96, 0.99, 1.07, 1.04, 1.01)  # Mon..Sun daily totals, mean 1
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_SHAPE = (
    0.55, 0.38, 0.28, 0.22, 0.22, 0.28, 0.42, 0.62, 0.82, 0.95, 1.02, 1.08,
    1.15, 1.12, 1.05, 1.05, 1.12, 1.30, 1.62, 1.75, 1.80, 1.75, 1.58, 0.95,
)  # fmt: skip
WEEKEND_SHAPE = (
    0.70, 0.50, 0.35, 0.26, 0.22, 0.24, 0.32, 0.45, 0.65, 0.85, 1.05, 1.18,
    1.25, 1.25, 1.20, 1.18, 1.20, 1.28, 1.38, 1.45, 1.45, 1.35, 1.15, 0.85,
)  # fmt: skip

# 2. Campaigns.
CAMPAIGN_UPLIFT = 0.40  # requests x (1 + uplift) in every hour of a campaign window
CAMPAIGN_WINDOW_HOURS = 48
CAMPAIGNS_PER_CYCLE = 7
FRIDAY_SEND_SHARE_CYCLE1 = 0.75  # chance a cycle-1 campaign goes out on Friday 17:00

# 3. Capacity.
CAPACITY_CYCLE1_RPH = 35_000
CAPACITY_CYCLE2_RPH = 70_000

# 4. Latency and errors.
UTILISATION_THRESHOLD = 0.75
LATENCY_BASE_MS = 180.0
LATENCY_SLOPE = 10.0  # latency = base x (1 + k x (u - threshold)) above the threshold
LATENCY_NOISE_SIGMA = 0.04
ERROR_RATE_BASE = 0.002
ERROR_RATE_SLOPE = 0.08  # error rate = base + slope x (u - threshold) above the threshold
ERROR_NOISE_SIGMA = 0.10

# 5. Downtime.
# 30 outages then 15: Q3's review of Q2's action can detect the planted halving. Redrawn
# 100 times on the demo's own load, the review said "worked" in 90 with 30 and 15 outages,
# in none with 16 and 10 (tests/demo/test_review_power.py)
OUTAGES_CYCLE1 = 30
OUTAGES_CYCLE2 = 15
OUTAGE_MEDIAN_MIN = 16.0  # median outage duration: about 560 minutes of downtime in Q2
DOWNTIME_RATIO = 0.50  # cycle-2 outage minutes / cycle-1 outage minutes
OUTAGE_PEAK_WINDOW = (17, 23)  # start hour in [17, 23): 17:00 to 22:59 UTC
OUTAGE_LOAD_EXPONENT = 6.0  # outage start chance per hour grows with utilisation**exponent

# 6. Tickets.
PRIORITIES = ("1 - Critical", "2 - High", "3 - Moderate", "4 - Low")
SLA_TARGET_HOURS = {"1 - Critical": 4.0, "2 - High": 8.0, "3 - Moderate": 24.0, "4 - Low": 72.0}
GROUPS = ("Web Platform", "Payments", "Service Desk", "Database", "Network")
SLOW_GROUP = "Web Platform"  # resolves more slowly: holds most SLA breaches
REQUESTS_PER_TICKET = 20_000.0
REASSIGN_SHARE = 0.10
REOPEN_SHARE = 0.04
CSAT_RESPONSE_RATE = 0.30


def cycle_of(timestamps: pd.DatetimeIndex | pd.Series) -> np.ndarray:
    """Return the improvement cycle (1 or 2) of each timestamp.

    Example:
        >>> cycle_of(pd.DatetimeIndex(["2026-06-30 23:00", "2026-07-01 00:00"])).tolist()
        [1, 2]
    """
    values = pd.DatetimeIndex(timestamps)
    return np.where(values < CYCLE2_START, 1, 2)


def hourly_index() -> pd.DatetimeIndex:
    """Return the start of every hour in both cycles (UTC, timezone-naive).

    Example:
        >>> idx = hourly_index()
        >>> len(idx), str(idx[0]), str(idx[-1])
        (4392, '2026-04-01 00:00:00', '2026-09-30 23:00:00')
    """
    return pd.date_range(CYCLE1_START, DATA_END, freq="h", inclusive="left", unit="s")


def iso_z(value: pd.Timestamp) -> str:
    """Format one timestamp as ISO 8601 with a ``Z`` suffix.

    Example:
        >>> iso_z(pd.Timestamp("2026-07-01"))
        '2026-07-01T00:00:00Z'
    """
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PlantedTruths:
    """Every effect planted in the demo data, with realised figures for one seed.

    The fields and their units are tabled in the :mod:`csi_helpers.demo`
    docstring. Dates are ISO strings, so :meth:`to_dict` is JSON-ready.
    """

    seed: int
    generator_version: str
    service_id: str
    service_name: str
    cycle1_start: str
    cycle1_end: str
    cycle2_start: str
    cycle2_end: str
    hours_cycle1: int
    hours_cycle2: int
    # volume
    trend_baseline_requests_per_day: float
    trend_slope_requests_per_day_per_day: float
    noise_sigma: float
    weekly_factors: dict[str, float]
    evening_peak_hours: tuple[int, int]
    friday_evening_factor: float
    # campaigns
    campaign_uplift: float
    campaign_window_hours: int
    campaigns_cycle1: int
    campaigns_cycle2: int
    campaigns_friday_evening_cycle1: int
    campaigns_staggered_from: str
    # capacity, latency, errors
    capacity_cycle1_rph: int
    capacity_cycle2_rph: int
    capacity_change_at: str
    capacity_upgrade_change: str
    utilisation_threshold: float
    latency_base_ms: float
    latency_slope_per_utilisation: float
    latency_noise_sigma: float
    error_rate_base: float
    error_rate_slope_per_utilisation: float
    peak_utilisation_cycle1: float
    peak_utilisation_cycle2: float
    hours_above_threshold_cycle1: int
    hours_above_threshold_cycle2: int
    # downtime
    outages_cycle1: int
    outages_cycle2: int
    outage_minutes_cycle1: float
    outage_minutes_cycle2: float
    outage_minutes_ratio: float
    availability_pct_cycle1: float
    availability_pct_cycle2: float
    outage_peak_window: tuple[int, int]
    outage_minutes_share_peak_window: float
    # tickets
    sla_target_hours: dict[str, float]
    incidents_total: int
    incidents_cycle1: int
    incidents_cycle2: int
    incidents_open_at_end: int
    sla_compliance_cycle1: float
    sla_compliance_cycle2: float
    worst_sla_group: str
    worst_group_breach_share: float
    worst_group_ticket_share: float
    reassigned_share: float
    reopened_share: float
    incidents_caused_by_changes: int
    csat_surveys: int
    csat_response_rate: float
    csat_mean_score_sla_met: float
    csat_mean_score_sla_breached: float
    changes_total: int
    changes_failed_or_backed_out: int

    def to_dict(self) -> dict[str, Any]:
        """Return the truths as plain JSON-ready Python values (tuples become lists).

        Example:
            >>> from csi_helpers.demo import planted_truths
            >>> planted_truths().to_dict()["evening_peak_hours"]
            [18, 22]
        """
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(self).items()
        }
