"""The hot hours of a capacity issue: hours above the knee or inside a calendar event.

:mod:`csi_helpers.analysis.synthesis` ties findings into the capacity issue by time as
well as along the service chain: an episodic finding joins only when one of its hours is
hot, and downtime joins when most of its minutes fall in hot hours.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import Finding

__all__ = ["EPISODIC", "downtime_in_hot_hours", "hot_hours", "overlaps"]

#: Kinds whose findings happen at given hours (``evidence["episodes"]`` or ``start``
#: and ``end``): they join an issue only when their hours overlap the issue's.
EPISODIC = frozenset({"anomaly", "event_episode"})


def hot_hours(
    hourly: pd.DataFrame | None, events: pd.DataFrame | None, knee: float
) -> pd.Series | None:
    """Per hour of step 4's hourly series: above the knee or inside a calendar event
    (``True``), with ``attrs["in_event"]`` the event hours alone; None without it."""
    if hourly is None or "peak_utilisation" not in hourly:
        return None
    hours = pd.DatetimeIndex(hourly.get("hour", hourly.index))
    utilisation = hourly["peak_utilisation"].to_numpy(float)
    utilisation = utilisation / 100 if np.nanmax(utilisation) > 5 else utilisation
    in_event = np.zeros(len(hours), dtype=bool)
    for start, end in [] if events is None else zip(events["start"], events["end"], strict=True):
        in_event |= (hours >= start) & (hours < end)
    hot = pd.Series((np.nan_to_num(utilisation) >= knee) | in_event, index=hours)
    hot.attrs["in_event"] = in_event
    if "downtime_min" in hourly:
        hot.attrs["downtime"] = hourly["downtime_min"].fillna(0).to_numpy(float)
    return hot


def overlaps(finding: Finding, hot: pd.Series) -> bool:
    """Whether an episodic finding has an hour among the hot ones (others: True)."""
    if finding.kind not in EPISODIC:
        return True
    listed = finding.evidence.get("episodes")
    spans = listed if isinstance(listed, list) and listed else [finding.evidence]
    windows = [(e.get("start"), e.get("end")) for e in spans if isinstance(e, Mapping)]
    windows = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in windows if a and b]
    if not windows:
        return True  # nothing says when: the chain alone links it
    hours = hot.index if hot.index.tz is not None else hot.index.tz_localize("UTC")
    for start, end in windows:
        start = start if start.tzinfo else start.tz_localize("UTC")
        end = end if end.tzinfo else end.tz_localize("UTC")
        if hot[(hours >= start.floor("h")) & (hours <= end)].any():
            return True
    return False


def downtime_in_hot_hours(hot: pd.Series | None) -> dict[str, float] | None:
    """Downtime minutes in hours above the knee or inside calendar events, and in all."""
    if hot is None or "downtime" not in hot.attrs:
        return None
    down, in_event = hot.attrs["downtime"], hot.attrs["in_event"]
    if down.sum() <= 0:
        return None
    mask = hot.to_numpy(bool)
    return {
        "total_min": float(down.sum()),
        "hot_min": float(down[mask].sum()),
        "share": float(down[mask].sum() / down.sum()),
        "event_min": float(down[in_event].sum()),
    }
