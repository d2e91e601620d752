"""The lifecycle of a register entry: which status may follow which.

``proposed → approved → in_progress → monitoring → closed_successful |
closed_unsuccessful``; ``withdrawn`` from any open state. The two closed states
and ``withdrawn`` are final.

Example:
    >>> allowed_next("approved")
    ('in_progress', 'withdrawn')
    >>> check_transition("2026q2-a1", "proposed", "monitoring")
    Traceback (most recent call last):
    ...
    csi_helpers.errors.RegisterError: entry 2026q2-a1: cannot go from proposed to monitoring; \
allowed next: approved, withdrawn
"""

from __future__ import annotations

import difflib

from csi_helpers.errors import RegisterError

STATUSES = (
    "proposed",
    "approved",
    "in_progress",
    "monitoring",
    "closed_successful",
    "closed_unsuccessful",
    "withdrawn",
)
NEXT: dict[str, tuple[str, ...]] = {
    "proposed": ("approved", "withdrawn"),
    "approved": ("in_progress", "withdrawn"),
    "in_progress": ("monitoring", "withdrawn"),
    "monitoring": ("closed_successful", "closed_unsuccessful", "withdrawn"),
    "closed_successful": (),
    "closed_unsuccessful": (),
    "withdrawn": (),
}
FINAL = tuple(s for s in STATUSES if not NEXT[s])
OPEN = tuple(s for s in STATUSES if NEXT[s])


def normalise_status(text: str) -> str:
    """A status as typed (``In progress``, ``in-progress``) → its id, or a RegisterError.

    Example:
        >>> normalise_status("In progress")
        'in_progress'
    """
    status = "_".join(text.strip().lower().replace("-", " ").split())
    if status in STATUSES:
        return status
    close = difflib.get_close_matches(status, STATUSES, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise RegisterError(f"unknown status {text!r}{hint} (statuses: {', '.join(STATUSES)})")


def allowed_next(status: str) -> tuple[str, ...]:
    """The statuses an entry in ``status`` may move to (empty for a final state)."""
    return NEXT[status]


def check_transition(entry_id: str, old: str, new: str) -> None:
    """Raise a RegisterError naming the allowed next states unless ``old → new`` is legal."""
    if new in NEXT.get(old, ()):
        return
    if old not in NEXT:
        raise RegisterError(
            f"entry {entry_id}: its status {old!r} is not one this workbook knows "
            f"({', '.join(STATUSES)}); fix it in the database or upgrade csi-workbook"
        )
    if not NEXT[old]:
        raise RegisterError(
            f"entry {entry_id} is {old}, a final state: its status cannot change any more "
            "(propose a new entry instead)"
        )
    raise RegisterError(
        f"entry {entry_id}: cannot go from {old} to {new}; allowed next: {', '.join(NEXT[old])}"
    )
