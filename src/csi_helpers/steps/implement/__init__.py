"""Step 7 (implement): the action plan enters the CSI register, and due entries are verified.

- :mod:`~csi_helpers.steps.implement.sync`: the plan into the register (or, outside a
  chain run of the cycle, into the step's copy of it, :func:`not_written_note`);
- :mod:`~csi_helpers.steps.implement.review`: the verification of the entries due for
  review, with a before/after chart per reviewed entry.
"""

from __future__ import annotations

from csi_helpers.steps.common import read_findings
from csi_helpers.steps.implement.review import (
    BETTER,
    EXPOSURE,
    HOURLY_KPIS,
    NOT_CARRIED_OUT,
    REVIEW_COLUMNS,
    review_due,
)
from csi_helpers.steps.implement.sync import (
    action_plan,
    not_written_note,
    open_entries,
    sync_register,
)

__all__ = [
    "BETTER",
    "EXPOSURE",
    "HOURLY_KPIS",
    "NOT_CARRIED_OUT",
    "REVIEW_COLUMNS",
    "action_plan",
    "not_written_note",
    "open_entries",
    "read_findings",
    "review_due",
    "sync_register",
]
