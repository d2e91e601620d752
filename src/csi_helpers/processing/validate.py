"""Raw snapshots → typed canonical tables, nothing lost (step 4).

Every raw row ends up either in the canonical table or in quarantine with a
reason that names the column and the value at fault:

- ``missing <key>``: a key column (:data:`~csi_helpers.tables.canonical.KEYS`) is blank;
- ``unparseable <column>: '<value>'``: not a timestamp in the source's format;
- ``nonexistent or ambiguous local time in <column> (<zone>): '<value>'``: a naive
  timestamp that the daylight-saving change skips or repeats;
- ``not a number in <column>: '<value>'``, ``not a whole number in …``,
  ``not true/false in …``: a value of the wrong type;
- ``not a finite number in <column>: '<value>'``: ``inf``, ``-inf``, ``Infinity``, or a
  value too large for a float (``1e309``);
- ``out of range <column>: '<value>' (allowed …)``: outside
  :data:`csi_helpers.tables.schemas.BOUNDS` (the one home of value ranges), or a
  timestamp outside :func:`~csi_helpers.tables.schemas.time_window`: before 1990, or
  more than a year after the cycle's end (a year after now when no cycle is given);
- ``resolved before opened``, ``ends before it starts``: :data:`~csi_helpers.tables.schemas.ORDER`;
- ``duplicate ticket_id: '<id>'``: the first usable row of an id is kept;
- ``duplicate sample: '<service>' <timestamp>``: a monitoring row with the service and
  time (UTC) of an earlier usable one (:data:`~csi_helpers.tables.schemas.SAMPLE_KEYS`);
  the first is kept, whatever the later one's values.

**Ratio scales.** Utilisation and error rates are fractions (0.75 = 75 %). A source
that exports one in percent says so (``scales: {utilisation: percent}``) and step 4
divides it by 100; one whose values look percent-scaled without saying so is refused
(:data:`~csi_helpers.tables.canonical.RATIOS`), since it would read as 7,500 %.

**Time zones.** A value with an offset (``Z``, ``+01:00``, ``-0500``) keeps it; a
naive value is read in the source's ``timezone``; a column may mix both. Every
timestamp is converted to UTC.

**Unknown states.** A ``ticket_events`` row whose state is in none of the
source's ``states`` lists is kept (the rest of its history is still valid, and
:mod:`csi_helpers.processing.events` ignores such states); the ledger
(:mod:`csi_helpers.processing.ledger`) counts those rows as a ``warning`` row with
the states found.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from csi_helpers.errors import DataError
from csi_helpers.params import Source
from csi_helpers.processing.repeats import Kept, repeated_ids, repeated_samples
from csi_helpers.processing.values import flag, shown, typed_column
from csi_helpers.tables.canonical import CANONICAL, KEYS, RATIOS, ColumnType, source_column
from csi_helpers.tables.schemas import (
    BOUNDS,
    DTYPES,
    ORDER,
    SAMPLE_KEYS,
    UNIQUE,
    Bound,
    describe_bound,
    out_of_range,
    time_window,
    validate_table,
)


def canonical_table(
    raw: pd.DataFrame, source: Source, *, cycle_end: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map a raw snapshot onto its canonical table and type its values.

    Args:
        raw: the snapshot, all values as text; not modified.
        source: the source's params (kind, column mapping, timestamp format, zone).
        cycle_end: the end of the cycle the data is read for (UTC): a timestamp more
            than a year after it is out of range (:func:`~csi_helpers.tables.schemas.time_window`);
            None: more than a year after now.

    Returns:
        ``(table, quarantine)``: the usable rows with canonical columns (checked
        against :func:`csi_helpers.tables.schemas.validate_table`), and the rejected raw
        rows with ``source_row`` (1-based data row) and ``reason``.

    Raises:
        DataError: a key column is absent from the export.

    Example:
        >>> from csi_helpers.params import Source
        >>> s = Source(name="t", kind="tickets", path="t.csv", columns={"ticket_id": "number"})
        >>> raw = pd.DataFrame({"number": ["INC1", "INC2", None, "INC4"],
        ...                     "opened_at": ["2026-01-01 10:00", "yesterday", "2026-01-01",
        ...                                   "2026-01-01 10:00+01:00"],
        ...                     "reassignment_count": ["1", "0", "0", "two"]})
        >>> table, quarantine = canonical_table(raw, s)
        >>> table["ticket_id"].tolist()
        ['INC1']
        >>> quarantine["reason"].tolist()  # doctest: +NORMALIZE_WHITESPACE
        ["unparseable opened_at: 'yesterday'", 'missing ticket_id',
         "not a number in reassignment_count: 'two'"]
    """
    return _canonical_chunk(raw, source, kept=Kept(), window=time_window(cycle_end))


def canonical_chunks(
    chunks: Iterable[pd.DataFrame], source: Source, *, cycle_end: pd.Timestamp | None = None
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """:func:`canonical_table` one chunk at a time, for tables larger than memory.

    Each chunk is typed and checked as :func:`canonical_table` types the whole
    table; an id that an earlier chunk kept makes a later row a duplicate, so the
    chunks' tables and quarantines, put together, are exactly the whole table's.
    Each raw chunk's index must continue the previous one's (it numbers the rows,
    as :func:`csi_helpers.runfolder.parquet.iter_table` and
    :func:`csi_helpers.connectors.files.read_raw_chunks` give them).

    Yields:
        ``(raw, table, quarantine)`` per chunk; a :class:`Ledger` counts ``raw``
        and ``quarantine``.

    Example:
        >>> from csi_helpers.params import Source
        >>> s = Source(name="t", kind="tickets", path="t.csv")
        >>> raw = pd.DataFrame({"ticket_id": ["A", "B", "A"],
        ...                     "opened_at": ["2026-01-01", "2026-01-02", "2026-01-03"]})
        >>> parts = list(canonical_chunks([raw.iloc[:2], raw.iloc[2:]], s))
        >>> [len(table) for _, table, _ in parts], parts[1][2]["reason"].tolist()
        ([2, 0], ["duplicate ticket_id: 'A'"])
    """
    kept, window = Kept(), time_window(cycle_end)
    for raw in chunks:
        table, quarantine = _canonical_chunk(raw, source, kept=kept, window=window)
        yield raw, table, quarantine


def _canonical_chunk(
    raw: pd.DataFrame, source: Source, *, kept: Kept, window: Bound
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Type one chunk; ``kept`` holds the ids and samples earlier chunks kept; every
    timestamp must lie in ``window``."""
    spec = CANONICAL[source.kind]
    header = [str(c) for c in raw.columns]
    _check_key_columns(source, header)
    times = {name: window for name, kind in spec.items() if kind == "datetime"}
    bounds = BOUNDS.get(source.kind, {}) | times
    columns: dict[str, pd.Series] = {}
    reasons = pd.Series(pd.NA, index=raw.index, dtype="string")
    for name, kind in spec.items():
        text = _column_text(raw, source, name, header)
        if text is None:
            columns[name] = _missing(kind, raw.index)
            continue
        typed, bad = typed_column(text, name, kind, source)
        if name in RATIOS.get(source.kind, {}):
            typed = _as_fraction(typed, name, source, text.name)
        if name in KEYS[source.kind]:
            reasons = reasons.fillna(flag(text.isna(), f"missing {name}"))
        reasons = reasons.fillna(bad)
        if name in bounds:
            outside = out_of_range(typed, bounds[name])
            allowed = f" (allowed {describe_bound(bounds[name])})"
            reasons = reasons.fillna(flag(outside, f"out of range {name}", text, allowed))
        columns[name] = typed
    table = pd.DataFrame(columns, index=raw.index)
    reasons = reasons.fillna(_rule_reasons(table, source.kind, reasons.isna(), kept))
    keep = reasons.isna()
    quarantine = raw.loc[~keep].assign(source_row=(raw.index[~keep] + 1), reason=reasons[~keep])
    table = validate_table(source.kind, table.loc[keep].reset_index(drop=True))
    return table, quarantine.reset_index(drop=True)


def _as_fraction(typed: pd.Series, name: str, source: Source, column: str) -> pd.Series:
    """A ratio column as a fraction: divided by 100 when the source declares it in percent.

    Raises:
        DataError: the scale is not declared and the values look percent-scaled: their
            median above :data:`~csi_helpers.tables.canonical.RATIOS`' limit (a median, so
            that one wrong value is quarantined as out of range instead).

    Example:
        >>> s = Source(name="cpu", kind="monitoring", path="cpu.csv",
        ...            scales={"utilisation": "percent"})
        >>> _as_fraction(pd.Series([75.0, 120.0]), "utilisation", s, "value").tolist()
        [0.75, 1.2]
    """
    scale = source.scales.get(name)
    if scale == "percent":
        return typed / 100.0
    values = typed.dropna().astype(float)
    limit = RATIOS[source.kind][name]
    if scale == "fraction" or values.empty or (median := float(values.median())) <= limit:
        return typed
    raise DataError(
        f"source {source.name!r} ({source.path}): column {column!r} ({name}) looks like "
        f"percent: its median is {median:,.4g}, and {name} is a fraction (0.75 = 75 %) "
        f"whose median does not exceed {limit:g}. If the export is in percent, "
        f"set sources[{source.name}].scales.{name}: percent in params (step 4 then divides it "
        f"by 100); if it really is a fraction, set sources[{source.name}].scales.{name}: fraction."
    )


def _check_key_columns(source: Source, header: list[str]) -> None:
    for name in KEYS[source.kind]:
        if source_column(name, source.columns, header) is not None:
            continue
        wanted = source.columns.get(name, name)
        close = difflib.get_close_matches(wanted, header, n=1, cutoff=0.5)
        hint = f"; closest: {close[0]!r}" if close else ""
        raise DataError(
            f"source {source.name!r} ({source.path}): column {wanted!r} for {name} not found"
            f"{hint}. Columns found: {', '.join(header)}. Set "
            f"sources[{source.name}].columns.{name}"
            " in params to the right column."
        )


def _column_text(
    raw: pd.DataFrame, source: Source, name: str, header: list[str]
) -> pd.Series | None:
    """The export's text for a canonical column: stripped, blanks and na_values missing."""
    col = source_column(name, source.columns, header)
    if col is None:
        return None
    text = raw[col].astype("string").str.strip()
    text = text.where(~text.isin(["", *source.na_values]))
    if name in source.values:
        text = text.replace(source.values[name])
    return text


def _missing(kind: ColumnType, index: pd.Index) -> pd.Series:
    return pd.Series(pd.NA if kind != "datetime" else pd.NaT, index=index, dtype=DTYPES[kind])


def _rule_reasons(table: pd.DataFrame, kind: str, clean: pd.Series, kept: Kept) -> pd.Series:
    """Order and uniqueness rules; ``kept`` holds what earlier chunks kept and gains this one's."""
    reasons = pd.Series(pd.NA, index=table.index, dtype="string")
    for earlier, later, reason in ORDER.get(kind, ()):
        reasons = reasons.fillna(flag(table[later] < table[earlier], reason))
    for column in UNIQUE.get(kind, ()):
        dup = repeated_ids(table[column], clean & reasons.isna(), kept)
        reasons = reasons.fillna(flag(dup, f"duplicate {column}", table[column]))
    if kind in SAMPLE_KEYS:
        columns = SAMPLE_KEYS[kind]
        dup = repeated_samples(table, columns, clean & reasons.isna(), kept)
        shown = [_sampleshown(row) for row in table.loc[dup, list(columns)].itertuples()]
        reasons = reasons.fillna(pd.Series(shown, index=table.index[dup], dtype="string"))
    return reasons


def _sampleshown(row: tuple) -> str:
    """The reason for a repeated sample (an itertuples row: index first): texts quoted,
    times in UTC, missing values left out."""
    key = [str(v) if isinstance(v, pd.Timestamp) else shown(v) for v in row[1:] if not pd.isna(v)]
    return "duplicate sample: " + " ".join(key)


def unknown_states(source: Source, raw: pd.DataFrame, quarantine: pd.DataFrame) -> pd.Series:
    """Rows kept per state that is in none of the source's state lists (ticket_events only)."""
    if source.kind != "ticket_events":
        return pd.Series(dtype=int)
    state = _column_text(raw, source, "state", [str(c) for c in raw.columns])
    if state is None:
        return pd.Series(dtype=int)
    kept = ~np.isin(raw.index + 1, quarantine["source_row"] if len(quarantine) else [])
    known = {s for names in source.states.model_dump().values() for s in names}
    unknown = state[kept & state.notna().to_numpy(bool) & ~state.isin(known).to_numpy(bool)]
    return unknown.value_counts()
