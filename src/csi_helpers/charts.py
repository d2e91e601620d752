"""Charts of the processed data, in the house style. Each returns a figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from csi_helpers.series import WEEKDAYS


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


def daily_overview(daily: pd.DataFrame) -> Figure:
    """Daily requests, p95 latency, incidents and downtime in stacked panels."""
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


def resolution_time_distribution(tickets: pd.DataFrame | None) -> Figure | None:
    """Hours to resolve by priority (log scale), resolved tickets only (None without any)."""
    if tickets is None:
        return None
    resolved = tickets.dropna(subset=["resolved_at", "opened_at"])
    if resolved.empty:
        return None
    hours = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    data = pd.DataFrame({"hours": hours.clip(lower=1 / 60), "priority": resolved["priority"]})
    fig, ax = plt.subplots(figsize=(9, 3.5))
    sns.boxplot(
        data=data,
        x="hours",
        y="priority",
        ax=ax,
        log_scale=True,
        order=sorted(data["priority"].dropna().unique()),
        fliersize=1.5,
    )
    ax.set_title("Time to resolve by priority (hours, log scale)")
    ax.set_xlabel("hours")
    ax.set_ylabel("")
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
) -> Figure:
    """Latency against utilisation, hour by hour, with the estimated threshold marked.

    Utilisation may be a fraction or in percent (as some tools export it); it is shown
    in percent either way, by the rule of
    :func:`csi_helpers.analysis.capacity.capacity_threshold`.
    """
    scale = percent_scale(hourly[x])
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.scatter(scale * hourly[x], hourly[y], s=5, alpha=0.35)
    if threshold is not None:
        ax.axvline(
            scale * threshold,
            color="#c62828",
            ls="--",
            label=f"latency starts rising at {scale * threshold:.0f} % utilisation",
        )
        ax.legend(loc="upper left", frameon=False)
    ax.set_xlabel("utilisation of capacity (%)")
    ax.set_ylabel("p95 latency (ms)")
    ax.set_title("Response time against load")
    fig.tight_layout()
    return fig


def percent_scale(utilisation: pd.Series) -> float:
    """100 when utilisation reads as a fraction (95th percentile ≤ 2), else 1 (percent).

    Example:
        >>> percent_scale(pd.Series([0.2, 0.9])), percent_scale(pd.Series([20.0, 90.0]))
        (100.0, 1.0)
    """
    values = utilisation.dropna().astype(float)
    return 100.0 if values.empty or values.quantile(0.95) <= 2 else 1.0
