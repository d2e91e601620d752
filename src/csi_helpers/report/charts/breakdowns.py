"""Charts of breakdowns: resolution times by priority, Pareto of a category, what
drives an outcome."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from csi_helpers.report.charts.colours import GREY, RED


def resolution_time_distribution(tickets: pd.DataFrame | None) -> Figure | None:
    """Hours to resolve by priority (log scale), resolved tickets only (None without any).
    An export without priorities gets one box for all tickets, and says so."""
    if tickets is None:
        return None
    resolved = tickets.dropna(subset=["resolved_at", "opened_at"])
    if resolved.empty:
        return None
    hours = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_seconds() / 3600
    priority = resolved.get("priority")
    by_priority = priority is not None and priority.notna().any()
    data = pd.DataFrame(
        {
            "hours": hours.clip(lower=1 / 60),
            "priority": priority if by_priority else "all tickets",
        }
    ).dropna(subset=["priority"])
    fig, ax = plt.subplots(figsize=(9, 3.5 if by_priority else 2.2))
    sns.boxplot(
        data=data,
        x="hours",
        y="priority",
        ax=ax,
        log_scale=True,
        order=sorted(data["priority"].unique()),
        fliersize=1.5,
    )
    title = "Time to resolve by priority" if by_priority else "Time to resolve"
    note = "" if by_priority else " (no priority in the export: map `priority` to split it)"
    ax.set_title(f"{title} (hours, log scale){note}")
    ax.set_xlabel("hours")
    ax.set_ylabel("")
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
        color=RED,
        label="share of SLA breaches",
    )
    ax.barh(
        [i - 0.2 for i in y],
        100 * shown["ticket_share"],
        height=0.4,
        color=GREY,
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
