"""``csi params sniff FILE…``: what an export holds, guessed from its header and values.

For each file: the kind of source (a ticket table, an event log, monitoring, changes,
outages, a survey), each canonical column mapped from the header (a preset when the header
is one the presets know), the timestamp format and whether times carry offsets, the texts
that mean "missing", the state vocabulary of an event log grouped into active / paused /
resolved / closed, the priorities and categories, and the span of the data. Every guess
keeps its evidence, which :mod:`~csi_helpers.onboarding.proposal` writes beside it as a
comment. Reading is bounded (:data:`SAMPLE_ROWS` rows), apart from the vocabulary of the
state column and the time span, which read that one column in chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from csi_helpers.connectors import column_values, file_span, read_raw
from csi_helpers.errors import DataError
from csi_helpers.params import Source, load_preset, preset_names
from csi_helpers.tables.canonical import CANONICAL, KEYS

__all__ = ["SAMPLE_ROWS", "Guess", "sniff_file"]

#: Rows read to guess columns, formats and kinds.
SAMPLE_ROWS = 20_000

#: Header names (normalised: lower case, runs of other characters as one ``_``) that feed
#: each canonical column, best first. A header equal to the canonical name counts too.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ticket_id": ("number", "incident_id", "incident_number", "ticket", "ticket_id", "issue_key",
                  "key", "case_concept_name", "case_id", "incident", "id"),
    "updated_at": ("sys_updated_at", "updated_at", "updated", "data_stamp", "datestamp",
                   "time_timestamp", "event_time", "activity_time", "timestamp"),
    "sequence": ("sys_mod_count", "sequence", "seq", "event_number"),
    "state": ("incident_state", "state", "status", "incident_activity_type", "activity",
              "concept_name", "event"),
    "opened_at": ("opened_at", "open_time", "created", "created_at", "opened", "sys_created_at"),
    "acknowledged_at": ("acknowledged_at",),
    "resolved_at": ("resolved_at", "resolved_time", "resolved", "resolution_date"),
    "closed_at": ("closed_at", "close_time", "closed"),
    "priority": ("priority", "prio"),
    "category": ("category", "issue_type"),
    "assignment_group": ("assignment_group", "org_group", "group", "team", "component_s"),
    "reassignment_count": ("reassignment_count", "x_reassignments", "reassignments"),
    "reopen_count": ("reopen_count",),
    "made_sla": ("made_sla",),
    "problem_id": ("problem_id",),
    "caused_by": ("caused_by", "related_change"),
    "short_description": ("short_description", "summary"),
    "timestamp": ("timestamp", "time", "datetime", "ts"),
    "change_id": ("change_id", "change_number", "change"),
    "type": ("change_type", "type"),
    "planned_start": ("planned_start", "scheduled_downtime_start", "start_date"),
    "planned_end": ("planned_end", "scheduled_downtime_end", "end_date"),
    "actual_start": ("actual_start",),
    "actual_end": ("actual_end",),
    "outcome": ("outcome", "close_code", "closure_code"),
    "outage_id": ("outage_id",),
    "start": ("start", "started_at", "begin"),
    "end": ("end", "ended_at", "finish"),
    "score": ("score", "rating", "csat"),
    "sent_at": ("sent_at", "sent"),
    "responded_at": ("responded_at", "answered_at"),
    "survey_id": ("survey_id", "response_id"),
}  # fmt: skip

#: Formats tried on timestamp columns, most specific first; ISO 8601 (with or without an
#: offset) is what parsing defaults to.
FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d/%b/%y %I:%M %p",
    "ISO8601",
)

#: Texts that mean "missing" in exports, when they stand alone in a cell.
MISSING_MARKERS = ("?", "#N/B", "#N/A", "NULL", "null", "N/A", "-")

#: State names, by the class they suggest (checked in this order; the rest are active):
#: resolved and closed only as the whole name, so that "Problem Closure" stays active.
STATE_WORDS = {
    "closed": r"^\s*(closed?|cancell?ed|done|completed?|withdrawn)\s*$",
    "resolved": r"^\s*(resolved?|solved|fixed)\s*$",
    "paused": r"hold|pend|await|wait|suspend",
}


@dataclass
class Guess:
    """What one export looks like, each finding with its evidence (for the comments)."""

    path: Path
    name: str
    kind: str
    rows: int  # rows read (at most SAMPLE_ROWS)
    header: list[str]
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> export column
    preset: str | None = None
    timestamp_format: str | None = None
    offsets: bool = False
    na_values: list[str] = field(default_factory=list)
    states: dict[str, list[str]] = field(default_factory=dict)
    vocabularies: dict[str, pd.Series] = field(default_factory=dict)  # canonical -> counts
    span: tuple[str | None, str | None] = (None, None)
    scales: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)  # key -> why


def sniff_file(path: Path) -> Guess:
    """Guess what ``path`` holds.

    Raises:
        DataError: the file cannot be read, or nothing in it looks like a kind of source
            (the message names the file and what to do).
    """
    probe = Source(name="sniffed", kind="tickets", path=path.resolve())
    raw = read_raw(probe, nrows=SAMPLE_ROWS)
    if raw.empty or not len(raw.columns):
        raise DataError(f"{path}: no rows to look at; export the data with its header row")
    header = [str(c) for c in raw.columns]
    na_values = [m for m in MISSING_MARKERS if _share(raw, m) > 0]
    kind, why = _kind(raw, header, path)
    guess = Guess(path, _slug(path), kind, len(raw), header, na_values=na_values)
    guess.evidence["kind"] = why
    guess.columns = _mapped(kind, header)
    for name in [c for c in guess.columns if CANONICAL[kind][c] == "datetime"][:1]:
        _timestamps(guess, raw[guess.columns[name]].dropna().astype(str), name)
    guess.preset, guess.evidence["preset"] = _preset(kind, header)
    _vocabularies(guess, raw, probe)
    _monitoring_value(guess, raw)
    time_column = _time_column(guess)
    if time_column:
        spanned = probe.model_copy(update={"timestamp_format": guess.timestamp_format})
        guess.span = file_span(spanned, guess.columns[time_column])
    return guess


def _kind(raw: pd.DataFrame, header: list[str], path: Path) -> tuple[str, str]:
    """The kind of source, with the evidence."""
    found = {kind: _mapped(kind, header) for kind in CANONICAL if kind != "calendar"}
    complete = {k: m for k, m in found.items() if all(key in m for key in KEYS[k])}
    if "ticket_events" in complete or "tickets" in complete:
        column = (complete.get("ticket_events") or complete["tickets"])["ticket_id"]
        ids, rows = raw[column].nunique(), int(raw[column].notna().sum())
        several = ids < 0.9 * rows
        if several and "ticket_events" in complete:
            return "ticket_events", (
                f"{ids:,} ticket ids over {rows:,} rows read: several rows per ticket, an event log"
            )
        if not several and "tickets" in complete:
            return "tickets", f"{ids:,} ticket ids over {rows:,} rows read: one per ticket"
    for kind in ("ticket_events", "tickets", "changes", "downtime", "survey", "problems"):
        if kind in complete and len(complete[kind]) >= 2:
            keys = ", ".join(complete[kind][k] for k in KEYS[kind])
            return kind, f"columns {keys} and {len(complete[kind])} canonical columns in all"
    numbers = [c for c in header if pd.to_numeric(raw[c], errors="coerce").notna().mean() > 0.95]
    if "monitoring" in complete and numbers:
        return "monitoring", (
            f"a time column ({complete['monitoring']['timestamp']}) and numeric "
            f"column(s) {', '.join(numbers)}: a time series"
        )
    raise DataError(
        f"{path}: no kind of source recognised in its header "
        f"({', '.join(header[:12])}); write the params by hand: `csi params columns KIND` "
        "lists the columns each kind maps onto"
    )


def _mapped(kind: str, header: list[str]) -> dict[str, str]:
    """Canonical column -> header name, by name and synonym, each header used once."""
    normal = {_normal(h): h for h in header}
    taken: set[str] = set()
    out: dict[str, str] = {}
    for canonical in CANONICAL[kind]:
        for name in (canonical, *SYNONYMS.get(canonical, ())):
            if name in normal and normal[name] not in taken:
                out[canonical] = normal[name]
                taken.add(normal[name])
                break
    return out


def _timestamps(guess: Guess, values: pd.Series, name: str) -> None:
    """The format that parses the sample of one timestamp column, and its offsets."""
    values = values[~values.isin(guess.na_values)].head(2_000)
    if values.empty:
        return
    guess.offsets = bool(values.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True).mean() > 0.5)
    for fmt in FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce", utc=guess.offsets)
        if parsed.notna().mean() >= 0.99:
            guess.timestamp_format = None if fmt == "ISO8601" else fmt
            example = values.iloc[0]
            guess.evidence["timestamp_format"] = (
                f"{fmt} parses {parsed.notna().mean():.0%} of {len(values):,} values of "
                f"{guess.columns[name]} (e.g. {example!r})"
                + ("; they carry UTC offsets" if guess.offsets else "; no offsets: set timezone")
            )
            return
    guess.evidence["timestamp_format"] = (
        f"no known format parses {guess.columns[name]} (e.g. {values.iloc[0]!r}): "
        "set timestamp_format"
    )


def _preset(kind: str, header: list[str]) -> tuple[str | None, str]:
    """A preset whose columns for this kind are all in the header."""
    for name in preset_names():
        try:
            columns = load_preset(name, kind=kind).get("columns", {})
        except ValueError:  # the preset has nothing for this kind
            continue
        keys = [columns[k] for k in KEYS[kind] if k in columns]
        if columns and keys and set(columns.values()) <= set(header):
            return name, f"every column of the {name} preset for {kind} is in the header"
    return None, ""


def _vocabularies(guess: Guess, raw: pd.DataFrame, probe: Source) -> None:
    """States (event logs: the whole column), priorities and categories, with counts."""
    for canonical in ("state", "priority", "category"):
        column = guess.columns.get(canonical)
        if column is None:
            continue
        counts = (
            column_values(probe, column)
            if canonical == "state" and guess.kind == "ticket_events"
            else raw[column].dropna().astype(str).str.strip().value_counts()
        )
        counts = counts[~counts.index.isin(guess.na_values)]
        guess.vocabularies[canonical] = counts
    if guess.kind == "ticket_events" and "state" in guess.vocabularies:
        guess.states = group_states(list(guess.vocabularies["state"].index))


def group_states(names: list[str]) -> dict[str, list[str]]:
    """States grouped by their words into the classes of an event log.

    Example:
        >>> group_states(["New", "In Progress", "On Hold", "Resolved", "Closed", "-100"])
        {'active': ['New', 'In Progress'], 'acknowledged': ['In Progress'], 'paused': ['On Hold'], 'resolved': ['Resolved'], 'closed': ['Closed']}
    """  # noqa: E501
    out: dict[str, list[str]] = {"active": [], "acknowledged": [], "paused": [], "resolved": []}
    out["closed"] = []
    for name in names:
        if not re.search(r"[A-Za-z]", name):
            continue  # a code such as -100: in no class, the history skips it
        cls = next((c for c, w in STATE_WORDS.items() if re.search(w, name, re.I)), "active")
        out[cls].append(name)
        if cls == "paused":
            out["active"].append(name)
    out["acknowledged"] = [
        n for n in out["active"] if re.search(r"progress|assign|work|active|ack", n, re.I)
    ]
    out["active"] = list(dict.fromkeys(n for n in out["active"] if n not in out["paused"]))
    return out


def _monitoring_value(guess: Guess, raw: pd.DataFrame) -> None:
    """A monitoring export's unnamed value column, named from the file's name."""
    if guess.kind != "monitoring":
        return
    free = [c for c in guess.header if c not in guess.columns.values()]
    numeric = [c for c in free if pd.to_numeric(raw[c], errors="coerce").notna().mean() > 0.95]
    if not numeric:
        return
    column, stem = numeric[0], guess.path.name.lower()
    canonical = next(
        (c for w, c in (("cpu", "utilisation"), ("util", "utilisation"), ("latency", "latency_ms"),
                        ("error", "error_rate"), ("request", "requests")) if w in stem),
        "requests",
    )  # fmt: skip
    guess.columns[canonical] = column
    values = pd.to_numeric(raw[column], errors="coerce")
    guess.evidence[canonical] = f"the file's name {guess.path.name!r}" + (
        "" if canonical != "requests" or "request" in stem else " says nothing: check it"
    )
    if canonical == "utilisation" and values.median() > 2:
        guess.scales["utilisation"] = "percent"
        guess.evidence["scales"] = f"median {values.median():.1f}: percent, not a fraction"


def _time_column(guess: Guess) -> str | None:
    order = ("updated_at", "opened_at", "timestamp", "actual_start", "planned_start", "start",
             "sent_at")  # fmt: skip
    return next((c for c in order if c in guess.columns), None)


def _share(raw: pd.DataFrame, marker: str) -> float:
    return float(raw.isin([marker]).to_numpy().mean())


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _slug(path: Path) -> str:
    stem = path.name.split(".")[0]
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "export"
