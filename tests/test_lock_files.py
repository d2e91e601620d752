"""The two lock files agree: `make run` and `make test` run the workbook on the same versions.

``requirements.lock`` pins what running the workbook needs (pyproject.toml's dependencies),
``requirements-dev.lock`` that plus the ``dev`` extra; ``make lock`` compiles the second with the
first as constraints. A package both hold must have the same version in both (markers may differ:
psutil is pulled in by ipython only on some platforms, by the dev extra on all), and the runtime
lock must not carry the dev tools back into ``make run``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")

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


def test_runtime_pins_are_the_dev_pins() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    differ = {
        name: (versions, dev.get(name))
        for name, versions in runtime.items()
        if dev.get(name) != versions
    }
    assert not differ, f"run `make lock`: requirements-dev.lock pins these otherwise: {differ}"


def test_runtime_lock_holds_no_dev_tools() -> None:
    dev_tools = DEV_ONLY & _pins("requirements.lock").keys()
    assert not dev_tools, f"`make run` would install the dev tools {sorted(dev_tools)}"


def test_locks_cover_pyproject() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert not _declared() - runtime.keys(), "run `make lock`: requirements.lock is behind"
    assert not _declared("dev") - dev.keys(), "run `make lock`: requirements-dev.lock is behind"
