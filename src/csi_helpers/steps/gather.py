"""Step 3 (gather): pull every configured source and keep it unmodified, with provenance.

CSV, Parquet and XES files are copied into the snapshot a chunk at a time
(:func:`csi_helpers.connectors.files.read_raw_chunks` into a
:class:`~csi_helpers.runfolder.parquet.ParquetSink`), so a file of tens of
millions of rows never sits in memory whole; the snapshot is the same file
either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from csi_helpers.connectors import describe, read_raw
from csi_helpers.params import Source
from csi_helpers.runfolder.context import StepContext
from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.manifest import utc_now
from csi_helpers.runfolder.parquet import CHUNK_ROWS, ParquetSink
from csi_helpers.steps.common import prepare_sources
from csi_helpers.tables import catalogue

__all__ = ["snapshot_sources"]


def snapshot_sources(ctx: StepContext, *, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """Snapshot each source into ``gather/raw/<name>.parquet`` and return the provenance table.

    Values are stored as the source's text, so the snapshot is the data
    unmodified; ``sha256`` is the hash of the source file as read, or of the
    snapshot for a database or Prometheus query (``sha256_of`` says which).
    CSV, Parquet and XES files are read ``chunk_rows`` rows at a time.
    """
    prepare_sources(ctx.params)
    window = ctx.params.cycle_window()
    records: list[dict[str, Any]] = []
    for source in ctx.params.sources:
        fetched = utc_now()
        snapshot, rows, columns = _snapshot(ctx, source, window, chunk_rows)
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
                "rows": rows,
                "columns": columns,
            }
        )
    provenance = pd.DataFrame(records)
    ctx.write_table(catalogue.PROVENANCE, provenance)
    return provenance


def _snapshot(
    ctx: StepContext, source: Source, window: tuple[pd.Timestamp, pd.Timestamp], chunk_rows: int
) -> tuple[Path, int, int]:
    """Write ``raw/<name>``; return its path, rows and columns."""
    from csi_helpers.connectors.files import STREAMED_FORMATS, read_raw_chunks

    if source.connector == "file" and source.file_format in STREAMED_FORMATS:
        with ParquetSink(ctx.path(f"{catalogue.raw_snapshot(source.name)}.parquet")) as sink:
            columns = 0
            for chunk in read_raw_chunks(source, chunk_rows=chunk_rows):
                sink.write(chunk)
                columns = len(chunk.columns)
        return ctx.log_output(sink.path), sink.rows, columns
    frame = read_raw(source, window=window)
    return (
        ctx.write_table(catalogue.raw_snapshot(source.name), frame),
        len(frame),
        len(frame.columns),
    )
