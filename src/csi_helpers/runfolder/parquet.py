"""Run-folder tables larger than memory: read Parquet in chunks, write it chunk by chunk.

Steps 3 and 4 pass tens of millions of rows through pandas a chunk at a time.
:func:`iter_table` reads a Parquet table as pandas frames of at most
``chunk_rows`` rows whose index continues from one chunk to the next (so a
row's number in the table stays its index). :class:`ParquetSink` appends frames
to one Parquet file and writes exactly what ``DataFrame.to_parquet(index=False)``
writes for the whole table: same schema and pandas metadata, same compression,
row groups of the same size (:data:`ROW_GROUP_ROWS`), so the file is the same
byte for byte however the rows were chunked. It holds at most one row group of
Arrow data at a time.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> frame = pd.DataFrame({"id": ["a", "b", "c"], "n": [1.5, None, 3.0]}).astype(
    ...     {"id": "string", "n": "Float64"})
    >>> frame.to_parquet(folder / "whole.parquet", index=False)
    >>> with ParquetSink(folder / "chunked.parquet") as sink:
    ...     for chunk in iter_table(folder / "whole.parquet", chunk_rows=2):
    ...         sink.write(chunk)
    >>> (folder / "chunked.parquet").read_bytes() == (folder / "whole.parquet").read_bytes()
    True
    >>> [chunk.index.tolist() for chunk in iter_table(folder / "whole.parquet", chunk_rows=2)]
    [[0, 1], [2]]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from csi_helpers.atomic import PendingFile
from csi_helpers.errors import RunFolderError

#: Rows per chunk that steps 3 and 4 read and type at a time.
CHUNK_ROWS = 250_000
#: Rows per Parquet row group: pyarrow's default for a whole table (``write_table``).
ROW_GROUP_ROWS = 1024 * 1024
_COMPRESSION = "snappy"  # pandas' default for to_parquet


def open_parquet(path: str | Path) -> pq.ParquetFile:
    """A run-folder table, opened; a damaged one is a :class:`RunFolderError` naming it.

    Example:
        >>> import tempfile, pathlib
        >>> bad = pathlib.Path(tempfile.mkdtemp()) / "kpi_values.parquet"
        >>> _ = bad.write_bytes(b"PAR1 not a table")
        >>> open_parquet(bad)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        csi_helpers.errors.RunFolderError: .../kpi_values.parquet: damaged, not a Parquet table ...
    """
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunFolderError(
            f"{path}: damaged, not a Parquet table ({reason}). Re-run the step that wrote it "
            "(for a previous cycle's run: run that cycle again, or leave previous_run out)"
        ) from None


def read_frame(path: str | Path, *, columns: list[str] | None = None) -> pd.DataFrame:
    """``pandas.read_parquet(path)``, a damaged file named (:func:`open_parquet`)."""
    open_parquet(path)
    return pd.read_parquet(path, columns=columns)


def iter_table(path: str | Path, *, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The rows of a Parquet table as pandas frames of at most ``chunk_rows`` rows.

    Each frame has the dtypes ``pandas.read_parquet`` gives the whole table and a
    RangeIndex that continues the previous frame's. A table without rows gives
    one empty frame with its columns.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    file = open_parquet(path)
    schema = file.schema_arrow
    start = 0
    for batch in file.iter_batches(batch_size=chunk_rows):
        frame = pa.Table.from_batches([batch], schema=schema).to_pandas()
        frame.index = pd.RangeIndex(start, start + len(frame))
        start += len(frame)
        yield frame
    if start == 0:
        yield schema.empty_table().to_pandas()


def read_lean(path: str | Path, *, columns: list[str] | None = None) -> pd.DataFrame:
    """``pandas.read_parquet(path)``, converted one column at a time.

    ``read_parquet`` holds the whole Arrow table and the pandas frame at once
    (about twice the frame); here only one column's Arrow copy sits beside the
    frame, so a 10M-row monitoring table peaks near its own size.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
        >>> frame = pd.DataFrame({"a": ["x", None], "b": [1.5, None]}).astype(
        ...     {"a": "string", "b": "Float64"})
        >>> frame.to_parquet(path, index=False)
        >>> read_lean(path).equals(pd.read_parquet(path))
        True
    """
    file = open_parquet(path)
    names = columns if columns is not None else file.schema_arrow.names
    parts = {}
    for name in names:
        parts[name] = file.read(columns=[name]).to_pandas()[name]
    if not parts:
        return pd.read_parquet(path, columns=columns)
    return pd.DataFrame(parts, copy=False)


class ParquetSink:
    """Append pandas frames to one Parquet file, as ``to_parquet(index=False)`` would write it.

    The file is written under a temporary name beside ``path`` and renamed into
    place on a clean exit (removed on an error), by
    :class:`csi_helpers.atomic.PendingFile`. With ``lazy=True`` no file is made
    unless a frame is written, so an empty quarantine leaves nothing behind.
    Every frame must have the first one's columns and dtypes.
    """

    def __init__(
        self, path: str | Path, *, lazy: bool = False, row_group_rows: int = ROW_GROUP_ROWS
    ) -> None:
        self.path = Path(path)
        self.lazy = lazy
        self.rows = 0
        self._row_group_rows = row_group_rows
        self._schema: pa.Schema | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._file: PendingFile | None = None

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, frame: pd.DataFrame) -> None:
        """Append a frame's rows (its index is not stored)."""
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._schema is None:
            self._schema = table.schema
        elif not table.schema.equals(self._schema, check_metadata=True):
            raise ValueError(
                f"{self.path}: a chunk's columns differ from the first chunk's:\n"
                f"{table.schema}\nexpected\n{self._schema}"
            )
        self._pending.append(table)
        self._pending_rows += len(table)
        self.rows += len(table)
        while self._pending_rows >= self._row_group_rows:
            self._flush(self._row_group_rows)

    def close(self) -> Path | None:
        """Write what is pending and move the file into place; None when lazy and empty."""
        if self._schema is None:
            if self.lazy:
                return None
            raise ValueError(f"{self.path}: nothing was written; a table needs its columns")
        if self._pending_rows or self._writer is None:
            self._flush(self._pending_rows)
        self._writer.close()
        self._writer = None
        return self._file.commit()

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._file is not None:
            self._file.discard()

    def _flush(self, rows: int) -> None:
        """Write the first ``rows`` pending rows as one row group."""
        if self._writer is None:
            self._file = PendingFile(self.path)
            self._writer = pq.ParquetWriter(self._file.path, self._schema, compression=_COMPRESSION)
        pending = pa.concat_tables(self._pending) if self._pending else self._schema.empty_table()
        group = pending.slice(0, rows).combine_chunks()
        rest = pending.slice(rows)
        self._writer.write_table(group, row_group_size=max(rows, 1))
        self._pending = [rest] if len(rest) else []
        self._pending_rows = len(rest)
