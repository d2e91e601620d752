"""Corpus cases that need processes in flight: two runs of one id, a stop by signal, a
run killed with SIGKILL. Each on the real step notebooks, over a workspace with a good run.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_corpus import _kept

pytestmark = pytest.mark.slow

CSI = [sys.executable, "-m", "csi_helpers.cli"]


def _start(ws: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CSI, "run", "params.yaml", *extra],
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_step(ws: Path, number: int, timeout: float = 120) -> None:
    manifest = ws / "runs" / "shop-wk10" / "manifest.json"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            steps = json.loads(manifest.read_text())["steps"]
        except (OSError, ValueError, KeyError):
            steps = []
        if steps and steps[number - 1].get("status") == "running":
            return
        time.sleep(0.1)
    raise AssertionError(f"step {number} never started")


def _processes_of(ws: Path) -> list[str]:
    """Command lines of live processes that work in this workspace."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(ws) in text and "pytest" not in text:
            found.append(text)
    return found


def test_two_runs_of_one_id_one_second_apart(workspace):
    """One succeeds, the other is refused at once naming the first; the reports are whole."""
    first = _start(workspace)
    time.sleep(1)
    second = _start(workspace)
    _, err2 = second.communicate(timeout=120)
    _, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2, err2
    assert f"pid {first.pid}" in err2 and "already running" in err2 and "Traceback" not in err2
    assert len(err2.strip().splitlines()) == 1
    for name in ("06_present.html", "07_implement.html"):
        assert (workspace / "reports" / "shop-wk10" / name).stat().st_size > 10_000


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_in_step_4_exits_130_and_puts_the_good_run_back(workspace, signum):
    before = _kept(workspace)
    run = _start(workspace)
    _wait_for_step(workspace, 4)
    run.send_signal(signum)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 130, err
    assert "Traceback" not in err and signal.Signals(signum).name in err
    assert _kept(workspace) == before  # the last good run and reports, byte-identical
    failed = json.loads((workspace / "runs" / "shop-wk10.failed" / "manifest.json").read_text())
    assert failed["status"] == "interrupted"
    time.sleep(1)
    assert _processes_of(workspace) == []


def test_a_run_killed_with_sigkill_is_recovered_by_the_next(workspace):
    """kill -9 leaves the good run set aside and a lock of a dead process; the next run puts
    the good run back, takes the lock over with a note, and succeeds."""
    run = _start(workspace)
    _wait_for_step(workspace, 3)
    run.kill()
    run.communicate(timeout=60)
    time.sleep(1)
    for pid_line in _processes_of(workspace):  # its kernels die with their parent's pipes
        pytest.fail(f"left running: {pid_line}")
    again = subprocess.run(
        [*CSI, "run", "params.yaml"], cwd=workspace, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr
    assert "took over the stale lock" in again.stderr
    assert not (workspace / "runs" / "shop-wk10.previous").exists()
