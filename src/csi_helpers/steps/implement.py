"""Step 7 (implement): the action plan enters the CSI register, and due entries are verified.

:func:`sync_register` adds this cycle's candidate actions to the register as
``proposed`` entries (the run holds the register's lock while it writes).
:func:`review_due` takes every open entry whose review date falls inside this
cycle and that was carried out (an entry still ``proposed`` or ``approved`` is
listed as not reviewed), compares its KPI's hourly series in the entry's baseline
run, cut to the hours before this cycle so that the windows never overlap, with
this run's (:func:`csi_helpers.analysis.verification.before_after`: same weekday
and hour, counts per unit of volume (incidents per request), a day-clustered
interval) and records the verdict (worked, did not work, inconclusive) in the
entry's note and history. The workbook never moves
an entry through its lifecycle: approving and closing stay people's decisions
(``csi register update``); the review gives them the evidence.

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
from csi_helpers.analysis.verification import before_after
from csi_helpers.kpis.scorecard import rag_status
from csi_helpers.register import OPEN, Register, open_register, register_url, sync_actions
from csi_helpers.register.sandbox import sandbox
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps import common
from csi_helpers.steps.common import read_findings
from csi_helpers.tables import catalogue

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

#: Statuses that say an entry was never carried out: it is not reviewed as if it had been.
NOT_CARRIED_OUT = ("proposed", "approved")

#: The columns of the register's open entries, as step 7 shows them.
OPEN_ENTRY_COLUMNS = [
    "id", "title", "kpi_id", "owner", "due", "base_value", "target_value", "review_date", "status",
]  # fmt: skip

#: KPI library id → the column of step 4's hourly series it is verified on.
HOURLY_KPIS = {
    "downtime_minutes": "downtime_min",
    "availability": "downtime_min",
    "incident_volume": "incidents",
    "incidents_caused_by_changes": "incidents",
    "latency_p95": "latency_p95_ms",
    "error_rate": "error_rate",
}

#: The direction in which each hourly column improves.
BETTER = {"downtime_min": "lower", "incidents": "lower", "latency_p95_ms": "lower",
          "error_rate": "lower"}  # fmt: skip

#: Counts compared per unit of volume: more incidents in a busier cycle are not a
#: worsening if the incidents per request stayed the same.
EXPOSURE = {"incidents": "requests"}

#: The verdict right after the title, so that a narrow page still shows it.
REVIEW_COLUMNS = [
    "entry_id",
    "title",
    "verdict",
    "kpi_id",
    "baseline_run",
    "before",
    "after",
    "change_pct",
    "ci_low_pct",
    "ci_high_pct",
    "p_value",
    "target",
    "target_met",
    "evidence",
]


def action_plan(ctx: StepContext, findings: list[Finding], card: pd.DataFrame) -> pd.DataFrame:
    """The cycle's action plan (the one step 6 showed); written for the record."""
    plan = common.action_plan(ctx, findings, card)
    ctx.write_table(catalogue.ACTIONS, plan)
    return plan


@contextmanager
def _register(ctx: StepContext, write: bool, *, fresh: bool) -> Iterator[Register]:
    """The real register, locked for this run (``write``), else the step's copy of it.

    The copy is kept in the run folder (``.csi/register-copy.sqlite``): the plan's sync
    makes it ``fresh`` from the real register, and the review then sees what the sync
    would have added.
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
    """Add the action plan to the register; return the register's open entries.

    With ``write`` False (the default: a notebook run outside the chain) the plan
    goes into a throw-away copy of the register and the real one is not touched.
    """
    p = ctx.params
    with _register(ctx, write, fresh=True) as register:
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


def review_due(ctx: StepContext, card: pd.DataFrame, *, write: bool = False) -> pd.DataFrame:
    """Verify every open entry due for review by this cycle's end, and record the outcome.

    An entry due for review without a baseline stops the step with the register's
    message (which names the entry and the command that gives it one), before
    anything is written. With ``write`` False the outcome goes into a throw-away
    copy of the register (see :func:`sync_register`).
    """
    p = ctx.params
    run_id = ctx.run_dir.name
    after = ctx.read_table(catalogue.HOURLY).set_index("hour")
    targets = card.set_index("kpi_id")
    rows = []
    with _register(ctx, write, fresh=False) as register:
        due = register.due_for_review(p.cycle.end)
        due = due[due["baseline_run_id"] != run_id]
        for entry in due.itertuples(index=False):
            if entry.status in NOT_CARRIED_OUT:  # nothing was done: nothing to verify
                rows.append(_not_carried_out(entry))
                continue
            row = _review(ctx, entry, after, targets)
            rows.append(row)
            register.update(entry.id, note=f"review in {run_id}: {row['evidence']}", by=run_id)
    review = pd.DataFrame(rows, columns=REVIEW_COLUMNS)
    ctx.write_table(catalogue.REVIEW, review)
    return review


def _not_carried_out(entry) -> dict:
    """The review row of an entry whose status says it was never carried out."""
    return _row_head(entry) | {
        "verdict": "not reviewed",
        "evidence": (
            f"not reviewed: the entry is still {entry.status}, so nobody has reported carrying "
            f"it out; once it is under way, `csi register update {entry.id} --status "
            "in_progress` has the next cycle review it"
        ),
    }


def _promise(entry) -> float | None:
    """The change the entry's action promised, as a fraction, if it named one."""
    value = getattr(entry, "expected_change", None)
    return None if value is None or pd.isna(value) else float(value)


def _row_head(entry) -> dict:
    """The review row's columns that come from the register entry."""
    return {
        "entry_id": entry.id,
        "title": entry.title,
        "kpi_id": entry.kpi_id,
        "baseline_run": entry.baseline_run_id,
        "before": entry.base_value,
        "target": entry.target_value,
    }


def _review(ctx: StepContext, entry, after: pd.DataFrame, targets: pd.DataFrame) -> dict:
    row = _row_head(entry)
    if entry.kpi_id in targets.index:
        kpi = targets.loc[entry.kpi_id]
        row["after"] = kpi["actual"]
        if not pd.isna(kpi["actual"]) and entry.target_value is not None:
            status = rag_status(
                float(kpi["actual"]),
                target=entry.target_value,
                amber=None,
                direction=kpi["direction"],
            )
            row["target_met"] = status == "green"
    column = HOURLY_KPIS.get(entry.kpi or "")
    baseline = ctx.run_dir.parent / str(entry.baseline_run_id) / f"{catalogue.HOURLY}.parquet"
    if column is None:
        row["evidence"] = f"{entry.kpi} has no hourly series; compare before and after only"
        return row
    if not baseline.is_file():
        row["evidence"] = f"baseline run {entry.baseline_run_id} has no hourly series ({baseline})"
        return row
    before = pd.read_parquet(ctx.log_input(baseline)).set_index("hour")
    overlap = int((before.index >= after.index.min()).sum())
    before = before[before.index < after.index.min()]  # the two windows never overlap
    if before.empty:
        row["evidence"] = (
            f"baseline run {entry.baseline_run_id} covers no hour before this cycle; "
            "a before/after comparison needs a baseline window before the action"
        )
        return row
    if column not in before or column not in after:
        row["evidence"] = f"no {column} in the hourly series of both runs"
        return row
    volume = EXPOSURE.get(column)
    if volume not in before or volume not in after:
        volume = None
    f = before_after(
        before[column],
        after[column],
        metric=str(entry.kpi_id),
        unit=f"per {volume.rstrip('s')}" if volume else "per hour",
        exposure_before=before[volume] if volume else None,
        exposure_after=after[volume] if volume else None,
        expected_change=_promise(entry),
        better=BETTER[column],
        alpha=ctx.params.analysis.alpha,
        scope={"entry": entry.id},
    )
    row["evidence"] = f.statement + (
        f" ({overlap} baseline hours inside this cycle left out)" if overlap else ""
    )
    if f.is_finding:
        row |= {
            "change_pct": 100 * f.effect,
            "ci_low_pct": 100 * f.ci_low,
            "ci_high_pct": 100 * f.ci_high,
            "p_value": f.p_value,
            "verdict": f.evidence["verdict"],
        }
    return row
