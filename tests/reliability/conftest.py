"""The workspace with a good run that every case of the corpus starts from."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from workspace import write_workspace


def csi(argv: list[str], *, cwd: Path, wrap: tuple[str, ...] = (), env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:  # fmt: skip
    """``csi ARGV`` in a fresh process, as an operator runs it."""
    command = [*wrap, sys.executable, "-m", "csi_helpers.cli", *argv]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


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
