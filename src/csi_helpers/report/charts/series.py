"""Charts of time series: daily and hourly series, their trends, anomalies, change
points, events, the load against its knee, forecasts and error budgets."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from csi_helpers.report.charts.colours import GREY, RED

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def weekday_hour_heatmap(profile: pd.DataFrame | None) -> Figure | None:
    """Load and p95 latency by weekday × hour, side by side (None without a profile)."""
    if profile is None or profile.empty:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
    panels = [
        ("requests", "Mean requests per hour", "Blues"),
        ("latency_p95_ms", "Mean p95 latency (ms)", "Oranges"),
    ]
    for ax, (column, title, cmap) in zip(axes, panels, strict=True):
        grid = profile.pivot(index="weekday", columns="hour", values=column)
        grid.index = [WEEKDAYS[i] for i in grid.index]
        sns.heatmap(grid, ax=ax, cmap=cmap, cbar_kws={"shrink": 0.8})
        ax.set_title(title)
        ax.set_xlabel("hour of day")
        ax.set_ylabel("")
    fig.tight_layout()
    return fig


def daily_overview(daily: pd.DataFrame) -> Figure | None:
    """Daily requests, p95 latency, incidents and downtime in stacked panels (None when the
    sources feed none of them: a params file with only a changes source)."""
    panels = [
        (c, t)
        for c, t in [
            ("requests", "Requests per day"),
            ("latency_p95_ms", "Daily p95 latency (ms)"),
            ("incidents", "Incidents opened per day"),
            ("downtime_min", "Downtime minutes per day"),
        ]
        if c in daily
    ]
    if not panels:
        return None
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 1.9 * len(panels)), sharex=True)
    axes = [axes] if len(panels) == 1 else list(axes)
    for ax, (column, title) in zip(axes, panels, strict=True):
        if column == "downtime_min":
            ax.bar(daily["day"], daily[column], width=0.9, color="#c62828")
        else:
            ax.plot(daily["day"], daily[column], lw=1.2)
        ax.set_title(title, loc="left", fontsize=10)
    fig.tight_layout()
    return fig


def trend_chart(series: pd.Series, *, title: str, slope_per_day: float | None = None) -> Figure:
    """A daily series with its 7-day mean and, when given, the Sen slope line."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(series.index, series.values, lw=0.9, alpha=0.6, label="daily")
    ax.plot(series.index, series.rolling(7, min_periods=4).mean(), lw=1.8, label="7-day mean")
    if slope_per_day is not None:
        days = (series.index - series.index[0]).days.to_numpy()
        centre = series.median() - slope_per_day * pd.Series(days).median()
        ax.plot(
            series.index,
            centre + slope_per_day * days,
            ls="--",
            color="#c55a11",
            label=f"trend {slope_per_day:+,.3g}/day",
        )
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False)
    fig.tight_layout()
    return fig


def capacity_chart(
    hourly: pd.DataFrame,
    *,
    threshold: float | None,
    x: str = "utilisation",
    y: str = "latency_p95_ms",
    events: pd.DataFrame | None = None,
    events_label: str = "during campaigns",
) -> Figure:
    """Latency against utilisation, hour by hour, with the estimated threshold marked and,
    given ``events`` (``start``, ``end``) and a ``timestamp`` column, the samples inside
    those events in their own colour (the campaign evenings past the knee).

    Utilisation is a fraction, as step 4 keeps it (a source in percent declares its
    scale); the threshold too. Both are shown in percent.
    """
    scale = 100.0
    inside = _inside_events(hourly, events)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.scatter(scale * hourly.loc[~inside, x], hourly.loc[~inside, y], s=5, alpha=0.35,
               label="other hours" if inside.any() else None)  # fmt: skip
    if inside.any():
        ax.scatter(scale * hourly.loc[inside, x], hourly.loc[inside, y], s=9, alpha=0.8,
                   color="#c55a11", label=events_label)  # fmt: skip
    if threshold is not None:
        ax.axvline(
            scale * threshold,
            color="#c62828",
            ls="--",
            label=f"starts rising at {scale * threshold:.0f} % utilisation",
        )
    if threshold is not None or inside.any():
        ax.legend(loc="upper left", frameon=False)
    ax.set_xlabel("utilisation of capacity (%)")
    label = {"latency_p95_ms": "p95 latency (ms)", "error_rate": "error rate"}.get(y, y)
    ax.set_ylabel(label)
    ax.set_title(f"{label.split(' (')[0].capitalize()} against load")
    fig.tight_layout()
    return fig


def _inside_events(hourly: pd.DataFrame, events: pd.DataFrame | None) -> pd.Series:
    """Whether each sample's ``timestamp`` falls inside one of the ``events``."""
    inside = pd.Series(False, index=hourly.index)
    if events is None or events.empty or "timestamp" not in hourly:
        return inside
    times = pd.to_datetime(hourly["timestamp"], utc=True)
    for start, end in zip(events["start"], events["end"], strict=True):
        inside |= (times >= pd.Timestamp(start)) & (times < pd.Timestamp(end))
    return inside


def anomaly_chart(series: pd.Series, episodes: pd.DataFrame, *, title: str, unit: str) -> Figure:
    """An hourly series with its anomaly episodes shaded and their peaks marked."""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(series.index, series.values, lw=0.6, alpha=0.8)
    for e in episodes.itertuples(index=False):
        ax.axvspan(e.start, e.end, color=RED, alpha=0.18, lw=0)
        ax.plot([e.peak_at], [e.peak_value], "o", color=RED, ms=4)
    ax.set_title(f"{title}: {len(episodes)} anomaly episode(s) shaded")
    ax.set_ylabel(unit)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def change_point_chart(
    series: pd.Series, breaks: list[str | pd.Timestamp], *, title: str, unit: str
) -> Figure:
    """A daily series with the level of each segment between its change points (dates)."""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(series.index, series.values, lw=0.9, alpha=0.7, label="daily")
    dates = sorted(pd.Timestamp(date) for date in breaks)
    edges = [series.index.min(), *dates, series.index.max() + pd.Timedelta(days=1)]
    for left, right in itertools.pairwise(edges):
        level = series[(series.index >= left) & (series.index < right)].mean()
        ax.hlines(level, left, right, color="#c55a11", lw=2)
    for date in dates:
        ax.axvline(date, color=RED, ls="--", lw=1)
    ax.set_title(f"{title}: {len(dates)} change point(s)" if dates else title)
    ax.set_ylabel(unit)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def event_impact_chart(
    series: pd.Series,
    events: pd.DataFrame,
    *,
    metric: str,
    unit: str,
    effect: float | None,
    ci_low: float | None,
    ci_high: float | None,
    per_event: list[dict] | None,
    after_hours: int = 0,
) -> Figure:
    """The hourly series with the event windows shaded, and the effect of each event.

    ``effect`` and its interval are the overall effect across events; ``per_event``
    lists each event's ``start`` and ``effect``. A ``unit`` of ``fraction`` is shown
    in percent.
    """
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(10, 4.6), gridspec_kw={"height_ratios": [2, 1.3]}
    )
    top.plot(series.index, series.values, lw=0.5, alpha=0.8)
    for e in events.itertuples(index=False):
        top.axvspan(e.start, e.end + pd.Timedelta(hours=after_hours), color=RED, alpha=0.15, lw=0)
    top.set_title(f"{metric.capitalize()}, event windows shaded")
    per_event = pd.DataFrame(per_event or [])
    scale = 100.0 if unit == "fraction" else 1.0
    suffix = "%" if unit == "fraction" else unit
    if {"start", "effect"} <= set(per_event.columns):
        x = pd.to_datetime(per_event["start"]).dt.strftime("%d %b")
        bottom.bar(x, scale * per_event["effect"].astype(float), color="#1f4e79")
        bottom.tick_params(axis="x", labelrotation=45, labelsize=8)
    if effect is not None:
        bottom.axhline(scale * effect, color="#c55a11", lw=1.5, label="overall")
    if ci_low is not None and ci_high is not None:
        bottom.axhspan(scale * ci_low, scale * ci_high, color="#c55a11", alpha=0.15)
    bottom.axhline(0, color="black", lw=0.6)
    bottom.set_ylabel(f"effect ({suffix})")
    bottom.set_title(
        "Effect of each event against its matched baseline (95 % CI band)", fontsize=10
    )
    fig.tight_layout()
    return fig


def forecast_chart(frame: pd.DataFrame, *, usable: float | None, limit: float) -> Figure:
    """Daily peak load, the forecast with its interval, and the usable capacity.

    ``usable`` is the load at ``limit`` (a share) of capacity; no line when None.
    """
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(frame["date"], frame["observed"], lw=0.9, label="daily peak load")
    ax.plot(frame["date"], frame["forecast"], lw=1.5, color="#c55a11", label="forecast")
    ax.fill_between(
        frame["date"],
        frame["lower"],
        frame["upper"],
        color="#c55a11",
        alpha=0.18,
        lw=0,
        label="95 % prediction interval",
    )
    if usable is not None:
        ax.axhline(usable, color=RED, ls="--", label=f"{100 * limit:.0f} % of capacity")
    ax.set_ylabel("busiest hour of the day (load per hour)")
    ax.set_title("Peak load against capacity")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


#: Points a running-count curve is drawn through at most (budget_chart).
CURVE_POINTS = 5_000


def budget_chart(
    units: pd.DataFrame, *, slo: float, start: pd.Timestamp, end: pd.Timestamp, title: str
) -> Figure:
    """Bad units spent over the period against the budget the objective allows.

    The running count is drawn through at most :data:`CURVE_POINTS` of its points
    (evenly spaced, the last included): millions of monitoring samples draw the
    same curve, without converting every timestamp for matplotlib.
    """
    frame = units[(units["timestamp"] >= start) & (units["timestamp"] < end)]
    frame = frame.dropna(subset=["good"]).sort_values("timestamp")
    spent = (~frame["good"].astype(bool)).cumsum()
    budget = (100 - slo) / 100 * len(frame)
    shown = np.unique(np.linspace(0, len(frame) - 1, min(len(frame), CURVE_POINTS)).astype(int))
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(frame["timestamp"].iloc[shown], spent.iloc[shown], lw=1.5, label="bad units spent")
    ax.plot([start, end], [0, budget], color=GREY, ls="--", label="even spend of the budget")
    ax.axhline(budget, color=RED, lw=1, label="budget")
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
