"""Where each step of a run stands: done, stale, failed, pending or running, and why.

Like make, a step is *stale* when what it read has changed since it ran: an input
file whose hash is no longer the one it recorded (a step re-run in JupyterLab wrote
new tables; the export under a source changed), an input that is gone, an earlier
step it read from that is not done itself, or a setting of the params file that it
reads (:data:`~csi_helpers.chain.params_change.FIRST_STEP_READING`). ``csi status``
shows the states; ``csi run PARAMS --resume`` re-runs from the first step that is
not done.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.layout import STEPS
from csi_helpers.runfolder.manifest import read_manifest

__all__ = ["StepState", "first_not_done", "step_states"]

_WHO = {"csi": "csi run", "lab": "JupyterLab", "papermill": "papermill"}


@dataclass(frozen=True)
class StepState:
    """One step's state in a run, and why."""

    number: int
    key: str
    state: str  # done, stale, failed, pending or running
    why: str = ""
    by: str = ""  # who ran it last: csi run, JupyterLab, papermill
    ended: str = ""


def step_states(
    run_dir: Path, *, params_changed: dict[int, list[str]] | None = None
) -> list[StepState]:
    """The state of each of the run's seven steps.

    Args:
        run_dir: the run folder.
        params_changed: per step, the params settings it reads that have changed since
            the run was made (from :func:`csi_helpers.chain.params_change.changed_by_step`).

    Raises:
        RunFolderError: no manifest in ``run_dir``.
    """
    manifest = read_manifest(run_dir)
    producers = {o["path"]: e["number"] for e in manifest["steps"] for o in e.get("outputs", [])}
    states: list[StepState] = []
    for entry in manifest["steps"]:
        state, why = _state(entry)
        if state == "done":
            reasons = _stale_inputs(run_dir, entry, producers, states)
            reasons += [
                f"params changed: {c}" for c in (params_changed or {}).get(entry["number"], [])
            ]
            if reasons:
                state, why = "stale", "; ".join(reasons[:3]) + (" …" if len(reasons) > 3 else "")
        states.append(
            StepState(
                number=entry["number"],
                key=entry["key"],
                state=state,
                why=why,
                by=_WHO.get(entry.get("by", ""), entry.get("by", "")),
                ended=str(entry.get("ended", "")),
            )
        )
    return states


def first_not_done(states: list[StepState]) -> int | None:
    """The first step that is not done (the one a resume starts at), or None."""
    return next((s.number for s in states if s.state != "done"), None)


def _state(entry: dict[str, Any]) -> tuple[str, str]:
    status = entry.get("status", "pending")
    if status == "succeeded":
        return "done", ""
    if status == "running":
        if _alive(entry.get("runner_pid")):
            return (
                "running",
                f"by {_WHO.get(entry.get('by', ''), 'a kernel')} since {entry.get('started')}",
            )
        if entry.get("by") == "csi":
            return "failed", "stopped while running (its csi run is gone)"
        return "running", f"opened in {_WHO.get(entry.get('by', ''), 'a kernel')}, not finished"
    if status in ("failed", "interrupted"):
        error = entry.get("error") or {}
        detail = f": {error.get('ename')}: {error.get('evalue')}" if error.get("ename") else ""
        return "failed", f"{status}{detail}"[:200]
    return "pending", "not run yet"


def _alive(pid: Any) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def _stale_inputs(
    run_dir: Path,
    entry: dict[str, Any],
    producers: dict[str, int],
    earlier: list[StepState],
) -> list[str]:
    """Why the step's inputs are no longer what it read (empty: they are)."""
    not_done = {s.number: s.state for s in earlier if s.state != "done"}
    keys = {s.key: s.number for s in STEPS}
    reasons = []
    for record in entry.get("inputs", []):
        rel = record["path"]
        producer = producers.get(rel, keys.get(rel.split("/", 1)[0]))
        if producer in not_done and producer != entry["number"]:
            reasons.append(f"step {producer} is {not_done[producer]}")
            continue
        path = (run_dir / rel).resolve()
        if not path.is_file():
            reasons.append(f"{rel} is missing")
        elif sha256_file(path) != record["sha256"]:
            reasons.append(f"{rel} changed since it ran")
    return list(dict.fromkeys(reasons))
