"""Params checked against the data they name, before any step runs.

The schema check of a params file (:func:`csi_helpers.params.validate_params_file`)
cannot see the exports. This one reads each file source's header and the few columns
whose values params name, and reports, each with the key to change and a did-you-mean:

- a ``columns:`` key that is no canonical column of the source's kind
  (``csi params columns KIND`` lists them);
- a mapped column that is not in the file's header;
- a state of an event log's ``states:`` lists, or a raw value of ``values:``, that
  never occurs in the file (a difference of case named as such);
- an event log under whose states no ticket would ever resolve;
- a ticket, monitoring or survey source with no record inside the cycle.

Example:
    >>> close_match("Resolve Ticket", ["Resolve ticket", "Closed"])
    "'Resolve ticket' (the file writes it with other capitals)"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import pandas as pd

from csi_helpers.errors import DataError
from csi_helpers.params import Params, Source
from csi_helpers.tables.canonical import CANONICAL, CONTINUOUS_KINDS, KEYS, source_column

__all__ = ["check_against_data", "close_match"]

#: The record time of a source, per kind (the column the cycle check reads).
_RECORD_TIME = {
    "tickets": "opened_at",
    "ticket_events": "updated_at",
    "monitoring": "timestamp",
    "survey": "sent_at",
}


def check_against_data(params: Params) -> list[str]:
    """Every problem of the params' file sources, as one line each (empty: none)."""
    problems: list[str] = []
    for source in params.sources:
        if source.connector != "file" or source.path is None or not source.path.is_file():
            continue  # SQL and Prometheus are read at step 3; missing files: the schema check
        where = f"sources[{source.name}]"
        problems += _unknown_keys(source, where)
        try:
            header = _header(source)
        except DataError as exc:
            problems.append(f"{where}: {exc}")
            continue
        problems += _unmapped(source, where, header)
        problems += _values(source, where, header)
        if source.kind == "ticket_events":
            problems += _states(source, where, header)
        problems += _cycle(params, source, where, header)
    return problems


def close_match(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely meant, quoted, with a note when only the case differs."""
    candidates = [str(c) for c in candidates]
    same = [c for c in candidates if c.lower() == word.lower() and c != word]
    if same:
        return f"{same[0]!r} (the file writes it with other capitals)"
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return repr(close[0]) if close else None


def _header(source: Source) -> list[str]:
    from csi_helpers.connectors import read_header

    return read_header(source)


def _hint(word: str, candidates: Iterable[str]) -> str:
    match = close_match(word, candidates)
    return f"; did you mean {match}?" if match else ""


def _unknown_keys(source: Source, where: str) -> list[str]:
    canonical = CANONICAL[source.kind]
    return [
        f"{where}.columns.{key}: not a column of a {source.kind} source{_hint(key, canonical)} "
        f"(`csi params columns {source.kind}` lists them)"
        for key in source.columns
        if key not in canonical
    ]


def _unmapped(source: Source, where: str, header: list[str]) -> list[str]:
    problems = []
    for key, column in source.columns.items():
        if key in CANONICAL[source.kind] and column not in header:
            problems.append(
                f"{where}.columns.{key}: the file {source.path} has no column {column!r}"
                f"{_hint(column, header)} (its columns: {', '.join(header[:15])}"
                f"{', …' if len(header) > 15 else ''})"
            )
    for key in KEYS[source.kind]:
        if key not in source.columns and key not in header:
            problems.append(
                f"{where}: the file {source.path} has no column {key!r}, which a "
                f"{source.kind} source needs{_hint(key, header)}; map it with "
                f"{where}.columns.{key}: <the file's column>"
            )
    return problems


def _column_values(source: Source, name: str, header: list[str]) -> pd.Series | None:
    from csi_helpers.connectors import column_values

    column = source_column(name, source.columns, header)
    return None if column is None else column_values(source, column)


def _values(source: Source, where: str, header: list[str]) -> list[str]:
    problems = []
    for name, mapping in source.values.items():
        counts = _column_values(source, name, header)
        if counts is None:
            continue
        for raw in mapping:
            if raw not in counts.index:
                problems.append(
                    f"{where}.values.{name}: {raw!r} never occurs in the file's {name} column"
                    f"{_hint(raw, counts.index)}"
                )
    return problems


def _states(source: Source, where: str, header: list[str]) -> list[str]:
    counts = _column_values(source, "state", header)
    if counts is None:
        return []
    found = set(counts.index)
    states = source.states
    problems = []
    for group in states.model_fields_set:  # the lists the analyst wrote: each name must occur
        for name in getattr(states, group):
            if name not in found:
                problems.append(
                    f"{where}.states.{group}: {name!r} never occurs in the file's state "
                    f"column{_hint(name, found)}"
                )
    if not found & {*states.resolved, *states.closed}:
        listed = ", ".join(f"{v!r} ({n:,})" for v, n in counts.head(12).items())
        problems.append(
            f"{where}.states: no ticket would ever resolve: none of the resolved or closed "
            f"states ({', '.join(map(repr, [*states.resolved, *states.closed]))}) occurs in the "
            f"file. Its states, most frequent first: {listed}. Set {where}.states.resolved "
            "(and active, paused, closed) to the file's names"
        )
    return problems


def _cycle(params: Params, source: Source, where: str, header: list[str]) -> list[str]:
    from csi_helpers.connectors import file_span

    if source.kind not in CONTINUOUS_KINDS:
        return []  # outages, changes and calendars may have none in a cycle
    column = source_column(_RECORD_TIME[source.kind], source.columns, header)
    first, last = file_span(source, column) if column else (None, None)
    if first is None or last is None:
        return []
    start, end = params.cycle_window()
    if pd.Timestamp(last) < start or pd.Timestamp(first) >= end:
        return [
            f"{where}: no record inside the cycle {params.cycle.start} to {params.cycle.end}: "
            f"the file {source.path} runs from {first[:10]} to {last[:10]}. Set cycle.start "
            "and cycle.end to a period the data covers, or point the source at the right export"
        ]
    return []
