"""One job of a batch: a whole cycle run into its own run folder, and how it ended.

:func:`run_job` runs in a worker process (local) or a Dask worker and never
raises: a failure is a ``failed`` :class:`JobResult` whose ``reason`` is one line.
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from csi_helpers.chain.batch.plan import BatchJob
from csi_helpers.errors import BatchIncomplete, CsiError, ParamsError

__all__ = [
    "BatchResult",
    "JobResult",
    "Progress",
    "Status",
    "Workspace",
    "lost",
    "one_line",
    "run_job",
    "skipped",
]

Status = Literal["succeeded", "failed", "skipped"]
Progress = Callable[["JobResult", int, int], None]
"""Called as (result, number finished, number of jobs) as each job ends."""


@dataclass(frozen=True)
class Workspace:
    """Where every job of a batch runs: absolute folders, the same on every worker."""

    runs_dir: Path
    reports_dir: Path
    notebooks: Path | None = None
    write_register: bool | None = None  # None: each cycle under its own run id writes it

    @classmethod
    def at(
        cls,
        runs_dir: str | Path,
        reports_dir: str | Path,
        notebooks: str | Path | None = None,
        *,
        write_register: bool | None = None,
    ) -> Workspace:
        return cls(
            Path(runs_dir).resolve(),
            Path(reports_dir).resolve(),
            Path(notebooks).resolve() if notebooks else None,
            write_register,
        )


@dataclass
class JobResult:
    """How one job ended; ``reason`` is one line, ``message`` the whole error."""

    run_id: str
    status: Status
    seconds: float | None = None
    reason: str = ""
    message: str = ""
    reports: dict[str, str] = field(default_factory=dict)  # step number -> absolute path
    run_dir: str | None = None
    started: str | None = None  # UTC, ISO 8601
    ended: str | None = None
    host: str | None = None
    pid: int | None = None


@dataclass
class BatchResult:
    """Every job's result, in the batch's order, and how the batch ran."""

    jobs: list[BatchJob]
    results: list[JobResult]
    engine: str
    started: str
    seconds: float

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 when every job succeeded, else 3 (:class:`~csi_helpers.errors.BatchIncomplete`);
        how many failed or were skipped is in the counts."""
        return 0 if self.count("failed") + self.count("skipped") == 0 else BatchIncomplete.exit_code


def run_job(job: BatchJob, workspace: Workspace) -> JobResult:
    """Run one job's cycle; never raises: a failure is a ``failed`` result.

    Runs in a worker process (local) or a Dask worker; the result is small and
    picklable.
    """
    from csi_helpers.chain.runner import run_cycle
    from csi_helpers.runfolder.manifest import utc_now

    result = JobResult(
        job.run_id,
        "failed",
        started=utc_now(),
        run_dir=str(workspace.runs_dir / job.run_id),
        host=socket.gethostname(),
        pid=os.getpid(),
    )
    t0 = time.perf_counter()
    try:
        if not job.params_path.is_file():
            raise ParamsError(
                f"{job.params_path}: params file not found on host {result.host}; every worker "
                "must see the batch's files at the same paths (a shared filesystem)"
            )
        run = run_cycle(
            job.params_path,
            run_id=job.run_id,
            runs_dir=workspace.runs_dir,
            reports_dir=workspace.reports_dir,
            notebooks=workspace.notebooks,
            zygote=_worker_zygote(workspace.notebooks),
            write_register=workspace.write_register,
        )
        result.status = "succeeded"
        result.reports = {str(n): str(p) for n, p in sorted(run.reports.items())}
    except CsiError as exc:
        result.message = str(exc)
        result.reason = one_line(result.message)
        result.reports = _reports_so_far(Path(result.run_dir))
    except Exception as exc:  # a bug or a broken environment: keep the traceback
        result.message = "".join(traceback.format_exception(exc))
        result.reason = one_line(f"{type(exc).__name__}: {exc}")
    result.seconds = round(time.perf_counter() - t0, 2)
    result.ended = utc_now()
    return result


_ZYGOTES: dict[Path | None, Any] = {}
_ZYGOTES_LOCK = threading.Lock()


def _worker_zygote(notebooks: Path | None) -> Any:
    """The kernel zygote this worker process keeps for all its cycles (None where
    unsupported): each cycle's step kernels are forked from it, fresh, so a worker
    imports the libraries once rather than once per cycle. Stopped when the worker
    exits."""
    from csi_helpers.chain.kernels.pool import start_zygote

    with _ZYGOTES_LOCK:
        zygote = _ZYGOTES.get(notebooks)
        if zygote is None or not zygote.alive:
            zygote = start_zygote(notebooks)
            if zygote is not None:
                atexit.register(zygote.close)
            _ZYGOTES[notebooks] = zygote
        return zygote


def one_line(message: str, *, limit: int = 240) -> str:
    """The gist of an error message on one line: its first two lines, shortened.

    Example:
        >>> one_line("step 3 (gather) failed in cell 2\\n  ZeroDivisionError: division by zero\\n")
        'step 3 (gather) failed in cell 2 — ZeroDivisionError: division by zero'
    """
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    text = " — ".join(lines[:2])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reports_so_far(run_dir: Path) -> dict[str, str]:
    """The reports a failed run still wrote (step 6's when step 7 failed)."""
    from csi_helpers.runfolder.manifest import read_manifest

    try:
        reports = read_manifest(run_dir).get("reports", {})
    except CsiError:
        return {}
    return {n: r["path"] for n, r in sorted(reports.items()) if Path(r["path"]).is_file()}


def skipped(job: BatchJob, results: dict[str, JobResult]) -> JobResult | None:
    """A ``skipped`` result when a prerequisite did not succeed, else None."""
    for run_id in job.depends_on:
        if results[run_id].status != "succeeded":
            return JobResult(
                job.run_id,
                "skipped",
                reason=f"not run: its previous run {run_id} {results[run_id].status}",
            )
    return None


def lost(job: BatchJob, why: str) -> JobResult:
    """A ``failed`` result for a job whose worker was lost before it could answer."""
    return JobResult(job.run_id, "failed", reason=one_line(why), message=why)
