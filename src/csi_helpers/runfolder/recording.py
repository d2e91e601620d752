"""A step run outside the runner (JupyterLab, a plain papermill call) is part of the run.

``csi run`` records each step it runs in the manifest: status, times, inputs and
outputs with their hashes, who ran it. A step opened with
:func:`~csi_helpers.runfolder.context.begin_step` anywhere else records itself the
same way: :func:`record_outside_run` writes its manifest entry as running, and after
every cell of the notebook the entry is brought up to date from the step's I/O log
(succeeded so far, or failed with the cell's error). Later steps whose inputs have
changed since are then *stale* (:mod:`csi_helpers.runfolder.status`).

Who ran a step: ``csi`` (the runner), ``lab`` (a notebook kernel that Jupyter
started for a notebook it serves: it sets ``JPY_SESSION_NAME`` to the notebook's
path), ``papermill`` (any other kernel: papermill, nbclient) or ``python`` (no kernel).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.layout import Step, io_log_path
from csi_helpers.runfolder.manifest import (
    MANIFEST_NAME,
    new_manifest,
    step_entry,
    utc_now,
    write_manifest,
)

__all__ = ["lab_notebook", "ran_by_runner", "record_outside_run", "runner_entry"]


def runner_entry(*, pid: int | None = None) -> dict[str, Any]:
    """What the runner adds to a step's entry when it starts it: who, and its process."""
    return {"by": "csi", "runner_pid": pid or os.getpid()}


def ran_by_runner(run_dir: Path, number: int) -> bool:
    """Whether the runner is running step ``number`` now (its entry says so, its process lives)."""
    try:
        entry = json.loads((run_dir / MANIFEST_NAME).read_text(encoding="utf-8"))["steps"]
        entry = entry[number - 1]
    except (OSError, ValueError, KeyError, IndexError):
        return False
    if entry.get("status") != "running" or entry.get("by") != "csi":
        return False
    try:
        os.kill(int(entry.get("runner_pid") or 0), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return bool(entry.get("runner_pid"))


def record_outside_run(
    run_dir: Path, step: Step, params_path: Path, *, run_id: str | None = None
) -> str:
    """Record step ``step`` as running in the run's manifest, run by this kernel; who ran it.

    Only in a notebook kernel (``lab`` or ``papermill``): a plain Python call (a test, a
    script) records nothing. A run folder without a manifest (step 1 opened in
    JupyterLab first) gets one. Every cell run afterwards updates the entry (see the
    module).
    """
    by = _who()
    if by == "python":
        return by
    manifest = _manifest(run_dir, params_path, run_id=run_id)
    entry = {"number": step.number, "key": step.key, "notebook": step.notebook}
    entry |= {"status": "running", "started": utc_now(), "by": by}
    entry["params_sha256"] = sha256_file(params_path)
    if by == "lab":  # where JupyterLab keeps the notebook, to export its report from it
        entry["lab_notebook"] = lab_notebook(os.environ.get("JPY_SESSION_NAME", ""))
    manifest["steps"][step.number - 1] = entry
    manifest["status"] = "partial"
    write_manifest(run_dir, manifest)
    _follow_cells(run_dir, step)
    return by


def lab_notebook(session: str, cwd: Path | None = None) -> str:
    """The notebook file of a JupyterLab session: ``JPY_SESSION_NAME`` as a path, made
    absolute against the kernel's folder (the notebook's) when Jupyter gave it relative."""
    if not session:
        return ""
    path = Path(session)
    return str(path if path.is_absolute() else Path(cwd or Path.cwd()) / path.name)


def _who() -> str:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the workbook
        return "python"
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return "python"
    return "lab" if os.environ.get("JPY_SESSION_NAME") else "papermill"


def _manifest(run_dir: Path, params_path: Path, *, run_id: str | None) -> dict[str, Any]:
    from csi_helpers.runfolder.manifest import read_manifest

    if (run_dir / MANIFEST_NAME).is_file():
        return read_manifest(run_dir)
    return new_manifest(
        run_id=run_id or run_dir.name,
        params_path=params_path,
        params_sha256=sha256_file(params_path),
    )


def _follow_cells(run_dir: Path, step: Step) -> None:
    """In a kernel, bring the step's entry up to date after every cell (one hook per kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is None:
        return
    for hook in list(shell.events.callbacks["post_run_cell"]):
        if getattr(hook, "_csi_step_hook", False):
            shell.events.unregister("post_run_cell", hook)

    def after_cell(result: Any) -> None:
        _update_entry(run_dir, step, error=getattr(result, "error_in_exec", None))

    after_cell._csi_step_hook = True  # type: ignore[attr-defined]
    shell.events.register("post_run_cell", after_cell)


def _update_entry(run_dir: Path, step: Step, *, error: BaseException | None) -> None:
    """The entry from the step's I/O log: succeeded so far, or failed with the cell's error."""
    from csi_helpers.runfolder.manifest import read_manifest

    try:
        manifest = read_manifest(run_dir)
        log = json.loads(io_log_path(run_dir, step.number).read_text(encoding="utf-8"))
    except Exception:
        return
    entry = step_entry(manifest, step.number)
    if entry.get("by") == "csi":
        return  # the runner took the step over
    entry.update({k: log.get(k, []) for k in ("inputs", "outputs", "warnings")})
    entry["ended"] = utc_now()
    if error is None:
        entry["status"] = "succeeded"
        entry.pop("error", None)
    else:
        entry["status"] = "failed"
        entry["error"] = {"ename": type(error).__name__, "evalue": str(error)}
    done = all(e.get("status") == "succeeded" for e in manifest["steps"])
    manifest["status"] = "succeeded" if done else "partial"
    try:
        write_manifest(run_dir, manifest)
    except OSError:  # a full disk: the next cell tries again
        return
