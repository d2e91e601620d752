"""XES event logs (IEEE 1849 eXtensible Event Stream) as rows of text, read as a stream.

One row per ``<event>``: each event attribute is a column named by its key
(``concept:name``, ``time:timestamp``, ``org:resource``, ``lifecycle:transition``,
…) and each attribute of the event's trace is a column prefixed ``case:``
(``case:concept:name``), as process-mining tools name them. Values are the text
of the ``value`` attribute, whatever the attribute's type (``string``, ``date``,
``int``, ``float``, ``boolean``, ``id``); an empty value is missing, as an empty
CSV cell. An attribute nested in another (a meta-attribute, or the members of a
``container``) is a column ``parent.child``; a ``list`` is one column holding the
JSON array of its values' text. Columns come ``case:`` first, each group in the
order the file first uses them; an event without an attribute has it missing.
When a key repeats within one event or trace, its last value stands.

The file is parsed with :func:`xml.etree.ElementTree.iterparse`, each event and
trace cleared once read, so memory holds one trace (its events' rows until its
attributes are known) and the rows of one chunk. Log-level attributes,
``<extension>``, ``<global>`` and ``<classifier>`` declarations describe the log,
not events, and are not rows; a trace without events gives no row. Malformed
XML raises :class:`~csi_helpers.errors.DataError` with the file, line and column
(in the uncompressed text for ``.xes.gz``).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "log.xes"
    >>> _ = path.write_text(
    ...     '<log xes.version="1.0"><trace><string key="concept:name" value="INC1"/>'
    ...     '<event><string key="concept:name" value="New"/>'
    ...     '<date key="time:timestamp" value="2026-01-05T08:00:00+00:00"/></event>'
    ...     '<event><string key="concept:name" value="Resolved"/></event></trace></log>')
    >>> frame = read_xes(path, gzipped=False)
    >>> frame.columns.tolist()
    ['case:concept:name', 'concept:name', 'time:timestamp']
    >>> frame["time:timestamp"].tolist()
    ['2026-01-05T08:00:00+00:00', <NA>]
"""

from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa

from csi_helpers.errors import DataError

__all__ = ["CASE_PREFIX", "read_xes", "read_xes_chunks", "xes_column"]

#: The prefix of a trace attribute's column.
CASE_PREFIX = "case:"
# Rows held as Python objects before they become Arrow text (the rest of a chunk is Arrow).
_BATCH_ROWS = 8192
_TEXT = pa.large_string()  # what pandas' "string" dtype holds

Row = dict[str, str]


def read_xes(path: Path, *, gzipped: bool, nrows: int | None = None) -> pd.DataFrame:
    """The events of an XES file, one row each, every value as text (missing: ``<NA>``).

    Args:
        path: the ``.xes`` file.
        gzipped: whether its bytes are gzip-compressed (``.xes.gz``).
        nrows: keep only the first events; the columns are still every key of the
            file, so that a schema check sees an attribute the first events lack.

    Raises:
        DataError: the file is not well-formed XML, not an XES log, or holds no event.
    """
    held = _Columns()
    keys: dict[str, None] = {}
    rows = _rows(path, gzipped=gzipped)
    for batch in _batches(rows if nrows is None else islice(rows, nrows), _BATCH_ROWS):
        held.add(batch)
    for row in rows:  # past nrows: their keys only
        keys.update(dict.fromkeys(row))
    keys = dict.fromkeys(held.arrays) | keys
    if not keys:
        raise DataError(_no_events(path))
    return held.frame(_ordered(keys), start=0)


def read_xes_chunks(path: Path, *, gzipped: bool, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The frames of :func:`read_xes`, at most ``chunk_rows`` events each.

    The file is read twice: once for its keys, so that every chunk has every
    column in the same order, then for its rows. Memory holds one chunk as Arrow
    text. The index continues across chunks, so ``pd.concat`` of the frames
    equals :func:`read_xes`.

    Raises:
        DataError: as :func:`read_xes`.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    keys: dict[str, None] = {}
    for row in _rows(path, gzipped=gzipped):
        keys.update(dict.fromkeys(row))
    if not keys:
        raise DataError(_no_events(path))
    columns = _ordered(keys)
    rows = _rows(path, gzipped=gzipped)
    start = 0
    while True:
        held = _Columns(columns)
        for batch in _batches(islice(rows, chunk_rows), min(chunk_rows, _BATCH_ROWS)):
            held.add(batch)
        if held.rows == 0 and start > 0:
            return
        yield held.frame(columns, start=start)
        start += held.rows
        if held.rows < chunk_rows:
            return


def xes_column(path: Path, column: str, *, gzipped: bool, chunk_rows: int) -> Iterator[pd.Series]:
    """One column's values (text or None), ``chunk_rows`` events at a time, in one pass.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "log.xes"
        >>> _ = path.write_text('<log><trace><event><string key="a" value="x"/></event>'
        ...                     '<event/></trace></log>')
        >>> [s.tolist() for s in xes_column(path, "a", gzipped=False, chunk_rows=5)]
        [['x', <NA>]]
    """
    for batch in _batches(_rows(path, gzipped=gzipped), chunk_rows):
        yield pd.Series([row.get(column) for row in batch], dtype="string")


class _Columns:
    """Rows gathered column by column as Arrow text; a key first met late is null before."""

    def __init__(self, columns: Iterable[str] = ()) -> None:
        self.arrays: dict[str, list[pa.Array]] = {c: [] for c in columns}
        self.rows = 0

    def add(self, batch: list[Row]) -> None:
        for key in dict.fromkeys(k for row in batch for k in row):
            if key not in self.arrays:
                self.arrays[key] = [pa.nulls(self.rows, _TEXT)]
        for key, parts in self.arrays.items():
            parts.append(pa.array([row.get(key) for row in batch], _TEXT))
        self.rows += len(batch)

    def frame(self, columns: list[str], *, start: int) -> pd.DataFrame:
        """These columns (nulls for a key never met) as ``string``, indexed from ``start``."""
        empty = [pa.nulls(self.rows, _TEXT)]
        data = {
            c: pd.arrays.ArrowStringArray(pa.chunked_array(self.arrays.get(c) or empty, _TEXT))
            for c in columns
        }
        return pd.DataFrame(data, index=pd.RangeIndex(start, start + self.rows))


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    """Rows in lists of at most ``size``."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _ordered(keys: Iterable[str]) -> list[str]:
    """Trace attributes first, then event attributes, each in order of first use."""
    return sorted(keys, key=lambda k: not k.startswith(CASE_PREFIX))


def _no_events(path: Path) -> str:
    return f"{path} holds no XES events (no <event> in any trace); export the log again"


def _rows(path: Path, *, gzipped: bool) -> Iterator[Row]:
    """Each event's attributes with its trace's (``case:``), in file order."""
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        yield from _parse(fh, path, gzipped=gzipped)


def _parse(fh: IO[bytes], path: Path, *, gzipped: bool) -> Iterator[Row]:
    """The event rows of an XES stream; elements are cleared as soon as they are read."""
    root: ET.Element | None = None
    trace: ET.Element | None = None  # the open trace
    trace_tag = event_tag = ""  # in the log's namespace, if it has one
    depth = 0
    traces = 0
    pending: list[Row] = []  # events of the open trace, until its attributes are known
    try:
        for what, elem in ET.iterparse(fh, events=("start", "end")):
            if what == "start":
                depth += 1
                if depth == 2 and elem.tag == trace_tag:
                    trace = elem
                    traces += 1
                elif root is None:
                    root = elem
                    namespace, _, local = elem.tag.rpartition("}")
                    if local != "log":
                        raise DataError(
                            f"{path} is not an XES log: its root element is <{local}>, "
                            "not <log>; check the file or its `format`"
                        )
                    trace_tag, event_tag = (
                        f"{namespace}}}{t}" if namespace else t for t in ("trace", "event")
                    )
                continue
            depth -= 1
            if depth > 2:
                continue
            if depth == 2 and elem.tag == event_tag and trace is not None:
                pending.append(_attributes(elem, path, f"trace {traces}, event {len(pending) + 1}"))
                trace.remove(elem)  # its attributes usually come first: a short search
            elif depth == 1 and elem.tag == event_tag:  # outside any trace: no case attributes
                yield _attributes(elem, path, "an event outside the traces")
                root.remove(elem)
            elif depth == 1 and elem.tag == trace_tag:
                case = _attributes(elem, path, f"trace {traces}", prefix=CASE_PREFIX)
                for row in pending:
                    yield case | row
                pending, trace = [], None
                root.clear()
    except ET.ParseError as exc:
        line, column = exc.position
        where = " of the uncompressed text" if gzipped else ""
        reason = str(exc).split(":")[0]
        raise DataError(
            f"{path} is not well-formed XES: {reason} at line {line}{where}, column {column + 1}; "
            "fix the file there or export the log again"
        ) from None


def _attributes(elem: ET.Element, path: Path, where: str, *, prefix: str = "") -> Row:
    """The attributes that are children of ``elem`` (an event or trace), flattened by key."""
    row: Row = {}
    _flatten(elem, row, prefix, path, where)
    return row


def _flatten(elem: Iterable[ET.Element], row: Row, prefix: str, path: Path, where: str) -> None:
    for child in elem:
        key = child.get("key")
        if key is None:
            tag = _local(child.tag)
            if tag == "event":  # a trace's events are read on their own
                continue
            raise DataError(
                f"{path}: {where} has a <{tag}> attribute without a key; "
                'every XES attribute needs key="..."; fix the file or export the log again'
            )
        name = prefix + key if prefix else key
        if not len(child):
            value = child.get("value")
            if value:
                row[name] = value
        elif _local(child.tag) == "list":
            items = [c for c in child if _local(c.tag) == "values"]
            values = [v.get("value") for holder in items for v in holder]
            row[name] = json.dumps(values, ensure_ascii=False)
            _flatten([c for c in child if _local(c.tag) != "values"], row, f"{name}.", path, where)
        else:
            value = child.get("value")
            if value:
                row[name] = value
            _flatten(child, row, f"{name}.", path, where)


def _local(tag: str) -> str:
    """A tag without its namespace (``{http://www.xes-standard.org/}event`` → ``event``)."""
    return tag.rsplit("}", 1)[-1]
