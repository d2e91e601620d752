"""A run of a cycle as a transaction: one run per run id, the last good kept (issue 17
point 1)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from csi_helpers.chain.guard import RunLocked, keep_last_good, lock_path, run_lock
from csi_helpers.chain.runner import run_cycle
from csi_helpers.errors import StepFailed
from csi_helpers.runfolder.hashing import sha256_file

BROKEN_CELL = 'value = int("not a number")  # planted failure\nprint(value)'


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256_file(p) for p in folder.rglob("*") if p.is_file()}


def test_a_second_run_of_the_same_id_is_refused_naming_the_first(tmp_path):
    notes = []
    with run_lock(tmp_path, "web-q1", say=notes.append) as path:
        holder = json.loads(path.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        with pytest.raises(RunLocked) as refused, run_lock(tmp_path, "web-q1"):
            pass
        assert f"pid {os.getpid()} on {socket.gethostname()}" in str(refused.value)
        assert "already running" in str(refused.value) and str(path) in str(refused.value)
        with run_lock(tmp_path, "web-q2"):  # another run id is free
            pass
    assert not path.exists() and notes == []


def test_a_dead_runs_lock_is_taken_over_with_a_note(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path = lock_path(tmp_path, "web-q1")
    path.parent.mkdir(parents=True)
    stale = {"pid": gone.pid, "host": socket.gethostname(), "started": "t0", "command": "csi"}
    path.write_text(json.dumps(stale))
    notes = []
    with run_lock(tmp_path, "web-q1", say=notes.append):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert notes == [f"note: took over the stale lock of run web-q1 (pid {gone.pid} on "
                     f"{socket.gethostname()} since t0 (csi))"]  # fmt: skip


def good_run(root: Path) -> tuple[Path, Path]:
    run_dir, report_dir = root / "runs" / "web-q1", root / "reports" / "web-q1"
    (run_dir / "analyse").mkdir(parents=True)
    report_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(json.dumps({"status": "succeeded"}))
    (run_dir / "analyse" / "findings.json").write_text("[1, 2]")
    (report_dir / "06_present.html").write_text("<p>good</p>")
    return run_dir, report_dir


def test_a_failed_full_run_puts_the_last_good_run_and_reports_back(tmp_path):
    run_dir, report_dir = good_run(tmp_path)
    before = (_files(run_dir), _files(report_dir))
    message = "step 3 (gather) failed\n  after fixing, resume with: csi run p.yaml --run-id web-q1 --from-step 3"  # noqa: E501
    with pytest.raises(StepFailed) as failed, keep_last_good(run_dir, report_dir, full=True):
        assert not run_dir.exists() and not report_dir.exists()  # set aside while it runs
        run_dir.mkdir()
        (run_dir / "manifest.json").write_text(json.dumps({"status": "failed"}))
        raise StepFailed(message)
    assert (_files(run_dir), _files(report_dir)) == before  # byte for byte
    kept = run_dir.with_name("web-q1.failed")
    assert json.loads((kept / "manifest.json").read_text())["status"] == "failed"
    text = str(failed.value)
    assert "run it again: csi run p.yaml --run-id web-q1" in text and "--from-step" not in text
    assert "last good run and its reports are back in place, unchanged" in text
    assert f"this run's folder is kept as {kept}" in text


def test_a_successful_full_run_replaces_the_last_good_one(tmp_path):
    run_dir, report_dir = good_run(tmp_path)
    with keep_last_good(run_dir, report_dir, full=True):
        run_dir.mkdir()
        (run_dir / "manifest.json").write_text(json.dumps({"status": "succeeded"}))
    assert not run_dir.with_name("web-q1.previous").exists()
    assert not report_dir.with_name("web-q1.previous").exists() and not report_dir.exists()


def test_a_run_killed_mid_way_has_its_last_good_run_put_back_by_the_next(tmp_path):
    run_dir, report_dir = good_run(tmp_path)
    before = _files(run_dir)
    run_dir.rename(run_dir.with_name("web-q1.previous"))  # what a killed run leaves
    report_dir.rename(report_dir.with_name("web-q1.previous"))
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text(json.dumps({"status": "running"}))
    with keep_last_good(run_dir, report_dir, full=False):  # a resume, even, finds it back
        assert _files(run_dir) == before and (report_dir / "06_present.html").is_file()


def test_two_runs_of_one_id_one_second_apart_and_a_failing_rerun(tmp_path, params_file, chain_dir):
    """The chain itself: the second run is refused while the first runs (naming it); the
    first succeeds; a re-run failing at step 3 leaves its reports byte-identical."""
    slow = chain_dir(broken={2: "import time\ntime.sleep(4)"})
    folders = {"runs_dir": tmp_path / "runs", "reports_dir": tmp_path / "reports"}
    outcome = {}
    first = threading.Thread(
        target=lambda: outcome.setdefault(
            "first", run_cycle(params_file, notebooks=slow, **folders)
        )
    )
    first.start()
    time.sleep(1)
    with pytest.raises(RunLocked, match=rf"run web-q1 is already running: pid {os.getpid()}"):
        run_cycle(params_file, notebooks=slow, **folders)
    first.join()
    reports = outcome["first"].reports
    before = {n: p.read_bytes() for n, p in reports.items()}
    with pytest.raises(StepFailed, match="back in place, unchanged"):
        run_cycle(params_file, notebooks=chain_dir(broken={3: BROKEN_CELL}), **folders)
    assert {n: p.read_bytes() for n, p in reports.items()} == before
    assert (tmp_path / "runs" / "web-q1.failed").is_dir()
