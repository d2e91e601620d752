"""Charts of KPIs: the strategy's tree, a KPI against its target, an action's before
and after."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from csi_helpers.report.charts.colours import GREY, RED, VERDICT_COLOURS
from csi_helpers.report.formatting import percent, quantity


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
    drawn = bars.bar(labels, values, width=0.55, color=[GREY, VERDICT_COLOURS[good]])
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
            ax.axvspan(min(0, edge), max(0, edge), color=VERDICT_COLOURS[True], alpha=0.08)
        ax.legend(loc="upper center", ncols=2, frameon=False, fontsize=8)
        ax.set_xlabel("change at equal weekday and hour (%), better side shaded")
        ax.set_title(f"Change {percent(estimate, plus=True)}, 95 % interval", fontsize=10)
    fig.tight_layout()
    return fig


def target_gap_chart(
    *,
    kpi: str,
    unit: str,
    actual: float,
    target: float,
    amber: float | None,
    direction: str,
    previous: float | None = None,
) -> Figure:
    """A KPI against its target, as a bullet: bands for met (green), amber and red, the
    target dashed, this cycle's value a dot and the previous cycle's a hollow one.

    The scale spans the values and thresholds (not from zero), so that a gap of a few
    points shows as one.

    Example:
        >>> fig = target_gap_chart(kpi="Survey response rate", unit="%", actual=27.7,
        ...                        target=30, amber=25, direction="higher", previous=26.1)
        >>> fig.axes[0].get_title()
        'Survey response rate against its target'
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['target 30 %', 'this cycle 27.7 %', 'previous cycle 26.1 %']
        >>> plt.close(fig)
    """
    points = [actual, target, *(v for v in (amber, previous) if v is not None and pd.notna(v))]
    span = (max(points) - min(points)) or abs(target) or 1.0
    low, high = min(points) - 0.35 * span, max(points) + 0.35 * span
    if min(points) >= 0:  # minutes, counts, percentages: no scale below zero
        low = max(low, 0.0)
    worse = amber if amber is not None else target
    if direction == "higher":
        bands = [(target, high, "#2e7d32"), (worse, target, "#f9a825"), (low, worse, RED)]
    else:
        bands = [(low, target, "#2e7d32"), (target, worse, "#f9a825"), (worse, high, RED)]
    fig, ax = plt.subplots(figsize=(7, 1.7))
    for start, end, colour in bands:
        if end > start:
            ax.axvspan(start, end, color=colour, alpha=0.14, lw=0)
    ax.axvline(target, color="#616161", ls="--", lw=1.2, label=f"target {quantity(target, unit)}")
    ax.plot(
        [actual], [0], "o", ms=11, color="#1f4e79", label=f"this cycle {quantity(actual, unit)}"
    )
    if previous is not None and pd.notna(previous):
        ax.plot([previous], [0], "o", ms=9, mfc="none", mec=GREY, mew=2,
                label=f"previous cycle {quantity(previous, unit)}")  # fmt: skip
    ax.set(xlim=(low, high), ylim=(-1, 1), yticks=[], title=f"{kpi} against its target")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncols=3, frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
