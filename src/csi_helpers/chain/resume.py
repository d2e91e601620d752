"""Where a run starts: step 1, the step asked for once the params' changes allow it, or
with ``--resume`` the first step that is not done (:mod:`csi_helpers.runfolder.status`)."""

from __future__ import annotations

from pathlib import Path

from csi_helpers.chain.params_change import PARAMS_COPY, changed_by_step, resume_step
from csi_helpers.errors import RunFolderError
from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.manifest import read_manifest
from csi_helpers.runfolder.status import first_not_done, step_states

__all__ = ["start_step"]


def start_step(
    run_dir: Path, params_path: Path, from_step: int, resume: bool, rerun_from_changed: bool
) -> int:
    """The step the run starts at: with ``resume``, the first that is not done (0: none);
    else ``from_step``, once the params' changes since the run allow it."""
    if resume:
        return _first_to_rerun(run_dir, params_path) or 0
    if from_step > 1:
        return resume_step(run_dir, params_path, from_step, rerun_from_changed=rerun_from_changed)
    return from_step


def _first_to_rerun(run_dir: Path, params_path: Path) -> int | None:
    """The first step a ``--resume`` re-runs (None: all done); refuses another params file."""
    if not run_dir.is_dir():
        return 1
    made_from = Path(read_manifest(run_dir)["params"]["path"]).resolve()
    copy = run_dir / PARAMS_COPY
    same = copy.is_file() and sha256_file(copy) == sha256_file(params_path)
    if made_from != params_path and not same:  # another file (not this one moved)
        raise RunFolderError(
            f"run {run_dir.name} was made from {made_from}, not {params_path}: resume it with "
            "that file, or give this one its own --run-id"
        )
    changed = changed_by_step(run_dir, params_path)
    return first_not_done(step_states(run_dir, params_changed=changed))
