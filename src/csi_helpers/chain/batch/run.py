"""Run many cycles at once (``csi batch``): in parallel here, or on a Dask cluster.

A batch is a list of params files, one job each, every job a whole
:func:`~csi_helpers.chain.runner.run_cycle` into its own run folder. Before anything
runs, :func:`~csi_helpers.chain.batch.plan.plan_batch` validates every file and orders
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

:mod:`csi_helpers.chain.batch.index` writes the batch's index page and summary.
"""

from __future__ import annotations

import os
import time

from csi_helpers.chain.batch.jobs import BatchResult, Progress, Workspace
from csi_helpers.chain.batch.local import run_here
from csi_helpers.chain.batch.on_dask import run_on_dask
from csi_helpers.chain.batch.plan import BatchJob
from csi_helpers.errors import CsiError

__all__ = ["default_jobs", "run_batch"]


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
            :mod:`csi_helpers.chain.batch.on_dask`).
    """
    from csi_helpers.runfolder.manifest import utc_now

    if max_jobs < 1:
        raise CsiError(f"--jobs {max_jobs}: run at least one job at a time")
    started, t0 = utc_now(), time.perf_counter()
    _prepare_demo_data(jobs)
    report = on_progress or (lambda *_: None)
    if scheduler:
        engine = f"Dask scheduler {scheduler}"
        results = run_on_dask(jobs, workspace, scheduler, report)
    else:
        engine = f"this machine, {max_jobs} job{'s' if max_jobs > 1 else ''} at a time"
        results = run_here(jobs, workspace, max_jobs, report)
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
