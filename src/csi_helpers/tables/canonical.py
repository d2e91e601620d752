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
        "acknowledged_at": "datetime",  # first acknowledgement (e.g. state In Progress)
        "assigned_at": "datetime",  # first assignment to a group or person
        "resolved_at": "datetime",
        "closed_at": "datetime",
        "state": "string",
        "priority": "string",
        "category": "string",
        "service": "string",
        "assignment_group": "string",
        "reassignment_count": "int",
        "reopen_count": "int",  # returns to an active state after resolution
        "reopen_after_close_count": "int",  # returns to an active state after closure
        "made_sla": "bool",
        "problem_id": "string",
        "caused_by": "string",  # the change that caused the incident
        "short_description": "string",
    },
    "monitoring": {
        "timestamp": "datetime",
        "service": "string",
        "requests": "float",
        "capacity": "float",
        "utilisation": "float",
        "latency_ms": "float",  # a latency sample (or a per-interval mean)
        "latency_p95_ms": "float",  # a per-interval p95, when the tool exports one
        "error_rate": "float",
        "up": "bool",  # the service answered its probe in this sample
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
        "type": "string",  # Standard / Normal / Emergency
        "planned_start": "datetime",
        "planned_end": "datetime",
        "actual_start": "datetime",
        "actual_end": "datetime",
        "outcome": "string",  # Successful / Failed / Backed out ...
        "service": "string",
    },
    "problems": {
        "problem_id": "string",
        "opened_at": "datetime",
        "resolved_at": "datetime",
        "closed_at": "datetime",
        "state": "string",
        "service": "string",
    },
    "ticket_events": {
        "ticket_id": "string",
        "updated_at": "datetime",
        "sequence": "int",  # update counter (e.g. ServiceNow sys_mod_count); orders ties
        "state": "string",
        "opened_at": "datetime",
        "resolved_at": "datetime",
        "closed_at": "datetime",
        "priority": "string",
        "category": "string",
        "assignment_group": "string",
        "reassignment_count": "int",
        "reopen_count": "int",
        "made_sla": "bool",
        "problem_id": "string",
        "caused_by": "string",
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

#: Ratio columns, kept as fractions (0.75 = 75 %), with the highest median a fraction of
#: them plausibly has: a column above it looks percent-scaled, and step 4
#: refuses it unless the source declares its scale (``scales: {utilisation: percent}``).
#: Utilisation may exceed 1 under overload, an error rate may not.
RATIOS: dict[str, dict[str, float]] = {"monitoring": {"utilisation": 2.0, "error_rate": 1.0}}


def source_column(canonical: str, mapping: dict[str, str], header: list[str]) -> str | None:
    """The export column that feeds ``canonical``, or None when the export lacks it."""
    if canonical in mapping:
        return mapping[canonical] if mapping[canonical] in header else None
    return canonical if canonical in header else None
