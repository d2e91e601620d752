"""Step 7's review: did the register's actions due by this cycle's end work?

:func:`review_due` takes every open entry whose review date falls inside this
cycle and that was carried out (an entry still ``proposed`` or ``approved`` is
listed as not reviewed), compares its KPI's hourly series in the entry's baseline
run, cut to the hours before this cycle so that the windows never overlap, with
this run's (:func:`csi_helpers.analysis.verification.before_after`: same weekday
and hour, counts per unit of volume (incidents per request), a day-clustered
interval), records the verdict (worked, did not work, inconclusive) in the
entry's note and history, and saves a before/after chart per reviewed entry
(:func:`csi_helpers.report.charts.before_after_chart`). The workbook never moves
an entry through its lifecycle: approving and closing stay people's decisions
(``csi register update``); the review gives them the evidence.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from csi_helpers.analysis.verification import before_after
from csi_helpers.errors import RunFolderError
from csi_helpers.kpis.scorecard import rag_status
from csi_helpers.report import charts
from csi_helpers.runfolder.context import StepContext
from csi_helpers.runfolder.manifest import read_manifest
from csi_helpers.runfolder.parquet import read_frame
from csi_helpers.steps.implement.sync import step_register
from csi_helpers.tables import catalogue

__all__ = [
    "BETTER",
    "EXPOSURE",
    "HOURLY_KPIS",
    "NOT_CARRIED_OUT",
    "REVIEW_COLUMNS",
    "review_due",
]

#: Statuses that say an entry was never carried out: it is not reviewed as if it had been.
NOT_CARRIED_OUT = ("proposed", "approved")

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

#: The verdict right after the title; then the numbers, the verdict's reason, the promise,
#: the entry's status and owner, and the before/after chart (relative to the run folder).
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
    "reason",
    "promised_pct",
    "status",
    "owner",
    "figure",
]


def review_due(ctx: StepContext, card: pd.DataFrame, *, write: bool = False) -> pd.DataFrame:
    """Verify every open entry due for review by this cycle's end, and record the outcome.

    An entry due for review without a baseline stops the step with the register's
    message (which names the entry and the command that gives it one), before
    anything is written. With ``write`` False the outcome goes into the step's
    copy of the register (:func:`~csi_helpers.steps.implement.sync.step_register`),
    made fresh here: the review comes before the plan's sync.
    """
    p = ctx.params
    run_id = ctx.run_dir.name
    after = ctx.read_table(catalogue.HOURLY).set_index("hour")
    targets = card.set_index("kpi_id")
    rows = []
    with step_register(ctx, write, fresh=True) as register:
        due = register.due_for_review(p.cycle.end)
        due = due[due["baseline_run_id"] != run_id]
        for entry in due.itertuples(index=False):
            if entry.status in NOT_CARRIED_OUT:  # nothing was done: nothing to verify
                rows.append(_not_carried_out(entry))
                continue
            row = _review(ctx, entry, after, targets)
            row["figure"] = _save_chart(ctx, row, targets)
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
        "promised_pct": None if _promise(entry) is None else 100 * _promise(entry),
        "status": entry.status,
        "owner": getattr(entry, "owner", None),
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
    before = read_frame(ctx.log_input(baseline)).set_index("hour")
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
            "reason": f.evidence["reason"],
        }
    return row


def _save_chart(ctx: StepContext, row: dict, targets: pd.DataFrame) -> str | None:
    """Draw and save the entry's before/after chart, unshown (the report shows it beside
    its verdict); its path relative to the run folder. None without both values."""
    before, after = row.get("before"), row.get("after")
    if before is None or after is None or pd.isna(before) or pd.isna(after):
        return None
    kpi = targets.loc[row["kpi_id"]] if row["kpi_id"] in targets.index else {}
    change = tuple(row.get(k) for k in ("change_pct", "ci_low_pct", "ci_high_pct"))
    measured = all(v is not None and not pd.isna(v) for v in change)
    figure = charts.before_after_chart(
        kpi=str(kpi.get("kpi_name") or row["kpi_id"]),
        unit=str(kpi.get("unit") or ""),
        before=float(before),
        after=float(after),
        labels=(cycle_label(ctx.run_dir.parent, row["baseline_run"]), ctx.params.cycle.period),
        better=kpi.get("direction"),
        target=None if row["target"] is None or pd.isna(row["target"]) else float(row["target"]),
        change=change if measured else None,
        promised=row["promised_pct"],
    )
    path = ctx.save_figure(f"review_{row['entry_id']}", figure, show=False)
    return None if path is None else path.relative_to(ctx.run_dir).as_posix()


def cycle_label(runs: Path, run_id: str) -> str:
    """The cycle label of a run beside this one (``2026 Q2``), from its params; its run id
    when the run or its params file is gone."""
    try:
        params = Path(read_manifest(runs / run_id)["params"]["path"])
        cycle = yaml.safe_load(params.read_text(encoding="utf-8"))["cycle"]
        return str(cycle.get("label") or run_id)
    except (RunFolderError, OSError, KeyError, TypeError, AttributeError, yaml.YAMLError):
        return run_id
