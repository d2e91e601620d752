"""Step 7 (implement): did last cycle's actions work, what to do now, where the register stands.

The notebook ``07_implement_improvements.ipynb`` reads top to bottom as a decision:

1. the review of the register's entries due by this cycle's end
   (:func:`~csi_helpers.steps.implement.review.review_due`), shown per action with its
   verdict, numbers and before/after chart
   (:func:`~csi_helpers.steps.implement.report.show_review`);
2. this cycle's ranked plan (:func:`action_plan`, the one step 6 showed;
   :func:`~csi_helpers.steps.implement.report.plan_table`);
3. the plan into the CSI register as ``proposed`` entries
   (:func:`~csi_helpers.steps.implement.sync.sync_register`), and the register as a
   board by status, overdue entries first
   (:func:`~csi_helpers.steps.implement.report.register_board`);
4. the whole register as an appendix.

Only a chain run of the cycle writes to the register; every other run works on a copy
of it and says so (:func:`not_written_note`).

- :mod:`~csi_helpers.steps.implement.sync`: the plan into the register (or its copy);
- :mod:`~csi_helpers.steps.implement.review`: the verification of due entries, and their charts;
- :mod:`~csi_helpers.steps.implement.report`: what the report shows, in words for people.
"""

from __future__ import annotations

from csi_helpers.steps.common import read_findings
from csi_helpers.steps.implement.report import (
    OVERDUE_STATUSES,
    PLAN_LIMIT,
    STATUS_LABELS,
    not_reviewed_sentence,
    overdue_first,
    plan_frame,
    plan_table,
    register_appendix,
    register_board,
    review_sentence,
    show_review,
    status_counts,
)
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
    "OVERDUE_STATUSES",
    "PLAN_LIMIT",
    "REVIEW_COLUMNS",
    "STATUS_LABELS",
    "action_plan",
    "not_reviewed_sentence",
    "not_written_note",
    "open_entries",
    "overdue_first",
    "plan_frame",
    "plan_table",
    "read_findings",
    "register_appendix",
    "register_board",
    "review_due",
    "review_sentence",
    "show_review",
    "status_counts",
    "sync_register",
]
