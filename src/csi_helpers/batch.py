"""Run many cycles at once (``csi batch``): in parallel here, or on a Dask cluster.

A batch is a list of params files, one job each, every job a whole
:func:`~csi_helpers.runner.run_cycle` into its own run folder. Before anything
runs, :func:`~csi_helpers.batch_plan.plan_batch` validates every file and orders
the jobs:

* a job whose ``previous_run`` is the run id of another job of the batch
  *depends on* it: it starts after that job succeeded, and is skipped (not
  run, with the reason) when it failed or was skipped;
* a circle of such dependencies, or two files with one run id, is refused;
* jobs that write the same CSI register (same service, same register) never
  run at the same time, since the register admits one writer; they go one
  *after* another in the batch's order, each whatever the other's outcome.

:func:`run_batch` then runs the jobs. Locally each job runs in a worker
process of a :class:`~concurrent.futures.ProcessPoolExecutor` (spawned, so it
inherits no threads, and reused for the next job, so the workbook's imports
are paid once per worker rather than once per job); one failure never stops
the others. With ``scheduler`` the jobs go to a Dask distributed cluster, one
``client.submit`` each, the dependencies passed as futures so Dask itself keeps
the order. Dask workers must see the same files at the same paths as this
machine (params, data, notebooks, runs and reports folders on a shared
filesystem), run the same csi-workbook version, and should have one thread
each (``dask worker ADDRESS --nthreads 1``): a job already runs its steps in
kernels of their own.

:mod:`csi_helpers.batch_index` writes the batch's index page and summary.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from csi_helpers.batch_plan import BatchJob, plan_batch
from csi_helpers.errors import CsiError, ParamsError

__all__ = [
    "BatchJob",
    "BatchResult",
    "JobResult",
    "Workspace",
    "default_jobs",
    "plan_batch",
    "run_batch",
    "run_job",
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

    @classmethod
    def at(
        cls, runs_dir: str | Path, reports_dir: str | Path, notebooks: str | Path | None = None
    ) -> Workspace:
        return cls(
            Path(runs_dir).resolve(),
            Path(reports_dir).resolve(),
            Path(notebooks).resolve() if notebooks else None,
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
        """Failed plus skipped jobs, at most 125 (0: all succeeded)."""
        return min(self.count("failed") + self.count("skipped"), 125)


# --------------------------------------------------------------------------- one job


def run_job(job: BatchJob, workspace: Workspace) -> JobResult:
    """Run one job's cycle; never raises: a failure is a ``failed`` result.

    Runs in a worker process (local) or a Dask worker; the result is small and
    picklable.
    """
    from csi_helpers.manifest import utc_now
    from csi_helpers.runner import run_cycle

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
    from csi_helpers.runner import start_zygote

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
    from csi_helpers.manifest import read_manifest

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


# --------------------------------------------------------------------------- the batch


def run_batch(
    jobs: list[BatchJob],
    workspace: Workspace,
    *,
    max_jobs: int = 2,
    scheduler: str | None = None,
    on_progress: Progress | None = None,
) -> BatchResult:
    """Run planned jobs, ``max_jobs`` at a time here or on the Dask cluster at ``scheduler``.

    Demo data the jobs generate is made once, here, before any job starts, so
    that parallel jobs never write the same files.

    Raises:
        EngineError: the Dask scheduler cannot be reached (see
            :mod:`csi_helpers.batch_dask`).
    """
    from csi_helpers.manifest import utc_now

    if max_jobs < 1:
        raise CsiError(f"--jobs {max_jobs}: run at least one job at a time")
    started, t0 = utc_now(), time.perf_counter()
    _prepare_demo_data(jobs)
    report = on_progress or (lambda *_: None)
    if scheduler:
        from csi_helpers.batch_dask import run_on_dask

        engine = f"Dask scheduler {scheduler}"
        results = run_on_dask(jobs, workspace, scheduler, report)
    else:
        engine = f"this machine, {max_jobs} job{'s' if max_jobs > 1 else ''} at a time"
        results = _run_here(jobs, workspace, max_jobs, report)
    return BatchResult(
        jobs=jobs,
        results=[results[j.run_id] for j in jobs],
        engine=engine,
        started=started,
        seconds=round(time.perf_counter() - t0, 2),
    )


def default_jobs() -> int:
    """The CPUs this process may use: the default number of jobs run at a time."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _prepare_demo_data(jobs: list[BatchJob]) -> None:
    demos = {job.demo for job in jobs if job.demo is not None}
    if demos:
        from csi_helpers.demo import ensure_demo_data

        for directory, seed in sorted(demos):
            ensure_demo_data(directory, seed=seed)


def _warm_up() -> None:
    """Worker initializer: import the runner while the other workers start."""
    import csi_helpers.runner  # noqa: F401


def _run_here(
    jobs: list[BatchJob], workspace: Workspace, max_jobs: int, report: Progress
) -> dict[str, JobResult]:
    results: dict[str, JobResult] = {}
    pending = list(jobs)
    running: dict[Future[JobResult], BatchJob] = {}

    def finish(result: JobResult) -> None:
        results[result.run_id] = result
        report(result, len(results), len(jobs))

    pool = _new_pool(max_jobs)
    try:
        while pending or running:
            for job in list(pending):  # in order: a skip reaches its dependents in this pass
                if all(r in results for r in job.depends_on):
                    not_run = skipped(job, results)
                    if not_run is not None:
                        pending.remove(job)
                        finish(not_run)
            for job in list(pending):
                if len(running) >= max_jobs:
                    break
                if all(r in results for r in (*job.depends_on, *job.after)):
                    pending.remove(job)
                    running[pool.submit(run_job, job, workspace)] = job
            if not running:  # jobs wait only for earlier jobs: none left, or all skipped
                assert not pending, f"batch stuck before {pending[0].run_id}"
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                job = running.pop(future)
                try:
                    finish(future.result())
                except BrokenProcessPool:
                    broken = True
                    finish(lost(job, "its worker process died (killed, or out of memory)"))
                except Exception as exc:  # e.g. a job that cannot be sent to the worker
                    finish(lost(job, f"{type(exc).__name__}: {exc}"))
            if broken:  # every job still in the broken pool is lost with it
                for future, job in list(running.items()):
                    running.pop(future)
                    finish(lost(job, "its worker process pool broke (a worker died)"))
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _new_pool(max_jobs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _new_pool(max_jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=max_jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm_up,
    )


def lost(job: BatchJob, why: str) -> JobResult:
    """A ``failed`` result for a job whose worker was lost before it could answer."""
    return JobResult(job.run_id, "failed", reason=one_line(why), message=why)
