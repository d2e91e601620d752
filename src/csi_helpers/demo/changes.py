"""Change records: 10-20 changes a month, plus the capacity upgrade that opens cycle 2."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csi_helpers.demo import scenario as sc

CHANGE_TYPES = ("Standard", "Normal", "Emergency")
_TYPE_SHARE = (0.50, 0.40, 0.10)
# outcome shares (Successful, Failed, Backed out) per change type
_OUTCOME_SHARE = {
    "Standard": (0.97, 0.02, 0.01),
    "Normal": (0.86, 0.07, 0.07),
    "Emergency": (0.78, 0.11, 0.11),
}
OUTCOMES = ("Successful", "Failed", "Backed out")
_GROUP_SHARE = {"Web Platform": 0.45, "Payments": 0.20, "Database": 0.20, "Network": 0.15}
_DESCRIPTIONS = {
    "Web Platform": (
        "Deploy ShopFront web release",
        "Rotate TLS certificates on the web tier",
        "Update product page templates",
        "Patch web server operating system",
    ),
    "Payments": (
        "Update payment gateway client library",
        "Enable new card scheme at checkout",
        "Rotate payment API keys",
    ),
    "Database": (
        "Apply database minor version patch",
        "Add index to the orders table",
        "Rebalance database read replicas",
    ),
    "Network": (
        "Update CDN cache rules",
        "Firmware upgrade on core switches",
        "Change load balancer health-check settings",
    ),
}
UPGRADE_DESCRIPTION = "Double ShopFront web tier capacity (scale-out to 70,000 requests/h)"
_UPGRADE = {
    "type": "Normal",
    "short_description": UPGRADE_DESCRIPTION,
    "assignment_group": "Web Platform",
    "planned_start": pd.Timestamp("2026-06-30 22:00"),
    "planned_end": pd.Timestamp("2026-07-01 00:00"),
    "actual_start": pd.Timestamp("2026-06-30 22:02"),
    "actual_end": pd.Timestamp("2026-06-30 23:47"),
    "outcome": "Successful",
}


def _month_starts() -> pd.DatetimeIndex:
    return pd.date_range(sc.CYCLE1_START, sc.DATA_END, freq="MS", inclusive="left", unit="s")


def _planned_starts(types: np.ndarray, month: pd.Timestamp, rng: np.random.Generator):
    """Planned start per change: Standard in office hours, Normal at night, Emergency any time."""
    days_in_month = month.days_in_month - 1  # leave the last day free of random changes
    day = rng.integers(0, days_in_month, size=len(types))
    start = month + pd.to_timedelta(day, "D")
    hour = np.select(
        [types == "Standard", types == "Normal"],
        [rng.integers(9, 17, size=len(types)), rng.integers(1, 5, size=len(types))],
        default=rng.integers(0, 24, size=len(types)),
    )
    # Standard changes move off weekends onto the following Monday.
    weekend = (types == "Standard") & (start.day_of_week >= 5)
    shift = np.where(weekend, 7 - start.day_of_week, 0)
    return start + pd.to_timedelta(shift, "D") + pd.to_timedelta(hour, "h")


def draw_changes(rng: np.random.Generator) -> pd.DataFrame:
    """Draw the change records of both cycles, numbered by planned start.

    Example:
        >>> changes = draw_changes(np.random.default_rng(2))
        >>> bool(changes["number"].is_unique), changes["number"].iloc[0]
        (True, 'CHG0030001')
        >>> (changes["short_description"] == UPGRADE_DESCRIPTION).sum()
        np.int64(1)
    """
    frames = []
    groups = np.array(list(_GROUP_SHARE))
    for month in _month_starts():
        n = int(np.clip(rng.poisson(14), 10, 20))
        types = rng.choice(np.array(CHANGE_TYPES), size=n, p=_TYPE_SHARE)
        group = rng.choice(groups, size=n, p=list(_GROUP_SHARE.values()))
        planned_start = _planned_starts(types, month, rng)
        planned_hours = np.select(
            [types == "Standard", types == "Normal"],
            [rng.uniform(0.5, 1.0, n), rng.uniform(1.0, 4.0, n)],
            default=rng.uniform(0.5, 2.0, n),
        )
        planned_end = planned_start + pd.to_timedelta(np.rint(planned_hours * 4) * 15, "min")
        delay = pd.to_timedelta(rng.integers(0, 21, size=n), "min")
        actual_minutes = np.rint(planned_hours * 60 * rng.lognormal(0.0, 0.2, size=n))
        outcome_u = rng.random(n)
        outcome = [
            OUTCOMES[int(np.searchsorted(np.cumsum(_OUTCOME_SHARE[t]), u))]
            for t, u in zip(types, outcome_u, strict=True)
        ]
        pick = rng.integers(0, 4, size=n)
        frames.append(
            pd.DataFrame(
                {
                    "type": types,
                    "short_description": [
                        _DESCRIPTIONS[g][p % len(_DESCRIPTIONS[g])]
                        for g, p in zip(group, pick, strict=True)
                    ],
                    "assignment_group": group,
                    "planned_start": planned_start,
                    "planned_end": planned_end,
                    "actual_start": planned_start + delay,
                    "actual_end": planned_start + delay + pd.to_timedelta(actual_minutes, "min"),
                    "outcome": outcome,
                }
            )
        )
    frames.append(pd.DataFrame([_UPGRADE]))
    changes = pd.concat(frames, ignore_index=True)
    for column in ("planned_start", "planned_end", "actual_start", "actual_end"):
        changes[column] = pd.to_datetime(changes[column]).dt.as_unit("s")
    changes = changes.sort_values(["planned_start", "short_description"], kind="stable")
    changes = changes.reset_index(drop=True)
    changes.insert(0, "number", [f"CHG{30001 + i:07d}" for i in range(len(changes))])
    return changes
