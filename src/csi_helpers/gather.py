"""Step 3: pull every configured source and keep it unmodified, with provenance."""

from __future__ import annotations

from typing import Any

import pandas as pd

from csi_helpers.canonical import cycle_window
from csi_helpers.connectors import describe, read_raw
from csi_helpers.hashing import sha256_file
from csi_helpers.manifest import utc_now
from csi_helpers.params import Params
from csi_helpers.runfolder import StepContext


def prepare_sources(params: Params) -> None:
    """Make sure the sources can be read: generates the demo data when the params ask for it."""
    if params.demo is not None:
        from csi_helpers.demo import ensure_demo_data

        ensure_demo_data(params.demo.directory, seed=params.demo.seed)


def snapshot_sources(ctx: StepContext) -> pd.DataFrame:
    """Snapshot each source into ``gather/raw/<name>.parquet`` and return the provenance table.

    Values are stored as the source's text, so the snapshot is the data
    unmodified; ``sha256`` is the hash of the source file as read, or of the
    snapshot for a database or Prometheus query (``sha256_of`` says which).
    """
    prepare_sources(ctx.params)
    window = cycle_window(ctx.params)
    records: list[dict[str, Any]] = []
    for source in ctx.params.sources:
        fetched = utc_now()
        frame = read_raw(source, window=window)
        snapshot = ctx.write_table(f"raw/{source.name}", frame)
        if source.path is not None:
            ctx.log_input(source.path)
        origin = source.path if source.path is not None else snapshot
        records.append(
            {"source": source.name, "kind": source.kind, "connector": source.connector}
            | describe(source)
            | {
                "fetched_at": fetched,
                "window": None
                if source.connector == "file"
                else f"{window[0].isoformat()} to {window[1].isoformat()}",
                "sha256": sha256_file(origin),
                "sha256_of": "source file" if source.path is not None else "snapshot",
                "rows": len(frame),
                "columns": len(frame.columns),
            }
        )
    provenance = pd.DataFrame(records)
    ctx.write_table("provenance", provenance)
    return provenance
