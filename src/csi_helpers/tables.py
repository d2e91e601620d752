"""Canonical tables: the columns every source kind is mapped onto.

A source's ``columns`` mapping in params names, for each canonical column,
the column of the export that feeds it; unmapped canonical columns are taken
from an export column of the same name when there is one.
"""

from __future__ import annotations

from typing import Literal

ColumnType = Literal["string", "datetime", "float", "int", "bool"]

CANONICAL: dict[str, dict[str, ColumnType]] = {
    "tickets": {
        "ticket_id": "string",
        "opened_at": "datetime",
        "resolved_at": "datetime",
        "closed_at": "datetime",
        "state": "string",
        "priority": "string",
        "category": "string",
        "assignment_group": "string",
        "reassignment_count": "int",
        "reopen_count": "int",
        "made_sla": "bool",
        "caused_by": "string",
        "short_description": "string",
    },
    "monitoring": {
        "timestamp": "datetime",
        "service": "string",
        "requests": "float",
        "capacity": "float",
        "utilisation": "float",
        "latency_p95_ms": "float",
        "error_rate": "float",
    },
    "downtime": {
        "outage_id": "string",
        "service": "string",
        "start": "datetime",
        "end": "datetime",
        "cause": "string",
        "ticket_id": "string",
    },
    "calendar": {
        "event_id": "string",
        "name": "string",
        "start": "datetime",
        "end": "datetime",
    },
    "survey": {
        "survey_id": "string",
        "ticket_id": "string",
        "sent_at": "datetime",
        "responded_at": "datetime",
        "score": "float",
    },
    "changes": {
        "change_id": "string",
        "type": "string",
        "planned_start": "datetime",
        "actual_start": "datetime",
        "actual_end": "datetime",
        "outcome": "string",
    },
    "problems": {
        "problem_id": "string",
        "opened_at": "datetime",
        "resolved_at": "datetime",
        "state": "string",
    },
    "ticket_events": {
        "ticket_id": "string",
        "updated_at": "datetime",
        "state": "string",
    },
}

# The columns without which a row of that kind means nothing.
KEYS: dict[str, tuple[str, ...]] = {
    "tickets": ("ticket_id", "opened_at"),
    "monitoring": ("timestamp",),
    "downtime": ("start", "end"),
    "calendar": ("start", "end"),
    "survey": ("sent_at",),
    "changes": ("change_id",),
    "problems": ("problem_id", "opened_at"),
    "ticket_events": ("ticket_id", "updated_at"),
}


# Kinds whose records run through the whole period, so that first and last record tell
# whether the data covers a cycle; outages, calendar entries and changes are sparse.
CONTINUOUS_KINDS = frozenset({"monitoring", "tickets", "ticket_events", "survey"})


def source_column(canonical: str, mapping: dict[str, str], header: list[str]) -> str | None:
    """The export column that feeds ``canonical``, or None when the export lacks it."""
    if canonical in mapping:
        return mapping[canonical] if mapping[canonical] in header else None
    return canonical if canonical in header else None
