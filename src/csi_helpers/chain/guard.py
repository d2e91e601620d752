"""A run of a cycle as a transaction: one run per run id at a time, the last good kept.

* :func:`run_lock`: a run holds a lock on its run id for as long as it runs, a file
  ``<runs>/.locks/<run id>.json`` made with ``O_EXCL`` that says who holds it (pid,
  host, start time, command). A second run of the same id is refused at once with a
  message naming the holder. A lock whose process is gone (same host, pid not alive)
  is stale: it is taken over, and the run says so.
* :func:`keep_last_good`: a full run of a run id that has a successful run sets that
  run folder and its reports aside (``<id>.previous``) and deletes them only when it
  succeeds. When it fails (or is interrupted), the failed folder is kept as
  ``<id>.failed`` for inspection and the last good run and reports are put back,
  byte for byte. A folder set aside by a run that died (``kill -9``) is put back by
  the next run of the id.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csi_helpers.errors import CsiError, RunFolderError

__all__ = ["RunLocked", "keep_last_good", "lock_path", "run_lock"]

LOCKS = ".locks"


class RunLocked(RunFolderError):
    """Another run of the same run id is running (names it)."""


def lock_path(runs_dir: Path, run_id: str) -> Path:
    """Where the lock of a run id is kept."""
    return runs_dir / LOCKS / f"{run_id}.json"


@contextmanager
def run_lock(
    runs_dir: Path, run_id: str, *, say: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold the lock on ``run_id`` while the block runs (see the module's docstring).

    Raises:
        RunLocked: a live run holds it.
    """
    path = lock_path(runs_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = {
        "run_id": run_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv)[:300],
    }
    _acquire(path, mine, say or (lambda text: print(text, file=sys.stderr)))
    try:
        yield path
    finally:
        if _holder(path).get("pid") == mine["pid"]:
            path.unlink(missing_ok=True)


def _acquire(path: Path, mine: dict[str, Any], say: Callable[[str], None]) -> None:
    for _ in range(3):  # a stale lock is removed, then taken like a free one
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = _holder(path)
            if _alive(holder):
                raise RunLocked(
                    f"run {mine['run_id']} is already running: {_describe(holder)}. Wait for "
                    f"it to end, or stop it; if it is gone, delete {path}"
                ) from None
            say(f"note: took over the stale lock of run {mine['run_id']} ({_describe(holder)})")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(mine, handle)
        return
    raise RunLocked(f"{path}: could not take the lock of run {mine['run_id']}; try again")


def _holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable or half-written: its writer died before it finished


def _alive(holder: dict[str, Any]) -> bool:
    """Whether the lock's process runs (on another host: assumed so, it cannot be seen)."""
    if not holder.get("pid"):
        return False
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(holder: dict[str, Any]) -> str:
    return (
        f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since "
        f"{holder.get('started', '?')} ({holder.get('command', '?')})"
    )


@contextmanager
def keep_last_good(run_dir: Path, report_dir: Path, *, full: bool) -> Iterator[None]:
    """Keep the last good run and reports of a run id until a full run succeeds.

    Resumed runs (``full`` False) work in place, as before.
    """
    previous, previous_reports = _aside(run_dir), _aside(report_dir)
    _recover(run_dir, report_dir)
    if not (full and _succeeded(run_dir)):
        yield
        return
    _set_aside(run_dir, report_dir)
    try:
        yield
    except BaseException as exc:
        failed = _put_back(run_dir, report_dir)
        if isinstance(exc, CsiError):  # the same error, told what became of the folders
            again = re.sub(
                r"resume with: (csi run .*?) --from-step \d+", r"run it again: \1", str(exc)
            )
            exc.args = (
                f"{again}\n  the last good run and its reports are back in place, unchanged; "
                f"this run's folder is kept as {failed}",
            )
        raise
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(previous_reports, ignore_errors=True)


def _set_aside(run_dir: Path, report_dir: Path) -> None:
    """Move the last good run and its reports aside, both or neither.

    Raises:
        OSError: a folder cannot be moved (read-only, no permission), with its name;
            nothing has changed (the command line says so in one line, exit 1).
    """
    moved: list[Path] = []
    try:
        for folder in (run_dir, report_dir):
            if folder.exists():
                folder.rename(_aside(folder))
                moved.append(folder)
    except OSError:
        for folder in reversed(moved):
            _aside(folder).rename(folder)
        raise


def _aside(folder: Path) -> Path:
    return folder.with_name(folder.name + ".previous")


def _succeeded(run_dir: Path) -> bool:
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("status") == "succeeded"


def _put_back(run_dir: Path, report_dir: Path) -> Path:
    """The failed run to ``<id>.failed``, the last good run and reports back in place."""
    failed = run_dir.with_name(run_dir.name + ".failed")
    shutil.rmtree(failed, ignore_errors=True)
    if run_dir.exists():
        run_dir.rename(failed)
    _aside(run_dir).rename(run_dir)
    shutil.rmtree(report_dir, ignore_errors=True)
    if _aside(report_dir).exists():
        _aside(report_dir).rename(report_dir)
    return failed


def _recover(run_dir: Path, report_dir: Path) -> None:
    """Put back a last good run a dead run set aside (it never got to do so itself)."""
    if not _aside(run_dir).exists():
        return
    if _succeeded(run_dir):  # it died after succeeding, before it cleaned up
        shutil.rmtree(_aside(run_dir), ignore_errors=True)
        shutil.rmtree(_aside(report_dir), ignore_errors=True)
        return
    _put_back(run_dir, report_dir)
