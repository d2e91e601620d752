"""File sources: every value kept as the text the export holds.

Raw snapshots must be the data unmodified, so files are read with every column
as a string and nothing parsed or dropped; typing happens in step 4.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers.errors import DataError
from csi_helpers.params import Source


def read_raw(source: Source, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a file source with all values as strings (empty cells → missing).

    Args:
        source: the source from params.
        nrows: read only the first rows (for schema checks).

    Raises:
        DataError: the file is missing, empty, or cannot be read as its format.
    """
    path = source.path
    if not path.is_file():
        raise DataError(f"source {source.name!r}: file not found: {path}")
    fmt = source.file_format
    try:
        if fmt == "csv":
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                nrows=nrows,
                encoding="utf-8-sig",
            )
        if fmt == "parquet":
            frame = pd.read_parquet(path)
            frame = frame.head(nrows) if nrows else frame
            return frame.astype("string")
        if fmt == "excel":
            return pd.read_excel(path, dtype=str, nrows=nrows)
        if fmt == "jsonl":
            return pd.read_json(path, lines=True, dtype=False, nrows=nrows).astype("string")
    except pd.errors.EmptyDataError:
        raise DataError(f"source {source.name!r}: {path} is empty; export it again") from None
    except (UnicodeDecodeError, ValueError, OSError) as exc:
        raise DataError(
            f"source {source.name!r}: cannot read {path} as {fmt} ({exc}); "
            "check the file or set `format` in params"
        ) from None
    raise DataError(f"source {source.name!r}: unsupported format {fmt!r}")  # pragma: no cover


def describe(source: Source) -> dict[str, object]:
    """Provenance of a file read: its path and format."""
    return {"location": str(source.path), "format": source.file_format, "query": None}


def file_span(source: Source, column: str | None) -> tuple[str | None, str | None]:
    """Earliest and latest timestamp of one column, read alone (ISO text, or None)."""
    if column is None or source.file_format != "csv":
        return None, None
    values = pd.read_csv(source.path, usecols=[column], dtype=str, encoding="utf-8-sig")[column]
    stamps = pd.to_datetime(
        values, format=source.timestamp_format or "ISO8601", errors="coerce", utc=True
    ).dropna()
    if stamps.empty:
        return None, None
    return stamps.min().isoformat(), stamps.max().isoformat()
