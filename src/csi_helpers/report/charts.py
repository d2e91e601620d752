"""Charts in the house style (:mod:`csi_helpers.report.style`): each returns a figure.

Every chart is a pure function of tables and plain values: it never reads a
file, shows or saves the figure; the step decides (``ctx.save_figure``).
"""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from csi_helpers.report.formatting import percent, quantity

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


_RED = "#c62828"
_GREY = "#9e9e9e"
#: The after bar of a before/after chart: better (green), worse (red), neither.
_VERDICT_COLOURS = {True: "#2e7d32", False: _RED, None: "#1f4e79"}


def anomaly_chart(series: pd.Series, episodes: pd.DataFrame, *, title: str, unit: str) -> Figure:
    """An hourly series with its anomaly episodes shaded and their peaks marked."""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(series.index, series.values, lw=0.6, alpha=0.8)
    for e in episodes.itertuples(index=False):
        ax.axvspan(e.start, e.end, color=_RED, alpha=0.18, lw=0)
        ax.plot([e.peak_at], [e.peak_value], "o", color=_RED, ms=4)
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
        ax.axvline(date, color=_RED, ls="--", lw=1)
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
        top.axvspan(e.start, e.end + pd.Timedelta(hours=after_hours), color=_RED, alpha=0.15, lw=0)
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


def pareto_chart(frame: pd.DataFrame, *, by: str, top: int = 12) -> Figure:
    """Share of SLA breaches beside share of tickets per value of ``by``, largest first."""
    shown = frame.head(top)
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(shown) + 1.4))
    y = range(len(shown))
    ax.barh(
        [i + 0.2 for i in y],
        100 * shown["outcome_share"],
        height=0.4,
        color=_RED,
        label="share of SLA breaches",
    )
    ax.barh(
        [i - 0.2 for i in y],
        100 * shown["ticket_share"],
        height=0.4,
        color=_GREY,
        label="share of tickets",
    )
    ax.set_yticks(list(y), [str(v) for v in shown[by]])
    ax.invert_yaxis()
    ax.set_xlabel("%")
    ax.set_title(f"SLA breaches and tickets by {by.replace('_', ' ')}")
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def importance_chart(importances: pd.DataFrame, *, top: int = 10) -> Figure:
    """Permutation importance of each factor (drop in held-out ROC AUC), with its spread."""
    shown = importances.sort_values("importance_mean", ascending=False).head(top)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(shown) + 1.4))
    ax.barh(
        shown["feature"], shown["importance_mean"], xerr=shown["importance_sd"], color="#1f4e79"
    )
    ax.invert_yaxis()
    ax.set_xlabel("drop in ROC AUC when the factor is shuffled")
    ax.set_title("What predicts an SLA breach (associations, not causes)")
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
        ax.axhline(usable, color=_RED, ls="--", label=f"{100 * limit:.0f} % of capacity")
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
    ax.plot([start, end], [0, budget], color=_GREY, ls="--", label="even spend of the budget")
    ax.axhline(budget, color=_RED, lw=1, label="budget")
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def kpi_tree_figure(tree: pd.DataFrame) -> Figure:
    """The objective → CSF → KPI tree as three columns of labelled boxes."""
    levels = [
        tree.drop_duplicates("objective_id")[["objective_id", "objective"]].values.tolist(),
        tree.dropna(subset=["csf_id"]).drop_duplicates("csf_id")[["csf_id", "csf"]].values.tolist(),
        tree.dropna(subset=["kpi_id"])[["kpi_id", "kpi_name"]].values.tolist(),
    ]
    height = max(3.0, 0.55 * max(len(level) for level in levels))
    fig, ax = plt.subplots(figsize=(11, height))
    ax.set_axis_off()
    ax.set_xlim(0, 3)
    ax.set_ylim(0, 1)
    pos: dict[str, tuple[float, float]] = {}
    for col, level in enumerate(levels):
        for i, (key, label) in enumerate(level):
            y = 1 - (i + 0.5) / len(level)
            pos[f"{col}:{key}"] = (col + 0.5, y)
            text = label if len(label) <= 38 else label[:36] + "…"
            ax.text(
                col + 0.5,
                y,
                text,
                ha="center",
                va="center",
                fontsize=8,
                wrap=True,
                bbox={
                    "boxstyle": "round,pad=0.3",
                    "fc": ["#dbe5f1", "#e2efda", "#fff2cc"][col],
                    "ec": "#7f7f7f",
                },
            )
    for row in tree.itertuples(index=False):
        if pd.notna(row.csf_id):
            _link(ax, pos[f"0:{row.objective_id}"], pos[f"1:{row.csf_id}"])
        if pd.notna(row.kpi_id):
            _link(ax, pos[f"1:{row.csf_id}"], pos[f"2:{row.kpi_id}"])
    for col, name in enumerate(["Business objectives", "Critical success factors", "KPIs"]):
        ax.text(col + 0.5, 1.02, name, ha="center", va="bottom", fontweight="bold")
    fig.tight_layout()
    return fig


def _link(ax, a: tuple[float, float], b: tuple[float, float]) -> None:
    ax.plot([a[0] + 0.42, b[0] - 0.42], [a[1], b[1]], color="#a5a5a5", lw=0.8, zorder=0)


def before_after_chart(
    *,
    kpi: str,
    unit: str,
    before: float,
    after: float,
    labels: tuple[str, str] = ("before", "after"),
    better: str | None = None,
    target: float | None = None,
    change: tuple[float, float, float] | None = None,
    promised: float | None = None,
) -> Figure:
    """An action's KPI before and after it (bars; the target dashed) and, when the review
    measured it, the change on its 95 % interval against no change and the promise
    (``change``: estimate, low, high; ``promised``: in percent; the better side shaded).

    Example:
        >>> fig = before_after_chart(kpi="Downtime", unit="min", before=483.7, after=241.8,
        ...     labels=("2026 Q2", "2026 Q3"), better="lower", target=60,
        ...     change=(-50.4, -74.6, -3.3), promised=-50)
        >>> [ax.get_title() for ax in fig.axes]
        ['Downtime', 'Change -50.4 %, 95 % interval']
        >>> plt.close(fig)
    """
    fig, axes = plt.subplots(1, 2 if change else 1, figsize=(9 if change else 4, 2.6))
    bars, values = (axes[0] if change else axes), [before, after]
    good = None if better is None or after == before else (after < before) == (better == "lower")
    drawn = bars.bar(labels, values, width=0.55, color=[_GREY, _VERDICT_COLOURS[good]])
    bars.bar_label(drawn, [quantity(v, unit) for v in values], fontsize=9)
    if target is not None:
        goal = f"target {quantity(target, unit)}"
        bars.axhline(target, color="#616161", ls="--", lw=1, label=goal)
        bars.legend(loc="upper right", frameon=False, fontsize=8)
    bars.set(ylim=(0, 1.3 * max(*values, target or 0)), yticks=[], title=kpi)
    bars.grid(False)
    if change:
        ax, (estimate, low, high) = axes[1], change
        ax.errorbar(estimate, 0, xerr=[[estimate - low], [high - estimate]], fmt="o", capsize=5)
        ax.axvline(0, color="black", lw=0.8, label="no change")
        if promised is not None:
            ax.axvline(promised, color="#c55a11", ls="--", label=f"promised {percent(promised)}")
        span = [low, high, 0, promised or 0]
        pad = 0.15 * (max(span) - min(span))
        ax.set(xlim=(min(span) - pad, max(span) + pad), ylim=(-1, 1.4), yticks=[])
        ax.grid(axis="y", visible=False)
        if better in ("lower", "higher"):
            edge = ax.get_xlim()[0 if better == "lower" else 1]
            ax.axvspan(min(0, edge), max(0, edge), color=_VERDICT_COLOURS[True], alpha=0.08)
        ax.legend(loc="upper center", ncols=2, frameon=False, fontsize=8)
        ax.set_xlabel("change at equal weekday and hour (%), better side shaded")
        ax.set_title(f"Change {percent(estimate, plus=True)}, 95 % interval", fontsize=10)
    fig.tight_layout()
    return fig
