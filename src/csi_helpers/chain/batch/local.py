"""Jobs run on this machine: a pool of spawned worker processes, ``--jobs N`` at a time."""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from csi_helpers.chain.batch.jobs import JobResult, Progress, Workspace, lost, run_job, skipped
from csi_helpers.chain.batch.plan import BatchJob
from csi_helpers.errors import Interrupted

__all__ = ["run_here"]


def _warm_up() -> None:
    """Worker initializer: stop cleanly on SIGINT and SIGTERM (the job's kernels shut
    down with it), and import the runner while the other workers start."""
    from csi_helpers.chain.signals import raise_on_signals

    raise_on_signals()
    import csi_helpers.chain.runner  # noqa: F401


def run_here(
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
    except Interrupted:  # pass the stop on: each worker stops its run and its kernels
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM to the pool's worker processes (the executor has no public way to reach
    them); each one's handler raises Interrupted in the run it is running."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError):
            process.terminate()


def _new_pool(max_jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=max_jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm_up,
    )
