"""Shared fixtures: a minimal params file, tiny step notebooks for runner tests, and a
Chromium for the tests that open a report in a real browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from csi_helpers.errors import CsiError
from csi_helpers.report import browser
from csi_helpers.runfolder.layout import STEPS

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "real"
CHROMIUM_INSTALL_TIMEOUT_S = 900

MINIMAL_PARAMS = """\
service: {id: web, name: Web shop}
cycle: {id: q1, label: 2026 Q1, start: 2026-01-01, end: 2026-03-31}
"""


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params" / "cycle.yaml"
    path.parent.mkdir()
    path.write_text(MINIMAL_PARAMS)
    return path


def tiny_step_notebook(number: int, *, body: str | None = None) -> nbformat.NotebookNode:
    """A step notebook that opens its step, reads the previous step's record and writes its own."""
    key = STEPS[number - 1].key
    read = f'ctx.read_json("{STEPS[number - 2].key}/out")\n' if number > 1 else ""
    code = body or (
        "from csi_helpers import begin_step\n"
        f"ctx = begin_step({number}, run_dir=run_dir, params_path=params_path)\n"
        f"{read}"
        f'ctx.write_json("out", {{"step": {number}, "key": "{key}"}})\n'
        f'print("step {number} done")'
    )
    params = new_code_cell('run_dir: str = ""  # run folder\nparams_path: str = ""  # params file')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell(f"# Step {number}"), params, new_code_cell(code)])
    nb.metadata = {
        "kernelspec": {"name": "csi-workbook", "display_name": "x", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


@pytest.fixture
def chain_dir(tmp_path: Path):
    """Write the seven tiny notebooks; ``chain_dir(broken={3: code})`` plants a failing cell."""

    def make(broken: dict[int, str] | None = None) -> Path:
        folder = tmp_path / "notebooks"
        folder.mkdir(exist_ok=True)
        for s in STEPS:
            nb = tiny_step_notebook(s.number)
            if broken and s.number in broken:
                nb.cells.append(new_code_cell(broken[s.number]))
            nbformat.write(nb, folder / s.notebook)
        return folder

    return make


@pytest.fixture(scope="session")
def chromium() -> Path:
    """A Chromium binary: installs Debian's package when none is found."""
    try:
        return browser.find_chromium()
    except CsiError:
        if os.environ.get(browser.CHROMIUM_ENV):
            raise
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("no Chromium and not root, so apt cannot install it: apt-get install chromium")
    if not shutil.which("apt-get"):
        pytest.skip("no Chromium and no apt-get to install it: install chromium or Chrome")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=CHROMIUM_INSTALL_TIMEOUT_S
        )
        assert done.returncode == 0, f"{' '.join(command)} failed: {done.stderr[-500:]}"
    return browser.find_chromium()
