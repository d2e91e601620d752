"""The workspace with a good run that every case of the corpus starts from."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from workspace import csi, write_workspace


@pytest.fixture(scope="session")
def good_workspace(tmp_path_factory) -> Path:
    """A workspace whose cycle has been run once, successfully."""
    root = tmp_path_factory.mktemp("good")
    write_workspace(root)
    done = csi(["run", "params.yaml"], cwd=root)
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def workspace(good_workspace, tmp_path) -> Path:
    """A copy of the good workspace for one case to change."""
    ws = tmp_path / "ws"
    shutil.copytree(good_workspace, ws, symlinks=True)
    return ws
