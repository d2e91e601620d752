"""The Dask path of ``csi batch --scheduler ADDRESS``: one task per job.

Each job becomes one ``client.submit`` of :func:`run_dask_job`; the futures of
the jobs it waits for are passed as its arguments, so the Dask scheduler
itself keeps the batch's order (prerequisites first, one register writer at a
time) and hands the task their results. Nothing here schedules or moves data:
Dask does, and every job reads and writes the shared filesystem.

What the cluster needs:

* workers that see the batch's files at the same absolute paths as the
  machine that starts the batch: params files, data, notebooks, and the runs
  and reports folders (an NFS or SMB share, a cluster filesystem);
* the same csi-workbook version in the workers' Python (the task is
  :func:`run_dask_job`, sent by reference, and the kernels use that Python);
* one thread per worker, e.g. ``dask worker tcp://HOST:8786 --nthreads 1
  --nworkers 4``: a job already runs each step in a kernel process of its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from csi_helpers.chain.batch.jobs import (
    BatchJob,
    JobResult,
    Progress,
    Workspace,
    lost,
    run_job,
    skipped,
)
from csi_helpers.errors import EngineError


def run_dask_job(
    job: BatchJob,
    workspace: Workspace,
    prerequisites: list[JobResult],
    earlier: list[JobResult],
) -> JobResult:
    """The task of one job on a Dask worker; its prerequisites' results arrive as arguments.

    ``earlier`` are the results of the jobs that write the same register and go
    first: only waited for, whatever their outcome.
    """
    del earlier
    not_run = skipped(job, {r.run_id: r for r in prerequisites})
    return not_run if not_run is not None else run_job(job, workspace)


def run_on_dask(
    jobs: list[BatchJob], workspace: Workspace, address: str, report: Progress
) -> dict[str, JobResult]:
    """Submit the planned jobs to the scheduler at ``address``; their results by run id."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise EngineError(
            "--scheduler needs Dask's distributed scheduler: pip install 'distributed>=2024.8'"
        ) from None
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise EngineError(
            f"--scheduler {address}: cannot reach a Dask scheduler ({exc}); start one with "
            f"`dask scheduler` and workers with `dask worker {address} --nthreads 1`"
        ) from None
    results: dict[str, JobResult] = {}
    erred: dict[str, BaseException] = {}
    token = uuid.uuid4().hex[:8]
    with client:
        futures: dict[str, Any] = {}
        for rank, job in enumerate(jobs):
            futures[job.run_id] = client.submit(
                run_dask_job,
                job,
                workspace,
                [futures[r] for r in job.depends_on],
                [futures[r] for r in job.after],
                key=f"csi-batch-{token}-{job.run_id}",
                priority=len(jobs) - rank,
                pure=False,
            )
        by_key = {f.key: job for job, f in zip(jobs, futures.values(), strict=True)}
        for future in as_completed(list(futures.values()), loop=client.loop):
            job = by_key[future.key]
            if future.status != "finished":  # erred (a worker lost) or cancelled
                erred[job.run_id] = (
                    future.exception()
                    if future.status == "error"
                    else RuntimeError(f"the Dask task was {future.status}")
                )
                continue
            results[job.run_id] = future.result()
            report(results[job.run_id], len(results), len(jobs))
    for job in jobs:  # in order: a task that raised took its dependents' tasks with it
        if job.run_id in erred:
            not_run = skipped(job, results) if job.depends_on else None
            exc = erred[job.run_id]
            results[job.run_id] = not_run or lost(job, f"{type(exc).__name__}: {exc}")
            report(results[job.run_id], len(results), len(jobs))
    return results
