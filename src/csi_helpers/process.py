"""Step 4 orchestration: canonical tables, quarantine, ledger, KPI values and series."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from csi_helpers.canonical import canonical_table, cycle_window, ledger_entry
from csi_helpers.kpis import compute_kpi
from csi_helpers.runfolder import StepContext


def build_tables(ctx: StepContext) -> pd.DataFrame:
    """Type every raw snapshot into ``process/tables/<source>``; quarantine the rest.

    Returns:
        The data-quality ledger (also written as ``process/ledger``).
    """
    ledger: list[dict] = []
    for source in ctx.params.sources:
        raw = ctx.read_table(f"gather/raw/{source.name}")
        table, quarantine = canonical_table(raw, source)
        ctx.write_table(f"tables/{source.name}", table)
        if len(quarantine):
            ctx.write_table(f"quarantine/{source.name}", quarantine)
        ledger += ledger_entry(source, raw, quarantine)
    frame = pd.DataFrame(ledger)
    ctx.write_table("ledger", frame)
    return frame


def table_path(ctx: StepContext, kind: str) -> Path | None:
    """The canonical table of the first source of that kind, if any."""
    sources = ctx.params.sources_of_kind(kind)
    return ctx.ref_path(f"process/tables/{sources[0].name}", suffix=".parquet") if sources else None


def kpi_values(ctx: StepContext, plan: pd.DataFrame) -> pd.DataFrame:
    """Compute every measurable KPI entry over the cycle from the plan's source."""
    start, end = cycle_window(ctx.params)
    entries = {k.id: k for _, _, k in ctx.params.strategy.kpis()}
    rows = []
    tables: dict[str, pd.DataFrame] = {}
    for row in plan.itertuples(index=False):
        k = entries[row.kpi_id]
        if row.measurable == "no":
            rows.append(
                {
                    "kpi_id": k.id,
                    "kpi": k.kpi,
                    "value": None,
                    "n": 0,
                    "excluded": 0,
                    "note": f"not measurable: {row.to_close_gap}",
                }
            )
            continue
        if row.source not in tables:
            tables[row.source] = ctx.read_table(f"process/tables/{row.source}")
        result = compute_kpi(k.kpi, tables[row.source], start=start, end=end)
        rows.append({"kpi_id": k.id, "kpi": k.kpi} | result.to_dict())
    return pd.DataFrame(rows)
