"""File sources: every value kept as the text the export holds.

Raw snapshots must be the data unmodified, so files are read with every column
as text and nothing parsed or dropped; typing happens in step 4. Formats:

- CSV, gzip-compressed or not (recognised by its first bytes, whatever the suffix);
- Excel ``.xlsx`` (first sheet, via openpyxl; numbers and dates as pandas renders them);
- Parquet (typed columns rendered as text);
- JSON lines, one object per line (numbers keep their exact text; nested values as JSON);
- XES event logs, gzip-compressed or not: one row per event, trace attributes as
  ``case:`` columns (:mod:`csi_helpers.connectors.xes`).

Text files must be UTF-8; a byte-order mark is dropped. What cannot be read
raises :class:`~csi_helpers.errors.DataError` naming the file and what to do:
an empty file (0 bytes; a header alone is fine and gives 0 rows), a truncated
gzip, bytes that are not UTF-8 (with their offset), an unreadable workbook, and
content that is not what the format or suffix says.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from csi_helpers.connectors.text import parquet_text
from csi_helpers.connectors.xes import read_xes, read_xes_chunks, xes_column
from csi_helpers.errors import DataError
from csi_helpers.params import Source

#: The formats :func:`read_raw_chunks` streams a chunk at a time (the others come whole).
STREAMED_FORMATS = ("csv", "parquet", "xes")

# What a file's first bytes say it is.
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip (an .xlsx workbook)",
    b"PAR1": "parquet",
    b"\xd0\xcf\x11\xe0": "legacy Excel .xls",
}


def read_raw(source: Source, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a file source with all values as text (empty cells → missing).

    Args:
        source: the source from params.
        nrows: read only the first rows (for schema checks).

    Returns:
        One column per field of the export, dtype ``string``, in the file's order.

    Raises:
        DataError: the file is missing, empty, or cannot be read as its format.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = path.write_bytes("\\ufeffid,n\\nA,007\\nB,\\n".encode())
        >>> frame = read_raw(Source(name="t", kind="tickets", path=path))
        >>> list(frame.columns), frame["n"].tolist()
        (['id', 'n'], ['007', <NA>])
    """
    fmt, magic = _checked(source)
    with _reading(source, fmt, magic):
        if fmt == "csv":
            frame = _read_csv(source.path, gzipped=magic == "gzip", nrows=nrows)
        elif fmt == "jsonl":
            frame = _read_jsonl(source.path, gzipped=magic == "gzip", nrows=nrows)
        elif fmt == "parquet":
            frame = _read_parquet(source.path, nrows=nrows)
        elif fmt == "xes":
            frame = read_xes(source.path, gzipped=magic == "gzip", nrows=nrows)
        else:
            frame = _read_excel(source.path, nrows=nrows)
    return _as_raw(frame)


def read_raw_chunks(source: Source, *, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file source as :func:`read_raw` reads it, in frames of at most ``chunk_rows`` rows.

    CSV (gzip or not), Parquet and XES files are streamed, so memory holds one
    chunk (an XES file is read twice: first for its columns); Excel workbooks and
    JSON lines are read whole and come as one frame (a JSON lines file's columns
    are only known once every line is read). The index
    continues across chunks, so ``pd.concat`` of the frames equals ``read_raw``.
    A file with a header and no rows gives one empty frame with its columns.

    Raises:
        DataError: as :func:`read_raw`, when the file or a later chunk cannot be read.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "t.csv"
        >>> _ = path.write_text("id\\nA\\nB\\nC\\n")
        >>> s = Source(name="t", kind="tickets", path=path)
        >>> [chunk.index.tolist() for chunk in read_raw_chunks(s, chunk_rows=2)]
        [[0, 1], [2]]
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    fmt, magic = _checked(source)
    if fmt not in STREAMED_FORMATS:
        yield read_raw(source)
        return
    with _reading(source, fmt, magic):
        if fmt == "xes":
            yield from read_xes_chunks(source.path, gzipped=magic == "gzip", chunk_rows=chunk_rows)
        elif fmt == "csv":
            with _text(source.path, gzipped=magic == "gzip") as text:
                for frame in pd.read_csv(text, chunksize=chunk_rows, **_CSV_OPTIONS):
                    yield _as_raw(frame)
        else:
            file = pq.ParquetFile(source.path)
            start = 0
            for batch in file.iter_batches(batch_size=chunk_rows):
                frame = parquet_text(pa.Table.from_batches([batch], schema=file.schema_arrow))
                frame.index = pd.RangeIndex(start, start + len(frame))
                start += len(frame)
                yield _as_raw(frame)
            if start == 0:
                yield _as_raw(parquet_text(file.schema_arrow.empty_table()))


def _checked(source: Source) -> tuple[str, str | None]:
    """The source's format and what its first bytes say; DataError when it cannot be read."""
    path = source.path
    if not path.is_file():
        raise DataError(f"source {source.name!r}: file not found: {path}; check its path in params")
    if path.stat().st_size == 0:
        raise DataError(f"source {source.name!r}: {path} is empty (0 bytes); export it again")
    fmt = source.file_format
    magic = _sniff(path)
    _check_kind(source, fmt, magic)
    return fmt, magic


@contextmanager
def _reading(source: Source, fmt: str, magic: str | None) -> Iterator[None]:
    """Turn what a reader raises on a bad file into a DataError naming the source and file."""
    path = source.path
    try:
        yield
    except DataError as exc:
        raise DataError(f"source {source.name!r}: {exc}") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(
            f"source {source.name!r}: {path} is a truncated or damaged gzip file ({exc}); "
            "copy or export it again"
        ) from None
    except UnicodeDecodeError:
        raise DataError(
            f"source {source.name!r}: {path} is not UTF-8 text: {_bad_byte(path, magic)}. "
            "Re-export it as UTF-8 (e.g. 'CSV UTF-8' in Excel, or `iconv -f cp1252 -t utf-8`); "
            "other encodings are not supported yet"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            f"source {source.name!r}: {path} has no header row; export it again with a header"
        ) from None
    except (ValueError, OSError, zipfile.BadZipFile, KeyError, pa.ArrowException) as exc:
        raise DataError(
            f"source {source.name!r}: cannot read {path} as {fmt} ({exc}); "
            "check the file or set `format` in params"
        ) from None


def _as_raw(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c).removeprefix("\ufeff") for c in frame.columns]
    return frame.astype("string")


def describe(source: Source) -> dict[str, object]:
    """Provenance of a file read: its path and format."""
    return {"location": str(source.path), "format": source.file_format, "query": None}


def file_span(
    source: Source, column: str | None, *, chunk_rows: int = 1_000_000
) -> tuple[str | None, str | None]:
    """Earliest and latest timestamp of one column (ISO text), or None when unknown.

    CSV, Parquet and XES files are read one column only, ``chunk_rows`` values at a
    time (a typed Parquet timestamp column is reduced by Arrow without pandas);
    other formats report unknown. Naive values are taken as UTC here: the span only tells
    whether the data covers a cycle, to the day.
    """
    fmt = source.file_format
    if column is None or fmt not in STREAMED_FORMATS:
        return None, None
    low = high = None
    try:
        for values in _column_chunks(source, column, chunk_rows):
            stamps = _stamps(values, source).dropna()
            if stamps.empty:
                continue
            low = stamps.min() if low is None else min(low, stamps.min())
            high = stamps.max() if high is None else max(high, stamps.max())
    except Exception:  # the span is only a hint; read_raw reports what is wrong
        return None, None
    if low is None:
        return None, None
    return low.isoformat(), high.isoformat()


def column_values(source: Source, column: str, *, chunk_rows: int = 1_000_000) -> pd.Series:
    """How often each text value occurs in one column of a file (blanks left out).

    CSV, Parquet and XES files are read one column only, in chunks; other formats whole.
    """
    counts: pd.Series = pd.Series(dtype="int64")
    if source.file_format in STREAMED_FORMATS:
        pieces = _column_chunks(source, column, chunk_rows)
    else:
        pieces = iter([read_raw(source)[column]])
    for values in pieces:
        text = values.astype("string").str.strip()
        counts = counts.add(text[text.fillna("") != ""].value_counts(), fill_value=0)
    return counts.astype("int64").sort_values(ascending=False)


def _column_chunks(source: Source, column: str, chunk_rows: int) -> Iterator[pd.Series]:
    """One column of a CSV, Parquet or XES file, in pieces (a typed timestamp column: its range)."""
    if source.file_format == "xes":
        gzipped = _sniff(source.path) == "gzip"
        yield from xes_column(source.path, column, gzipped=gzipped, chunk_rows=chunk_rows)
        return
    if source.file_format == "csv":
        gzipped = _sniff(source.path) == "gzip"
        with _text(source.path, gzipped=gzipped) as text:
            for frame in pd.read_csv(text, usecols=[column], chunksize=chunk_rows, **_CSV_OPTIONS):
                yield frame[column]
        return
    file = pq.ParquetFile(source.path)
    if pa.types.is_timestamp(file.schema_arrow.field(column).type):
        values = file.read(columns=[column]).column(0)
        ends = pc.min_max(values)
        ticks = pa.array([ends["min"].value, ends["max"].value], pa.int64())
        yield ticks.view(values.type).to_pandas()
        return
    for batch in file.iter_batches(batch_size=chunk_rows, columns=[column]):
        yield batch.column(0).to_pandas()


def _stamps(values: pd.Series, source: Source) -> pd.Series:
    if not isinstance(values.dtype, pd.DatetimeTZDtype) and values.dtype.kind != "M":
        values = values.astype("string")
    return pd.to_datetime(
        values, format=source.timestamp_format or "ISO8601", errors="coerce", utc=True
    )


def _sniff(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(4)
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def _check_kind(source: Source, fmt: str, magic: str | None) -> None:
    expected = {
        "csv": (None, "gzip"),
        "jsonl": (None, "gzip"),
        "xes": (None, "gzip"),
        "parquet": ("parquet",),
    }
    allowed = expected.get(fmt, ("zip (an .xlsx workbook)",))
    if magic in allowed:
        return
    found = magic or "text"
    hint = "save it as .xlsx" if magic == "legacy Excel .xls" else "set `format` in params"
    raise DataError(
        f"source {source.name!r}: {source.path} is read as {fmt} (its suffix or `format`) but "
        f"its content is {found}; {hint} or export the file again in the expected format"
    )


@contextmanager
def _text(path: Path, *, gzipped: bool) -> Iterator[IO[str]]:
    raw = gzip.open(path, "rb") if gzipped else path.open("rb")  # noqa: SIM115 - closed below
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        yield text


# Every value as text; only an empty cell is missing.
_CSV_OPTIONS = {"dtype": str, "keep_default_na": False, "na_values": [""]}


def _read_csv(
    path: Path, *, gzipped: bool, nrows: int | None = None, usecols: list[str] | None = None
) -> pd.DataFrame:
    with _text(path, gzipped=gzipped) as text:
        return pd.read_csv(text, nrows=nrows, usecols=usecols, **_CSV_OPTIONS)


def _read_jsonl(path: Path, *, gzipped: bool, nrows: int | None) -> pd.DataFrame:
    records: list[dict[str, str | None]] = []
    with _text(path, gzipped=gzipped) as text:
        for number, line in enumerate(text, start=1):
            if nrows is not None and len(records) >= nrows:
                break
            if not line.strip():
                continue
            try:
                record = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{path} line {number} is not JSON ({exc.msg} at column {exc.colno}); "
                    "fix that line or export the file again"
                ) from None
            if not isinstance(record, dict):
                raise DataError(
                    f"{path} line {number} holds a {type(record).__name__}, not an object; "
                    "JSON lines sources need one object per line"
                )
            if any(isinstance(v, dict | list) for v in record.values()):
                record = _nested_as_json(record, json.loads(line))
            records.append({str(k): _json_text(v) for k, v in record.items()})
    if not records and nrows != 0:
        raise DataError(f"{path} holds no JSON records; export it again")
    return pd.DataFrame.from_records(records)


def _nested_as_json(record: dict, plain: dict) -> dict:
    """Nested lists and objects as JSON text (their numbers as JSON writes them)."""
    return {
        k: json.dumps(plain[k], ensure_ascii=False) if isinstance(v, dict | list) else v
        for k, v in record.items()
    }


def _json_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _read_parquet(path: Path, *, nrows: int | None) -> pd.DataFrame:
    file = pq.ParquetFile(path)
    if nrows is None:
        table = file.read()
    else:
        first = next(file.iter_batches(batch_size=max(nrows, 1)), None)  # not every batch
        batches = [] if first is None else [first]
        table = pa.Table.from_batches(batches, schema=file.schema_arrow).slice(0, nrows)
    return parquet_text(table)


def _read_excel(path: Path, *, nrows: int | None) -> pd.DataFrame:
    return pd.read_excel(
        path,
        sheet_name=0,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        nrows=nrows,
        engine="openpyxl",
    )


def _bad_byte(path: Path, magic: str | None) -> str:
    """Where the first byte that is not UTF-8 sits (offset in the uncompressed text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    opener = gzip.open if magic == "gzip" else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                start = max(exc.start, 0)
                line += chunk.count(b"\n", 0, start)
                return f"byte 0x{chunk[start]:02x} at offset {offset + start} (line {line})"
            offset += len(chunk)
            line += chunk.count(b"\n")
    return "an invalid byte sequence"
