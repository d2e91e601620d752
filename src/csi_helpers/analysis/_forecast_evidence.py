"""The numbers and notes of :func:`~csi_helpers.analysis.forecast.capacity_forecast`.

What the fit of :mod:`csi_helpers.analysis._peak_model` says, put in the
finding's terms: the capacity in force, the crossing dates of the forecast and
its bounds, the forecast points, and the notes on event days, spike days and
capacity changes that end the statement.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis._peak_model import Fit
from csi_helpers.analysis.findings import format_number

__all__ = ["first_day", "forecast_evidence", "forecast_notes", "forecast_points", "latest_capacity"]


def latest_capacity(
    hourly: pd.DataFrame, capacity: str
) -> tuple[float | None, list[dict[str, Any]]]:
    """Latest capacity value in time order, and every change of level inside the table."""
    ordered = hourly[["timestamp", capacity]].dropna().sort_values("timestamp", kind="stable")
    values = ordered[capacity].to_numpy(dtype="float64")
    if len(values) == 0:
        return None, []
    changed = np.flatnonzero(values[1:] != values[:-1]) + 1
    stamps = ordered["timestamp"].to_numpy()
    changes = [
        {"at": pd.Timestamp(stamps[i]), "from": values[i - 1], "to": values[i]}
        for i in changed[:10]
    ]
    return float(values[-1]), changes


def first_day(dates: pd.Series, reached: np.ndarray) -> pd.Timestamp | None:
    hits = np.flatnonzero(reached)
    return pd.Timestamp(dates.iloc[hits[0]]) if len(hits) else None


def forecast_points(future: pd.DataFrame, capacity: float, horizon_days: int) -> list[dict]:
    """The busiest forecast day of the week ending 30, 90 and horizon days ahead."""
    points = []
    for ahead in sorted({d for d in (30, 90, horizon_days) if 7 <= d <= horizon_days}):
        week = future.iloc[ahead - 7 : ahead]
        row = week.loc[week["forecast"].idxmax()]
        points.append(
            {
                "date": f"{row['date']:%Y-%m-%d}",
                "days_ahead": int(future.index.get_loc(row.name)) + 1,
                "forecast": float(row["forecast"]),
                "lower": float(row["lower"]),
                "upper": float(row["upper"]),
                "share_of_capacity": float(row["forecast"] / capacity),
            }
        )
    return points


def forecast_evidence(
    fit: Fit,
    cap: float,
    changes: list[dict[str, Any]],
    *,
    threshold: float,
    horizon_days: int,
    alpha: float,
) -> dict[str, Any]:
    """The numbers of the forecast: growth, current peak, crossing dates, forecast points."""
    level, future = threshold * cap, fit.future
    last_day = fit.history["date"].iloc[-1]
    recent = fit.history[fit.history["date"] > last_day - pd.Timedelta(days=7)]
    current = float(recent["fitted"].max())
    uplift, on_events = fit.evidence["spike_uplift_median"], fit.evidence["event_uplift_median"]
    crossings = {
        "": future["forecast"],
        "_low": future["upper"],
        "_high": future["lower"],
        "_mean_ci_low": future["mean_upper"],
        "_mean_ci_high": future["mean_lower"],
        "_on_spike_days": None if uplift is None else future["forecast"] * (1 + uplift),
        "_on_event_days": None if on_events is None else future["forecast"] * (1 + on_events),
    }
    crossing = {}
    for suffix, path in crossings.items():
        day = None if path is None else first_day(future["date"], path.to_numpy() >= level)
        crossing[f"crossing_date{suffix}"] = None if day is None else f"{day:%Y-%m-%d}"
    return {
        **fit.evidence,
        "capacity": cap,
        "capacity_changed": bool(changes),
        "capacity_changes": changes,
        "threshold": threshold,
        "threshold_level": level,
        "growth_per_day": fit.slope,
        "growth_per_day_ci_low": fit.slope_ci[0],
        "growth_per_day_ci_high": fit.slope_ci[1],
        "growth_per_30_days": 30 * fit.slope,
        "p_trend": fit.p_value,
        "ar1_rho": fit.rho,
        "residual_sd": fit.residual_sd,
        "weekday_factors": fit.weekday_factors,
        "current_peak": current,
        "current_share": current / cap,
        "observed_peak_last_7_days": float(recent["observed"].max()),
        "horizon_days": horizon_days,
        "horizon_end": f"{future['date'].iloc[-1]:%Y-%m-%d}",
        "forecast_points": forecast_points(future, cap, horizon_days),
        "alpha": alpha,
        **crossing,
    }


def forecast_notes(fit: Fit, evidence: dict[str, Any], changes: list[dict[str, Any]]) -> list[str]:
    """Event and spike days left out, and changes of capacity, for the end of the statement."""
    notes, cap = [], evidence["capacity"]
    if fit.evidence["n_event_days"]:
        uplift = fit.evidence["event_uplift_median"]
        on_event_days = evidence["crossing_date_on_event_days"]
        reach = f", from {on_event_days} on such days" if uplift > 0 and on_event_days else ""
        notes.append(
            f"{fit.evidence['n_event_days']} days of known events (median {uplift * 100:+.0f} %"
            f"{reach}) set aside"
        )
    if fit.evidence["n_spike_days"]:
        notes.append(
            f"{fit.evidence['n_spike_days']} spike days (median "
            f"{fit.evidence['spike_uplift_median'] * 100:+.0f} %) left out of the fit"
        )
    if len(changes) == 1:
        notes.append(
            f"capacity changed from {format_number(changes[0]['from'])} to "
            f"{format_number(cap)} on {changes[0]['at']:%Y-%m-%d}; the latest level is used"
        )
    elif changes:
        notes.append(f"capacity changed {len(changes)} times; the latest level is used")
    return notes
