"""Every command in the README's shell blocks works as written on a fresh clone (issue 18
point 7), in the README's order, apart from the benchmarks, the tests themselves and the
cluster (Dask) ones.

The clone is the checkout's tracked files copied to a temporary folder (what ``git clone``
gives), so that runs, reports, registers and ``../web-csi`` land there and not in the
checkout. ``make run`` sets up the clone's own ``.venv``; the commands after it find ``csi``
and ``python`` there, as the README says ("activate the environment").
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import fresh_clone

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"

#: Commands not run here, and why.
SKIPPED = {
    r"^make (test|test-fast)\b": "the test suite itself (CI runs make test)",
    r"^make bench": "a benchmark",
    r"^make lab\b": "starts a server and waits for a browser",
    r"^dask |--scheduler": "needs a Dask cluster",
}


def readme_commands(text: str) -> list[tuple[int, str]]:
    """The commands of the README's ``bash`` blocks with their line numbers, comments and
    blank lines left out."""
    commands = []
    for block in re.finditer(r"^```bash\n(.*?)^```", text, re.S | re.M):
        first = text[: block.start()].count("\n") + 2
        for offset, line in enumerate(block[1].splitlines()):
            command = re.sub(r"\s+#\s.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append((first + offset, command))
    return commands


def test_the_readme_lists_its_commands():
    """The parser finds the commands the other test runs (a change in README layout that
    hid them would make that test pass on nothing)."""
    commands = [c for _, c in readme_commands(README.read_text(encoding="utf-8"))]
    assert commands[:2] == ["make run", "make test"]
    assert "csi run params/demo_q2.yaml" in commands
    assert any(c.startswith("csi init ") for c in commands)
    assert any(c.startswith("csi register update ") for c in commands)
    assert any(c.startswith("csi batch ") and "--scheduler" not in c for c in commands)


@pytest.mark.slow
def test_every_readme_command_works_as_written_on_a_fresh_clone(tmp_path):
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files to clone")
    clone = fresh_clone(tmp_path)
    shared = REPO.parent / "shared"
    if shared.is_dir():  # ../shared beside the clone, as beside the checkout
        (tmp_path / "shared").symlink_to(shared)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "CSI_"))}
    outside = [p for p in env["PATH"].split(os.pathsep) if not p.startswith(sys.prefix)]
    env["PATH"] = os.pathsep.join([str(clone / ".venv" / "bin"), *outside])
    env["PYTHON"] = getattr(sys, "_base_executable", sys.executable)  # the Makefile's python3
    ran, skipped, made = [], [], ""
    for line, command in readme_commands((clone / "README.md").read_text(encoding="utf-8")):
        why = next((w for pattern, w in SKIPPED.items() if re.search(pattern, command)), None)
        if why:
            skipped.append(command)
            continue
        if made and re.search(rf"(^|/){re.escape(command)}(\s|$)", made, re.M):
            ran.append(command)  # a line of make run's recipe, which ran it a moment ago
            continue
        done = subprocess.run(
            ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
            timeout=900,
        )  # fmt: skip
        said = done.stdout[-2000:] + done.stderr[-2000:]
        assert done.returncode == 0, f"README.md line {line}: {command}\n{said}"
        assert "Traceback" not in said, f"README.md line {line}: {command}\n{said}"
        ran.append(command)
        if command == "make run":  # what it runs, to recognise those lines further down
            made = subprocess.run(
                ["make", "-n", "-B", "run"], cwd=clone, env=env, capture_output=True, text=True
            ).stdout
    assert len(ran) >= 15 and len(skipped) <= 10, (ran, skipped)
    # what the commands promise: the demo's reports, the team's workbook and its reports
    for run_id in ("shopfront-2026q2", "shopfront-2026q3", "shopfront-monthly-2026-06"):
        for page in ("06_present.html", "07_implement.html"):
            assert (clone / "reports" / run_id / page).is_file(), (run_id, page)
    team = tmp_path / "web-csi"
    assert (team / "reports" / "shopfront-2026q2" / "07_implement.html").is_file()
    assert (team / ".venv" / "bin" / "csi").is_file()  # the team's own installation
    check = subprocess.run(["make", "test"], cwd=team, env=env, capture_output=True, text=True)
    assert check.returncode == 0 and "params/example.yaml: ok" in check.stdout, check.stderr
    assert (clone / "actions.xlsx").is_file() and (clone / "params.schema.json").is_file()
