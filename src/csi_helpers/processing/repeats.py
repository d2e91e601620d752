"""Rows that repeat an earlier one: a second ticket with a kept id, a second sample of a series.

Step 4 keeps the first usable row and quarantines the repeats
(:func:`csi_helpers.processing.validate.canonical_chunks`); :class:`Kept` remembers what
earlier chunks kept, so that a table typed chunk by chunk loses the same rows as the
whole table would. Ids are compared as Arrow's ``is_in`` compares them; the samples of a
series (:data:`csi_helpers.tables.schemas.SAMPLE_KEYS`: a service and a time) are kept
as sorted integer times per series, which a million-row chunk searches in milliseconds
(Arrow's ``is_in`` rebuilds its hash table of every kept value at each call: 2.5 s per
chunk against 10 million kept keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Kept", "repeated_ids", "repeated_samples"]


@dataclass
class Kept:
    """What earlier chunks kept: per unique column its ids, per series its sample times."""

    ids: dict[str, list[pa.Array]] = field(default_factory=dict)
    samples: dict[tuple, np.ndarray] = field(default_factory=dict)  # sorted int64 times


def repeated_ids(values: pd.Series, usable: pd.Series, kept: Kept) -> pd.Series:
    """Usable rows whose id an earlier usable row (of this chunk or an earlier one) holds.

    ``kept`` gains the ids this chunk keeps.

    Example:
        >>> kept = Kept()
        >>> ids = pd.Series(["A", "B", "A"], dtype="string")
        >>> repeated_ids(ids, pd.Series([True, True, True]), kept).tolist()
        [False, False, True]
        >>> repeated_ids(pd.Series(["B", "C"], dtype="string"), pd.Series([True, True]),
        ...              kept).tolist()
        [True, False]
    """
    earlier = kept.ids.setdefault(str(values.name), [])
    dup = values.where(usable).duplicated(keep="first") & usable
    array = pa.array(values.array)
    if earlier:  # Arrow's is_in: Series.isin converts a million ids one by one
        known = pc.is_in(array, value_set=pa.concat_arrays(earlier))
        dup |= pd.Series(known.to_numpy(zero_copy_only=False), index=values.index) & usable
    earlier.append(array.filter(pa.array((usable & ~dup).to_numpy(bool))))
    return dup


def repeated_samples(
    table: pd.DataFrame, columns: tuple[str, ...], usable: pd.Series, kept: Kept
) -> pd.Series:
    """Usable rows whose series and time an earlier usable row holds.

    Args:
        table: the typed chunk.
        columns: the series' columns, then the time column (not missing in usable rows),
            e.g. ``("service", "timestamp")``; a missing series value is a value of its own.
        usable: the rows no other rule set aside.
        kept: what earlier chunks kept; gains this chunk's samples.

    Example:
        >>> t = pd.DataFrame({"service": ["web", "web", "api", "web"],
        ...                   "timestamp": pd.to_datetime(["2026-07-01 10:00"] * 3
        ...                                               + ["2026-07-01 11:00"], utc=True)})
        >>> kept = Kept()
        >>> columns = ("service", "timestamp")
        >>> repeated_samples(t, columns, pd.Series(True, index=t.index), kept).tolist()
        [False, True, False, False]
        >>> repeated_samples(t.iloc[3:], columns, pd.Series([True], index=[3]), kept).tolist()
        [True]
    """
    *series, time = columns
    frame = pd.DataFrame({c: table[c].astype("string").fillna("") for c in series})
    frame["_time"] = table[time].array.asi8  # microseconds (NaT only in rows not usable)
    frame = frame[usable.to_numpy(bool)]
    dup = pd.Series(False, index=table.index)
    dup[frame.index] = frame.duplicated(keep="first").to_numpy()
    firsts = frame[~dup[frame.index].to_numpy()]
    for key, rows in _by_series(firsts, series):
        times = rows["_time"].to_numpy()
        earlier = kept.samples.get(key, np.empty(0, dtype="int64"))
        if len(earlier):
            found = earlier[np.minimum(np.searchsorted(earlier, times), len(earlier) - 1)] == times
            dup[rows.index[found]] = True
            times = times[~found]
        times = np.sort(times)
        kept.samples[key] = np.insert(earlier, np.searchsorted(earlier, times), times)
    return dup


def _by_series(frame: pd.DataFrame, series: list[str]):
    """(key, rows) per series: the values of its columns as a tuple (``()`` without any)."""
    if not series:
        return [((), frame)]
    return (
        (key if isinstance(key, tuple) else (key,), rows)
        for key, rows in frame.groupby(series, sort=False)
    )
