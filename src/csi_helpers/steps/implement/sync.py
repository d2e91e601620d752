"""Step 7's plan into the CSI register: the real register in a chain run, else a copy.

Only a chain run of the cycle writes to the register: ``csi run`` and ``csi batch``
pass ``write_register=True`` to the notebook for a run under the params' own run
id (not with ``--dry-run``; ``--write-register`` forces it). Everything else, a
notebook re-run in JupyterLab, a plain ``papermill`` call, a trial run id, works on
a throw-away copy (:func:`~csi_helpers.register.sandbox.sandbox`) and says so: the
tables show what the run would write, and the real register is left as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from csi_helpers.analysis.findings import Finding
from csi_helpers.register import OPEN, Register, open_register, register_url, sync_actions
from csi_helpers.register.sandbox import sandbox
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps import common
from csi_helpers.tables import catalogue

__all__ = [
    "OPEN_ENTRY_COLUMNS",
    "action_plan",
    "not_written_note",
    "open_entries",
    "step_register",
    "sync_register",
]

#: The columns of the register's open entries, as step 7 showed them before the board.
OPEN_ENTRY_COLUMNS = [
    "id", "title", "kpi_id", "owner", "due", "base_value", "target_value", "review_date", "status",
]  # fmt: skip


def action_plan(ctx: StepContext, findings: list[Finding], card: pd.DataFrame) -> pd.DataFrame:
    """The cycle's action plan (the one step 6 showed); written for the record."""
    plan = common.action_plan(ctx, findings, card)
    ctx.write_table(catalogue.ACTIONS, plan)
    return plan


@contextmanager
def step_register(ctx: StepContext, write: bool, *, fresh: bool) -> Iterator[Register]:
    """The real register, locked for this run (``write``), else the step's copy of it.

    The copy is kept in the run folder (``.csi/register-copy.sqlite``): the review,
    which comes first, makes it ``fresh`` from the real register, and the plan's sync
    then adds to it, so that the register the report shows holds both.
    """
    url, run_id = register_url(ctx.params), ctx.run_dir.name
    if write:
        with open_register(url, create=True, writer=run_id) as register:
            yield register
        return
    path = ctx.run_dir / ".csi" / "register-copy.sqlite"
    with sandbox(url, writer=run_id, path=path, fresh=fresh) as copy:
        yield copy


def not_written_note(write: bool) -> str | None:
    """What step 7 tells the reader when the real register was left alone."""
    if write:
        return None
    return (
        "The CSI register was not changed: this is not a chain run of the cycle (a notebook "
        "run in JupyterLab or by papermill, `csi run --dry-run`, or a trial run id). The "
        "tables show what a chain run would write; `csi run PARAMS` writes it."
    )


def sync_register(
    ctx: StepContext, plan: pd.DataFrame, card: pd.DataFrame, *, write: bool = False
) -> pd.DataFrame:
    """Add the action plan to the register; return all the register's entries.

    With ``write`` False (the default: a notebook run outside the chain) the plan
    goes into the step's copy of the register and the real one is not touched.
    """
    p = ctx.params
    with step_register(ctx, write, fresh=False) as register:
        result = sync_actions(
            register,
            plan,
            run_id=ctx.run_dir.name,
            scorecard=card,
            cycle_start=p.cycle.start,
            cycle_end=p.cycle.end,
        )
        entries = register.entries()
    ctx.write_json(catalogue.REGISTER_SYNC, {"summary": str(result), "written": write})
    return entries


def open_entries(entries: pd.DataFrame) -> pd.DataFrame:
    """The register entries still open (proposed, approved, in progress, monitoring)."""
    return entries.loc[entries["status"].isin(OPEN), OPEN_ENTRY_COLUMNS]
