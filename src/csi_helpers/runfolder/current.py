"""The current run: the one a notebook opened in JupyterLab works on by default.

Every ``csi run`` makes its run the current one, and ``csi use RUN`` switches: both
write :data:`CURRENT_RUN` beside the runs folder (the workbook's root). A step
notebook whose ``run_dir`` and ``params_path`` parameters are left empty opens the
current run, found from the notebook's folder upwards; the parameters papermill
injects in a chain run still win.
"""

from __future__ import annotations

import json
from pathlib import Path

from csi_helpers import atomic
from csi_helpers.errors import RunFolderError

__all__ = ["CURRENT_RUN", "current_run", "set_current_run"]

#: The file that names the current run, beside the runs folder.
CURRENT_RUN = ".csi-current-run.json"


def set_current_run(run_dir: Path, params_path: Path) -> Path:
    """Make ``run_dir`` (made from ``params_path``) the current run; the file written."""
    run_dir = Path(run_dir).resolve()
    root = run_dir.parent.parent
    record = {"run_dir": _relative(run_dir, root), "params_path": _relative(params_path, root)}
    return atomic.write_json(root / CURRENT_RUN, record)


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it (a workbook copied elsewhere keeps
    its current run), else absolute."""
    path = Path(path).resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def current_run(start: Path | None = None) -> tuple[Path, Path]:
    """The current run's folder and params file, from the nearest :data:`CURRENT_RUN`
    in ``start`` (default: the working folder) or a folder above it.

    Raises:
        RunFolderError: there is none (no run made yet), or it names a run that is gone.
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        path = folder / CURRENT_RUN
        if path.is_file():
            break
    else:
        raise RunFolderError(
            f"no current run for {here}: run a cycle first (`make run`, or `csi run PARAMS`), "
            "pick one with `csi use RUN`, or set run_dir and params_path in the notebook's "
            "parameters cell"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        run_dir, params_path = (path.parent / record[k] for k in ("run_dir", "params_path"))
    except (OSError, ValueError, KeyError, TypeError):
        raise RunFolderError(
            f"{path}: not a current-run record; pick a run with `csi use RUN`"
        ) from None
    if not run_dir.is_dir():
        raise RunFolderError(
            f"the current run {run_dir} ({path}) is gone: pick another with `csi use RUN`"
        )
    return run_dir.resolve(), params_path.resolve()
