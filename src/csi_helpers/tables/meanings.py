"""What each canonical column means, in the words an analyst maps an export with
(``csi params columns KIND``). A column means the same in every kind that has it, unless
:data:`BY_KIND` says otherwise for one kind."""

from __future__ import annotations

__all__ = ["BY_KIND", "MEANINGS", "meaning"]

MEANINGS: dict[str, str] = {
    # tickets and their event logs
    "ticket_id": "the ticket's number, unique per ticket (INC0012345, SD-123)",
    "opened_at": "when the ticket was opened (logged, created)",
    "acknowledged_at": "first acknowledgement: the ticket picked up (e.g. state In Progress)",
    "assigned_at": "first assignment to a group or person",
    "resolved_at": "when the ticket was resolved (service restored); empty while open",
    "closed_at": "when the ticket was closed (after the user confirmed or a grace period)",
    "state": "the ticket's state (New, In Progress, On Hold, Resolved, Closed, ...)",
    "priority": "priority as the tool writes it (1 - Critical, P2, High, ...)",
    "category": "category or type of the ticket (Network, Software, Access, ...)",
    "service": "the IT service the record is about (the business or technical service)",
    "assignment_group": "the team (support group) the ticket is assigned to",
    "reassignment_count": "how many times the ticket moved to another group or person",
    "reopen_count": "how many times the ticket went back to an active state after resolution",
    "reopen_after_close_count": "how many times it went back to an active state after closure",
    "made_sla": "whether the ticket met its SLA, as the tool flags it (true/false)",
    "problem_id": "the problem record the ticket is linked to",
    "caused_by": "the change record that caused the incident",
    "short_description": "the ticket's one-line summary (free text)",
    "updated_at": "when this update (event) of the ticket happened",
    "sequence": "the update's number within its ticket (ServiceNow sys_mod_count); orders ties",
    # monitoring
    "timestamp": "the sample's time (start of its interval)",
    "requests": "requests served in the interval (a count)",
    "capacity": "requests the service can serve in the interval",
    "utilisation": "load as a fraction of capacity (0.75 = 75 %; percent: declare scales)",
    "latency_ms": "response time in milliseconds (a sample, or the interval's mean)",
    "latency_p95_ms": "the interval's 95th percentile response time in milliseconds",
    "error_rate": "failed requests as a fraction of requests (0.01 = 1 %)",
    "up": "whether the service answered its probe in this sample (true/false)",
    # downtime, calendar
    "outage_id": "the outage's id, unique per outage",
    "start": "when it started",
    "end": "when it ended",
    "cause": "what caused the outage (free text or a cause code)",
    "event_id": "the event's id (a campaign, a release, a holiday sale)",
    "name": "the event's name",
    # survey
    "survey_id": "the survey response's id",
    "sent_at": "when the survey was sent",
    "responded_at": "when the user answered; empty for no answer",
    "score": "the answer's score (e.g. 1 to 5)",
    # changes
    "change_id": "the change record's number, unique per change",
    "type": "the change's type (Standard, Normal, Emergency)",
    "planned_start": "the change's planned start",
    "planned_end": "the change's planned end",
    "actual_start": "when the change actually started",
    "actual_end": "when the change actually ended",
    "outcome": "how the change ended (Successful, Failed, Backed out, ...)",
}

#: Where a column means something else in one kind.
BY_KIND: dict[str, dict[str, str]] = {
    "problems": {
        "problem_id": "the problem record's number, unique per problem",
        "opened_at": "when the problem was opened",
        "resolved_at": "when the problem's root cause was fixed",
        "closed_at": "when the problem was closed",
        "state": "the problem's state",
    },
    "downtime": {"ticket_id": "the incident ticket of the outage"},
    "survey": {"ticket_id": "the ticket the survey asked about"},
    "ticket_events": {
        "state": "the state the ticket entered with this update",
        "opened_at": "when the ticket was opened (on every update, or the first)",
    },
}


def meaning(kind: str, column: str) -> str:
    """What ``column`` of a source of ``kind`` means.

    Example:
        >>> meaning("changes", "outcome")
        'how the change ended (Successful, Failed, Backed out, ...)'
    """
    return BY_KIND.get(kind, {}).get(column) or MEANINGS[column]
