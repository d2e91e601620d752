"""Canonical tables as step 4 hands them to the series: a Parquet file opened on an engine."""

from __future__ import annotations

from pathlib import Path

import ibis.expr.types as ir

from csi_helpers.params import EngineSettings
from csi_helpers.processing import engines


def parquet_table(path: str | Path | None, engine: EngineSettings | None = None) -> ir.Table | None:
    """The Parquet table at ``path`` on the engine (DuckDB by default); None for no path."""
    if path is None:
        return None
    return engines.connect(engine).read_parquet(str(path))
