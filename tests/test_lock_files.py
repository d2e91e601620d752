"""The three lock files agree: `make run`, `make lab` and `make test` use the same versions.

``requirements.lock`` pins what running the workbook needs (pyproject.toml's dependencies),
``requirements-lab.lock`` that plus the ``lab`` extra (JupyterLab), ``requirements-dev.lock`` that
plus the ``dev`` extra, which holds the lab extra. ``make lock`` compiles each with the one before
as constraints. A package two of them hold must have the same version in both (markers may differ:
psutil is pulled in by ipython only on some platforms, by the dev extra on all); the runtime lock
must not carry JupyterLab or the dev tools into ``make run``, nor the lab lock the dev tools into
``make lab``.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")
LOCKS = ("requirements.lock", "requirements-lab.lock", "requirements-dev.lock")

# In the lab extra only: JupyterLab and what only it pulls in (the chain runs without them).
LAB_ONLY = {
    "jupyterlab",
    "jupyterlab-server",
    "jupyter-server",
    "jupyter-lsp",
    "notebook-shim",
    "babel",
}

# In the dev extra only (psutil is not here: ipython needs it at run time too).
DEV_ONLY = {
    "pyspark",
    "py4j",
    "playwright",
    "distributed",
    "dask",
    "pytest",
    "pytest-xdist",
    "psycopg",
    "psycopg-binary",
    "ruff",
    "nbstripout",
    "pre-commit",
    "pypdf",
}


def _pins(name: str) -> dict[str, set[str]]:
    """Package name -> its pinned versions (more than one where markers split it, e.g. numpy)."""
    pins: dict[str, set[str]] = {}
    for line in (REPO / name).read_text().splitlines():
        if match := PIN.match(line):
            pins.setdefault(canonicalize_name(match[1]), set()).add(match[2])
    return pins


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {canonicalize_name(Requirement(dep).name) for dep in deps}


@pytest.mark.parametrize("smaller, larger", list(itertools.pairwise(LOCKS)))
def test_each_lock_holds_the_one_before_at_its_versions(smaller: str, larger: str) -> None:
    small, large = _pins(smaller), _pins(larger)
    differ = {
        name: (versions, large.get(name))
        for name, versions in small.items()
        if large.get(name) != versions
    }
    assert not differ, f"run `make lock`: {larger} pins these otherwise than {smaller}: {differ}"


def test_runtime_lock_holds_neither_jupyterlab_nor_dev_tools() -> None:
    extra = (LAB_ONLY | DEV_ONLY) & _pins("requirements.lock").keys()
    assert not extra, f"`make run` would install {sorted(extra)}"


def test_lab_lock_holds_jupyterlab_and_no_dev_tools() -> None:
    lab = _pins("requirements-lab.lock").keys()
    assert not LAB_ONLY - lab, f"`make lab` would miss {sorted(LAB_ONLY - lab)}"
    assert not DEV_ONLY & lab, f"`make lab` would install {sorted(DEV_ONLY & lab)}"


def test_dev_extra_holds_the_lab_extra() -> None:
    """So the dev lock holds the lab lock: a .venv set up for the tests can open JupyterLab."""
    assert _declared("lab") <= _declared("dev")


def test_locks_cover_pyproject() -> None:
    runtime, lab, dev = (_pins(name).keys() for name in LOCKS)
    assert not _declared() - runtime, "run `make lock`: requirements.lock is behind"
    assert not _declared("lab") - lab, "run `make lock`: requirements-lab.lock is behind"
    assert not _declared("dev") - dev, "run `make lock`: requirements-dev.lock is behind"
