"""``CSI_REQUIRE_ALL=1`` turns a skip for missing data or tools into a failure (issue 20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

PROBE = """
import pytest

def test_missing_tool():
    pytest.skip("prometheus/promtool not installed")

@pytest.fixture
def data():
    pytest.skip("shared real data not found")

def test_missing_data(data):
    pass

@pytest.mark.skipif(True, reason="platform: kernels fork from a zygote on Linux only")
def test_platform():
    pass

@pytest.mark.xfail(reason="known")
def test_known():
    assert False

def test_fine():
    pass
"""


def run_probe(tmp_path: Path, require: str | None) -> str:
    """Run the probe under this suite's conftest (as a plugin) and return pytest's summary."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CSI_REQUIRE_ALL"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    if require is not None:
        env["CSI_REQUIRE_ALL"] = require
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "conftest", "-p", "no:cacheprovider",
         "-p", "no:xdist", str(probe)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout.splitlines()[-1]


@pytest.mark.parametrize("require", [None, "0"])
def test_without_the_switch_missing_things_skip(tmp_path, require):
    assert run_probe(tmp_path, require).startswith("1 passed, 3 skipped, 1 xfailed")


def test_with_the_switch_a_missing_tool_or_data_fails(tmp_path):
    # the tool's skip fails, the fixture's skip is an error; the platform skip stays
    summary = run_probe(tmp_path, "1")
    assert summary.startswith("1 failed, 1 passed, 1 skipped, 1 xfailed, 1 error"), summary
