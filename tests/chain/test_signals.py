"""Ctrl-C and SIGTERM stop a run: exit 130, manifest ``interrupted``, no process left
(issue 17 point 2). The chain runs tiny step notebooks; step 2 sleeps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from csi_helpers.runfolder.layout import STEPS

pytestmark = pytest.mark.slow
CSI = [sys.executable, "-m", "csi_helpers.cli"]


def sleepy_chain(folder: Path) -> Path:
    from conftest import tiny_step_notebook

    folder.mkdir(exist_ok=True)
    for s in STEPS:
        nb = tiny_step_notebook(s.number)
        if s.number == 2:
            nb.cells.append(new_code_cell("import time\ntime.sleep(60)"))
        nbformat.write(nb, folder / s.notebook)
    return folder


def descendants(pid: int) -> set[int]:
    """Every live process under ``pid`` (children of children too), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def wait_for_step_2(manifest: Path, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if manifest.is_file():
            steps = json.loads(manifest.read_text())["steps"]
            if steps[1].get("status") == "running":
                time.sleep(2)  # its kernel is executing the sleep
                return
        time.sleep(0.2)
    raise AssertionError("step 2 never started")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_with_130_and_leaves_no_process(tmp_path, params_file, signum):
    notebooks = sleepy_chain(tmp_path / "notebooks")
    folders = ["--runs-dir", str(tmp_path / "runs"), "--reports-dir", str(tmp_path / "reports")]
    args = ["run", str(params_file), "--notebooks", str(notebooks), *folders]
    process = subprocess.Popen([*CSI, *args], stderr=subprocess.PIPE, text=True)
    wait_for_step_2(tmp_path / "runs" / "web-q1" / "manifest.json")
    under = descendants(process.pid)
    assert under, "the run should have a zygote and kernels"
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert f"stopped by {signal.Signals(signum).name}" in err and "Traceback" not in err
    manifest = json.loads((tmp_path / "runs" / "web-q1" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["steps"][1]["status"] == "interrupted"
    time.sleep(1)
    assert [p for p in under if alive(p)] == []
    assert not (tmp_path / "runs" / ".locks" / "web-q1.json").exists()


def test_sigterm_stops_a_batch_and_its_workers_kernels(tmp_path, params_file):
    notebooks = sleepy_chain(tmp_path / "notebooks")
    second = params_file.with_name("second.yaml")
    second.write_text(params_file.read_text().replace("id: q1", "id: q2"))
    folders = ["--runs-dir", str(tmp_path / "runs"), "--reports-dir", str(tmp_path / "reports")]
    args = ["batch", str(params_file), str(second), "--notebooks", str(notebooks), "--jobs", "2"]
    args += folders
    process = subprocess.Popen([*CSI, *args], stderr=subprocess.PIPE, text=True)
    wait_for_step_2(tmp_path / "runs" / "web-q1" / "manifest.json", timeout=120)
    under = descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=90)
    assert process.returncode == 130, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    time.sleep(1)
    assert [p for p in under if alive(p)] == []


def test_after_a_stop_a_background_threads_error_is_not_printed(monkeypatch):
    """A kernel started for the next step while the stop shuts kernels down fails in its
    thread; its traceback once reached an operator's terminal after "stopped by SIGTERM"."""
    import threading

    from csi_helpers.chain import signals as stop

    printed: list[str] = []  # what the hook before ours (Python's: print it) was given
    monkeypatch.setattr(threading, "excepthook", lambda args: printed.append(str(args.exc_value)))
    before = {n: signal.getsignal(n) for n in stop.SIGNALS}
    try:
        stop.raise_on_signals()

        def fail() -> None:
            raise RuntimeError("the zygote is gone")

        worker = threading.Thread(target=fail)
        worker.start()
        worker.join()
        assert printed == ["the zygote is gone"]  # before a stop: passed on
        stop._STOPPING.set()
        worker = threading.Thread(target=fail)
        worker.start()
        worker.join()
        assert printed == ["the zygote is gone"]  # after it: quiet
    finally:
        stop._STOPPING.clear()
        for number, handler in before.items():
            signal.signal(number, handler)
