"""File sources: every value kept as the text the export holds.

Raw snapshots must be the data unmodified, so files are read with every column
as text and nothing parsed or dropped; typing happens in step 4. Formats:

- CSV, gzip-compressed or not (recognised by its first bytes, whatever the suffix);
- Excel ``.xlsx`` (first sheet, via openpyxl; numbers and dates as pandas renders them);
- Parquet (typed columns rendered as text);
- JSON lines, one object per line (numbers keep their exact text; nested values as JSON).

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
import pyarrow.parquet as pq

from csi_helpers.errors import DataError
from csi_helpers.params import Source

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
    path = source.path
    if not path.is_file():
        raise DataError(f"source {source.name!r}: file not found: {path}; check its path in params")
    if path.stat().st_size == 0:
        raise DataError(f"source {source.name!r}: {path} is empty (0 bytes); export it again")
    fmt = source.file_format
    magic = _sniff(path)
    _check_kind(source, fmt, magic)
    try:
        if fmt == "csv":
            frame = _read_csv(path, gzipped=magic == "gzip", nrows=nrows)
        elif fmt == "jsonl":
            frame = _read_jsonl(path, gzipped=magic == "gzip", nrows=nrows)
        elif fmt == "parquet":
            frame = _read_parquet(path, nrows=nrows)
        else:
            frame = _read_excel(path, nrows=nrows)
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
    frame.columns = [str(c).removeprefix("\ufeff") for c in frame.columns]
    return frame.astype("string")


def describe(source: Source) -> dict[str, object]:
    """Provenance of a file read: its path and format."""
    return {"location": str(source.path), "format": source.file_format, "query": None}


def file_span(source: Source, column: str | None) -> tuple[str | None, str | None]:
    """Earliest and latest timestamp of one column (ISO text), or None when unknown.

    CSV and Parquet files are read one column only; other formats report unknown.
    Naive values are taken as UTC here: the span only tells whether the data covers a
    cycle, to the day.
    """
    fmt = source.file_format
    if column is None or fmt not in ("csv", "parquet"):
        return None, None
    try:
        if fmt == "csv":
            frame = _read_csv(source.path, gzipped=_sniff(source.path) == "gzip", usecols=[column])
        else:
            frame = pq.read_table(source.path, columns=[column]).to_pandas()
    except Exception:  # the span is only a hint; read_raw reports what is wrong
        return None, None
    values = frame[column]
    if not isinstance(values.dtype, pd.DatetimeTZDtype) and values.dtype.kind != "M":
        values = values.astype("string")
    stamps = pd.to_datetime(
        values, format=source.timestamp_format or "ISO8601", errors="coerce", utc=True
    ).dropna()
    if stamps.empty:
        return None, None
    return stamps.min().isoformat(), stamps.max().isoformat()


def _sniff(path: Path) -> str | None:
    with path.open("rb") as fh:
        head = fh.read(4)
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), None)


def _check_kind(source: Source, fmt: str, magic: str | None) -> None:
    expected = {"csv": (None, "gzip"), "jsonl": (None, "gzip"), "parquet": ("parquet",)}
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


def _read_csv(
    path: Path, *, gzipped: bool, nrows: int | None = None, usecols: list[str] | None = None
) -> pd.DataFrame:
    with _text(path, gzipped=gzipped) as text:
        return pd.read_csv(
            text,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            nrows=nrows,
            usecols=usecols,
        )


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
        batches = list(file.iter_batches(batch_size=max(nrows, 1)))
        table = pa.Table.from_batches(batches[:1], schema=file.schema_arrow).slice(0, nrows)
    frame = table.to_pandas()
    return frame.apply(_as_text) if len(frame.columns) else frame


def _as_text(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        return values.map(lambda v: v.isoformat() if pd.notna(v) else pd.NA).astype("string")
    return values.astype("string")


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
