"""``csi init DIR`` (issue 18 point 1): a new team's workbook from the template inside the
package; ``csi run`` finds a workbook's notebooks from the params file or the working folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from conftest import fresh_clone
from csi_helpers.cli import main
from csi_helpers.onboarding.workbook import PRESETS, create_workbook, install_spec
from csi_helpers.params import load_params
from csi_helpers.runfolder.layout import STEPS
from csi_helpers.runfolder.paths import notebooks_dir

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["notebooks/" + s.notebook for s in STEPS] + [
    "params/demo_q2.yaml",
    "requirements.lock",
    "requirements-lab.lock",
]


@pytest.mark.parametrize("preset", PRESETS)
def test_init_writes_a_workbook_whose_params_load(tmp_path, preset, capsys):
    folder = tmp_path / "web-csi"
    assert main(["init", str(folder), "--preset", preset]) == 0
    assert f"cd {folder} && make run" in capsys.readouterr().out
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert names == sorted(
        [".gitignore", "Makefile", "README.md", "requirements.lock", "requirements-lab.lock",
         "params/example.yaml",
         "params/my_service.yaml", *("notebooks/" + s.notebook for s in STEPS)]
    )  # fmt: skip
    # the notebooks and the demo are the project's own, byte for byte
    for step in STEPS:
        assert (folder / "notebooks" / step.notebook).read_bytes() == (
            REPO / "notebooks" / step.notebook
        ).read_bytes()
    assert (folder / "params" / "example.yaml").read_bytes() == (
        REPO / "params" / "demo_q2.yaml"
    ).read_bytes()
    # the starting params of the preset are valid params (a calendar cycle: last quarter)
    p = load_params(folder / "params" / "my_service.yaml", today=date(2026, 12, 5))
    assert p.cycle.id == "2026q3" and p.strategy.kpis()
    assert p.sources[0].path.parent == folder / "data"
    # every template field was filled in: no {placeholder} left, the Makefile installs this
    # very csi-workbook
    makefile = (folder / "Makefile").read_text()
    assert "{" not in (folder / "README.md").read_text().replace("{quarter: previous}", "")
    assert f"CSI_WORKBOOK ?= {install_spec()}\n" in makefile
    assert "PARAMS ?= params/example.yaml\n" in makefile


def test_init_refuses_a_folder_with_files_and_an_unknown_preset(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["init", str(tmp_path)]) == 2
    assert "not empty; name a new folder, or add --force" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "new"), "--preset", "remedy"]) == 2
    assert "--preset remedy: not a preset; presets: servicenow, jira, event-log" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "new").exists()
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"  # left alone


def test_install_spec_names_this_installation():
    spec = install_spec()
    path = Path(spec.removeprefix("-e ").strip())
    # this test suite runs from an editable install of the checkout (make setup-dev)
    assert spec.startswith("-e ") and path.resolve() == REPO


def test_a_run_uses_the_notebooks_of_the_workbook_its_params_are_in(tmp_path, monkeypatch):
    monkeypatch.delenv("CSI_PROJECT_ROOT", raising=False)
    one, two = tmp_path / "one", tmp_path / "two"
    create_workbook(one)
    create_workbook(two)
    monkeypatch.chdir(two)
    assert notebooks_dir(one / "params" / "my_service.yaml") == (one / "notebooks").resolve()
    assert notebooks_dir(tmp_path / "elsewhere.yaml") == (two / "notebooks").resolve()  # the cwd
    monkeypatch.chdir(tmp_path)
    assert notebooks_dir(tmp_path / "elsewhere.yaml") == REPO / "notebooks"  # this checkout


def test_a_wheel_carries_the_template_so_that_pip_install_is_enough(tmp_path):
    """Built from a fresh clone: a build in the checkout would leave src/*.egg-info there,
    which importlib.metadata then finds before the installed distribution."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (make setup-dev installs it)")
    subprocess.run(
        [uv, "build", "--wheel", "--quiet", "-o", str(tmp_path), str(fresh_clone(tmp_path))],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob("csi_workbook-*.whl")
    with zipfile.ZipFile(wheel) as z:
        inside = "csi_helpers/onboarding/template/"
        for name in SHIPPED:
            assert z.read(inside + name) == (REPO / name).read_bytes(), name
        for name in ("Makefile", "README.md", "gitignore", *(f"presets/{p}.yaml" for p in PRESETS)):
            assert inside + name in z.namelist()


# `csi init ../web-csi && cd ../web-csi && make run` on a fresh clone, and the workbook's
# `make test`: tests/test_readme_commands.py, which runs the README's commands as written.
