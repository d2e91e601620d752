"""Step 1: business objectives → critical success factors → KPIs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from csi_helpers.kpis import get_definition
from csi_helpers.params import Strategy

TREE_COLUMNS = [
    "objective_id",
    "objective",
    "driver",
    "owner",
    "csf_id",
    "csf",
    "kpi_id",
    "kpi",
    "kpi_name",
    "target",
    "amber",
    "direction",
    "unit",
]


def kpi_tree(strategy: Strategy) -> pd.DataFrame:
    """One row per KPI with the success factor and objective it serves.

    Objectives or success factors without KPIs get a row with empty KPI fields,
    so that the gap is visible rather than silently dropped.

    Example:
        >>> from csi_helpers.params import Strategy
        >>> s = Strategy.model_validate({"objectives": [{"id": "o1", "statement": "Up",
        ...     "csfs": [{"id": "c1", "statement": "Few outages", "kpis": [{"id": "a",
        ...     "kpi": "availability", "target": 99.9, "direction": "higher"}]}]}]})
        >>> kpi_tree(s)[["objective_id", "csf_id", "kpi_id", "kpi_name"]].values.tolist()
        [['o1', 'c1', 'a', 'Availability']]
    """
    rows = []
    for o in strategy.objectives:
        base = {
            "objective_id": o.id,
            "objective": o.statement,
            "driver": o.driver,
            "owner": o.owner,
        }
        if not o.csfs:
            rows.append(base)
        for c in o.csfs:
            with_csf = base | {"csf_id": c.id, "csf": c.statement}
            if not c.kpis:
                rows.append(with_csf)
            for k in c.kpis:
                rows.append(
                    with_csf
                    | {
                        "kpi_id": k.id,
                        "kpi": k.kpi,
                        "kpi_name": k.name or get_definition(k.kpi).name,
                        "target": k.target,
                        "amber": k.amber,
                        "direction": k.direction,
                        "unit": k.unit or get_definition(k.kpi).unit,
                    }
                )
    return pd.DataFrame(rows, columns=TREE_COLUMNS)


def strategy_warnings(tree: pd.DataFrame) -> list[str]:
    """Objectives and success factors that no KPI measures."""
    warnings = []
    for oid, rows in tree.groupby("objective_id", sort=False):
        if rows["kpi_id"].isna().all():
            warnings.append(f"objective {oid!r} has no KPI: nothing will show whether it is met")
    lone = tree[tree["csf_id"].notna() & tree["kpi_id"].isna()]
    warnings += [f"success factor {c!r} has no KPI" for c in lone["csf_id"]]
    return warnings


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
