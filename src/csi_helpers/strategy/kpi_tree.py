"""Step 1's question: objectives → success factors → the KPIs that should be measured."""

from __future__ import annotations

import pandas as pd

from csi_helpers.kpis import get_definition
from csi_helpers.params import Strategy

__all__ = ["TREE_COLUMNS", "kpi_tree", "strategy_warnings"]

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
