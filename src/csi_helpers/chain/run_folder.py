"""A cycle's run before its steps: params validated, the run folder made anew or checked.

:func:`prepare_run` returns the :class:`CycleRun` the runner works from. A full
run (from step 1) replaces an earlier folder of its run id; a resumed one
(``from_step`` > 1) goes on only when the earlier steps succeeded and their
outputs are unchanged (:func:`check_resumable`).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csi_helpers.chain.params_change import keep_params
from csi_helpers.errors import RunFolderError, UsageError
from csi_helpers.params import Params, validate_params_file
from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.layout import REPORT_STEPS, STEPS, Step
from csi_helpers.runfolder.manifest import new_manifest, read_manifest, write_manifest

__all__ = ["CycleRun", "ProgressHook", "check_resumable", "check_run_id", "prepare_run"]

ProgressHook = Callable[[Step, str, float], None]
"""Called as (step, status, seconds) with status 'running', 'succeeded' or 'failed'."""


@dataclass
class CycleRun:
    """One run of a cycle's steps: what runs, from where, into which folders, and its record.

    Made once by :func:`~csi_helpers.chain.runner.run_cycle` after the params are
    validated; every step of the run reads it, and the manifest in it is updated as
    the steps go.
    """

    params_path: Path
    params: Params
    run_id: str
    run_dir: Path
    report_dir: Path
    notebooks: Path  # the step notebooks' folder
    steps: list[Step]  # the steps to run, in order
    manifest: dict[str, Any]
    on_progress: ProgressHook | None = None
    prestart: bool = True
    write_register: bool = False  # step 7 writes the CSI register (a chain run of the cycle)
    #: The params as the command named them (``web.yaml --set …``) when the run reads them
    #: pinned (:func:`~csi_helpers.chain.params_change.pinned_params`): what a hint repeats.
    given: str = ""

    def notebook(self, s: Step) -> Path:
        """Step ``s``'s notebook, as the workbook has it."""
        return self.notebooks / s.notebook

    def executed(self, s: Step) -> Path:
        """Where step ``s``'s executed notebook is kept in the run folder."""
        return self.run_dir / "notebooks" / s.notebook

    def progress(self, s: Step, status: str, seconds: float) -> None:
        if self.on_progress:
            self.on_progress(s, status, seconds)


def prepare_run(
    params_path: Path,
    *,
    run_id: str | None,
    runs_dir: Path,
    reports_dir: Path,
    nb_dir: Path,
    selected: list[Step],
    params: Params | None = None,
) -> CycleRun:
    """Validate the params (unless given, validated), make (or check, when resuming) the
    run folder and its manifest."""
    params = params or validate_params_file(params_path)
    run_id = run_id or params.default_run_id
    check_run_id(run_id)
    missing = [s.notebook for s in selected if not (nb_dir / s.notebook).is_file()]
    if missing:
        raise UsageError(f"{nb_dir}: step notebooks missing: {', '.join(missing)}")

    run_dir = (runs_dir / run_id).resolve()
    report_dir = (reports_dir / run_id).resolve()
    params_sha = sha256_file(params_path)
    from_step = selected[0].number
    if from_step == 1:
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.rmtree(report_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        manifest = new_manifest(run_id=run_id, params_path=params_path, params_sha256=params_sha)
    else:
        manifest = check_resumable(run_dir, from_step)
        manifest["params"] = {"path": str(params_path), "sha256": params_sha}
    keep_params(run_dir, params_path)  # what the next resume compares the params with
    for s in STEPS[from_step - 1 :]:
        manifest["steps"][s.number - 1] = {
            "number": s.number,
            "key": s.key,
            "notebook": s.notebook,
            "status": "pending",
        }
        if s.number in REPORT_STEPS:
            manifest["reports"].pop(str(s.number), None)
            (report_dir / REPORT_STEPS[s.number]).unlink(missing_ok=True)
    manifest["status"] = "running"
    write_manifest(run_dir, manifest)
    return CycleRun(
        params_path=params_path,
        params=params,
        run_id=run_id,
        run_dir=run_dir,
        report_dir=report_dir,
        notebooks=nb_dir,
        steps=selected,
        manifest=manifest,
    )


def check_resumable(run_dir: Path, from_step: int) -> dict[str, Any]:
    """Check that steps before ``from_step`` succeeded and their outputs are unchanged."""
    if not run_dir.is_dir():
        raise RunFolderError(
            f"{run_dir}: no such run folder to resume; run from step 1 (omit --from-step)"
        )
    manifest = read_manifest(run_dir)
    problems = []
    for entry in manifest["steps"][: from_step - 1]:
        if entry["status"] != "succeeded":
            problems.append(f"step {entry['number']} ({entry['key']}) is {entry['status']}")
            continue
        for out in entry.get("outputs", []):
            path = run_dir / out["path"]
            if not path.exists():
                problems.append(f"{out['path']} (from step {entry['number']}) is missing")
            elif sha256_file(path) != out["sha256"]:
                problems.append(f"{out['path']} (from step {entry['number']}) has changed")
    if problems:
        raise RunFolderError(
            f"cannot resume {run_dir} at step {from_step}:\n  - "
            + "\n  - ".join(problems)
            + "\nRe-run from the first step named above with --from-step, or from step 1."
        )
    return manifest


def check_run_id(run_id: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", run_id):
        raise UsageError(
            f"run id {run_id!r}: use letters, digits, '.', '_' and '-' only (it names a folder)"
        )
