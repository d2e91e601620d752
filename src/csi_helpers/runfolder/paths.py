"""Where the workbook's own folders are: notebooks, runs, reports.

One installation serves several workbooks (``csi init`` makes one per team): a run uses the
notebooks of the workbook its params file lives in, else of the one the working folder is
in, else those of this package's own checkout or template.
"""

from __future__ import annotations

import os
from pathlib import Path

from csi_helpers.onboarding.workbook import SOURCE_TREE, STEP_NOTEBOOK, shipped

__all__ = ["find_workbook", "notebooks_dir", "project_root"]


def find_workbook(start: Path) -> Path | None:
    """The workbook folder that holds ``start`` (a file or folder): the nearest folder at or
    above it with the step notebooks in ``notebooks/``; None when there is none."""
    start = start.resolve()
    for folder in (start, *start.parents) if start.is_dir() else start.parents:
        if (folder / STEP_NOTEBOOK).is_file():
            return folder
    return None


def project_root(params_path: str | Path | None = None) -> Path:
    """The workbook a run belongs to.

    ``CSI_PROJECT_ROOT`` wins; else the workbook that holds ``params_path``; else the one that
    holds the working folder; else the checkout this package was installed from (editable
    install); else the current directory.
    """
    if env := os.environ.get("CSI_PROJECT_ROOT"):
        return Path(env).resolve()
    for start in (Path(params_path) if params_path else None, Path.cwd()):
        if start is not None and (found := find_workbook(start)):
            return found
    if (SOURCE_TREE / STEP_NOTEBOOK).is_file():
        return SOURCE_TREE
    return Path.cwd()


def notebooks_dir(params_path: str | Path | None = None) -> Path:
    """The step notebooks a run of ``params_path`` uses (see :func:`project_root`); an
    installation without any workbook uses the template's own copy."""
    root = project_root(params_path)
    if (root / STEP_NOTEBOOK).is_file():
        return root / "notebooks"
    return shipped("notebooks")
