"""Sources: where a cycle's data comes from (a file, a SQL query, a Prometheus range query)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from csi_helpers.params.base import SLUG, StrictModel, resolve_path
from csi_helpers.params.presets import load_preset, merge
from csi_helpers.tables.canonical import RATIOS

__all__ = ["SERVICENOW_STATES", "EventStates", "Source", "SourceFormat", "SourceKind"]

SourceKind = Literal[
    "tickets",
    "ticket_events",
    "monitoring",
    "changes",
    "problems",
    "calendar",
    "survey",
    "downtime",
]
SourceFormat = Literal["csv", "parquet", "excel", "jsonl", "xes"]
_FORMAT_BY_SUFFIX = {
    ".csv": "csv",
    ".gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xls": "excel",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xes": "xes",
}
# Text formats that keep their name under a ``.gz`` suffix (``log.xes.gz``, ``t.jsonl.gz``).
_GZIPPED_TEXT = {".csv", ".jsonl", ".ndjson", ".xes"}


#: The state names of a ServiceNow incident audit: the default of every ticket event log.
SERVICENOW_STATES: dict[str, tuple[str, ...]] = {
    "active": (
        "New",
        "Active",
        "In Progress",
        "Awaiting User Info",
        "Awaiting Problem",
        "Awaiting Vendor",
        "Awaiting Evidence",
        "On Hold",
    ),
    "acknowledged": ("Active", "In Progress"),  # first entry = acknowledgement
    "paused": (
        "Awaiting User Info",
        "Awaiting Problem",
        "Awaiting Vendor",
        "Awaiting Evidence",
        "On Hold",
    ),
    "resolved": ("Resolved",),
    "closed": ("Closed",),
}


def _default_states(kind: str) -> Any:
    return lambda: list(SERVICENOW_STATES[kind])


class EventStates(StrictModel):
    """Which states of a ticket event log count as what (names as the export spells them).

    The defaults are ServiceNow's state names (:data:`SERVICENOW_STATES`).
    """

    active: list[str] = Field(default_factory=_default_states("active"))
    """States in which a ticket is being worked on, e.g. [In Progress, Assigned]."""
    acknowledged: list[str] = Field(default_factory=_default_states("acknowledged"))
    """States that mean someone took the ticket up (its first ends the wait to acknowledge)."""
    paused: list[str] = Field(default_factory=_default_states("paused"))
    """States that stop the SLA clock, e.g. [Awaiting User Info]."""
    resolved: list[str] = Field(default_factory=_default_states("resolved"))
    """States that resolve a ticket, e.g. [Resolved]."""
    closed: list[str] = Field(default_factory=_default_states("closed"))
    """States that close a ticket, e.g. [Closed]."""


class Source(StrictModel):
    """One input: a file export, a SQL query, or a Prometheus range query."""

    name: Annotated[str, Field(pattern=SLUG)]
    """Name of the raw snapshot."""
    kind: SourceKind
    """What the source holds: tickets, ticket_events, monitoring, downtime, calendar, survey,
    changes or problems.
    """
    connector: Literal["file", "sql", "prometheus"] = "file"
    """How it is read: file (CSV, gzip, Excel, Parquet, JSON lines, XES), sql or prometheus."""
    path: Path | None = None
    """A file: the export; relative to the params file."""
    format: SourceFormat | None = None
    """A file: inferred from the suffix when omitted."""
    url: str | None = None
    """SQL: SQLAlchemy URL, password as ${VAR}; prometheus: base URL."""
    query: str | None = None
    """SQL: a SELECT; prometheus: a PromQL expression."""
    step: str | None = None
    """Prometheus: resolution of the range query, e.g. "1h"."""
    timeout_s: float = Field(30.0, gt=0)
    """SQL and Prometheus: give up after this long."""
    columns: dict[str, str] = Field(default_factory=dict)
    """The export's columns for canonical ones, e.g. {ticket_id: number, opened_at: opened}
    (`csi params columns KIND` lists a kind's canonical columns)."""
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Values to translate per canonical column, e.g. {priority: {Highest: 1 - Critical}}."""
    timestamp_format: str | None = None
    """Strftime pattern of the timestamps, e.g. "%d/%m/%Y %H:%M"; ISO 8601 when omitted."""
    timezone: str = "UTC"
    """IANA zone of timestamps without an offset, e.g. Europe/Amsterdam."""
    ignore_offsets: bool = False
    """Read every timestamp as wall-clock time in `timezone`, dropping the UTC offset the
    export writes: for exports whose offsets are wrong (local times stamped +00:00)."""
    na_values: list[str] = Field(default_factory=list)
    """Texts meaning "missing", e.g. "?"."""
    states: EventStates = Field(default_factory=EventStates)
    """A ticket_events source: which of the export's states count as active, acknowledged, paused,
    resolved and closed (ServiceNow's names by default).
    """
    fill_missing_times: bool = False
    """A ticket_events source: when a ticket's last update lacks opened/resolved/closed times, take
    them from its state history (off: the export's own value stands, blank included).
    """
    scales: dict[str, Literal["fraction", "percent"]] = Field(default_factory=dict)
    """Ratio columns (utilisation, error_rate) exported in percent: {utilisation: percent} divides
    them by 100 in step 4; "fraction" (the canonical scale) skips the check that refuses values
    which look percent-scaled.
    """

    preset: str | None = None
    """A packaged starting point, e.g. servicenow or jira."""

    _resolve = field_validator("path", mode="after")(resolve_path)

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("preset"):
            return data
        return merge(load_preset(data["preset"], kind=data.get("kind")), data)

    @model_validator(mode="after")
    def _connector_needs(self) -> Source:
        needs = {
            "file": ("path",),
            "sql": ("url", "query"),
            "prometheus": ("url", "query", "step"),
        }[self.connector]
        missing = [n for n in needs if getattr(self, n) is None]
        if missing:
            raise ValueError(
                f"a {self.connector} source needs {', '.join(needs)}; missing: {', '.join(missing)}"
            )
        return self

    @model_validator(mode="after")
    def _scales_name_ratio_columns(self) -> Source:
        ratios = RATIOS.get(self.kind, {})
        for name in self.scales:
            if name not in ratios:
                allowed = ", ".join(ratios) or f"none for a {self.kind} source"
                raise ValueError(
                    f"scales.{name}: not a ratio column of a {self.kind} source "
                    f"(ratio columns: {allowed})"
                )
        return self

    @property
    def file_format(self) -> str:
        """The declared format, or the one the file suffix implies (CSV when it says none).

        Example:
            >>> [Source(name="s", kind="ticket_events", path=p).file_format
            ...  for p in ("/d/log.xes.gz", "/d/log.XES", "/d/t.jsonl.gz", "/d/t.gz")]
            ['xes', 'xes', 'jsonl', 'csv']
        """
        if self.format:
            return self.format
        suffixes = [s.lower() for s in self.path.suffixes]
        if len(suffixes) > 1 and suffixes[-1] == ".gz" and suffixes[-2] in _GZIPPED_TEXT:
            return _FORMAT_BY_SUFFIX[suffixes[-2]]
        return _FORMAT_BY_SUFFIX.get(self.path.suffix.lower(), "csv")
