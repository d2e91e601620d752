"""Connectors: read a source as it is, wherever it lives.

Every connector returns the data with each value as the text the source holds
(nothing parsed or dropped), so that step 3's snapshot is the data unmodified;
typing happens in step 4. One module per kind of place:

- :mod:`~csi_helpers.connectors.files`: CSV (also gzip), Excel, Parquet, JSON lines, XES
  event logs (:mod:`~csi_helpers.connectors.xes`), typed columns rendered as text by
  :mod:`~csi_helpers.connectors.text`;
- :mod:`~csi_helpers.connectors.sql`: any SQLAlchemy URL, the password from the environment;
- :mod:`~csi_helpers.connectors.prometheus`: range queries over Prometheus' HTTP API.
"""

from __future__ import annotations

from importlib import import_module

import pandas as pd

from csi_helpers.params import Source

_MODULES = {"file": "files", "sql": "sql", "prometheus": "prometheus"}


def _module(source: Source):
    return import_module(f"csi_helpers.connectors.{_MODULES[source.connector]}")


def read_raw(
    source: Source,
    *,
    nrows: int | None = None,
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """The source's rows, every value as text.

    Args:
        source: the source from params.
        nrows: limit a schema check's sample.
        window: the [start, end) a time-ranged source (Prometheus) is asked for;
            files and SQL queries carry their own range and ignore it.
    """
    if source.connector == "prometheus" and window is not None:
        return _module(source).read_raw(
            source, nrows=nrows, start=window[0].to_pydatetime(), end=window[1].to_pydatetime()
        )
    return _module(source).read_raw(source, nrows=nrows)


def read_header(source: Source) -> list[str]:
    """The column names of a source, from a small sample only."""
    return [str(c) for c in read_raw(source, nrows=5).columns]


def describe(source: Source) -> dict[str, object]:
    """Provenance of a read: location and query, credentials never included."""
    return _module(source).describe(source)


def file_span(source: Source, column: str | None) -> tuple[str | None, str | None]:
    """Earliest and latest timestamp of one column (file sources only; else unknown)."""
    if source.connector != "file":
        return None, None
    return import_module("csi_helpers.connectors.files").file_span(source, column)


def column_values(source: Source, column: str) -> pd.Series:
    """How often each value occurs in one column of a file source (blanks left out)."""
    if source.connector != "file":
        return read_raw(source)[column].value_counts()
    return import_module("csi_helpers.connectors.files").column_values(source, column)


__all__ = ["column_values", "describe", "file_span", "read_header", "read_raw"]
