"""Where the workbook's own folders are: notebooks, runs, reports."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout that holds ``notebooks/``.

    ``CSI_PROJECT_ROOT`` wins; else the checkout this package was installed
    from (editable install); else the current directory.
    """
    if env := os.environ.get("CSI_PROJECT_ROOT"):
        return Path(env).resolve()
    source_tree = Path(__file__).resolve().parents[3]  # <root>/src/csi_helpers/runfolder
    if (source_tree / "notebooks").is_dir():
        return source_tree
    return Path.cwd()


def notebooks_dir() -> Path:
    return project_root() / "notebooks"
