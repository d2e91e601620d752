"""Plan a batch (``csi batch``): validate every params file and order the jobs.

:func:`plan_batch` runs before anything else: every file is validated (all bad
files are named at once), two files with one run id or demo data folder with
different seeds are refused, a ``previous_run`` that is another job's run id
becomes a dependency (a circle of them is refused), and jobs that write the
same CSI register are chained so that they never run at the same time.
:mod:`csi_helpers.chain.batch` runs the planned jobs.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, replace
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from csi_helpers.errors import ParamsError

__all__ = ["BatchJob", "plan_batch"]


@dataclass(frozen=True)
class BatchJob:
    """One params file of a batch, planned."""

    params_path: Path  # absolute
    run_id: str
    service: str  # display name, for the index
    period: str
    register: str  # the CSI register it writes (URL as params give it)
    demo: tuple[Path, int] | None = None  # (directory, seed) of demo data it generates
    depends_on: tuple[str, ...] = ()  # run ids of this batch it needs (its previous_run)
    after: tuple[str, ...] = ()  # run ids that share its register and go first


def plan_batch(params_files: Iterable[str | Path]) -> list[BatchJob]:
    """Validate every params file and order the jobs (prerequisites first).

    Args:
        params_files: the batch's params files; their order breaks ties.

    Returns:
        The jobs, each after the jobs it depends on or shares a register with.

    Raises:
        ParamsError: a file is invalid (all bad files are listed), two files
            name one run id, or previous_run links form a circle.
    """
    from csi_helpers.params import validate_params_file
    from csi_helpers.register import register_url

    files = [Path(f) for f in params_files]
    if not files:
        raise ParamsError("no params files given; name one or more, e.g. params/*.yaml")
    jobs: list[BatchJob] = []
    problems: list[str] = []
    previous: dict[str, str | None] = {}
    for file in files:
        try:
            p = validate_params_file(file)
        except ParamsError as exc:
            problems.append(str(exc))
            continue
        job = BatchJob(
            params_path=file.resolve(),
            run_id=p.default_run_id,
            service=p.service.name,
            period=p.cycle.period,
            register=register_url(p),
            demo=(p.demo.directory, p.demo.seed) if p.demo else None,
        )
        jobs.append(job)
        previous[job.run_id] = p.previous_run_id
    if problems:
        raise ParamsError("\n".join(problems))
    _refuse_shared_run_ids(jobs)
    _refuse_demo_seed_clashes(jobs)
    by_id = {j.run_id: j for j in jobs}
    graph = {j.run_id: [previous[j.run_id]] if previous[j.run_id] in by_id else [] for j in jobs}
    order = _topological_order(graph, [j.run_id for j in jobs], by_id)
    last_writer: dict[str, str] = {}
    planned = []
    for run_id in order:
        job = by_id[run_id]
        earlier = last_writer.get(job.register)
        after = (earlier,) if earlier and earlier not in graph[run_id] else ()
        last_writer[job.register] = run_id
        planned.append(replace(job, depends_on=tuple(graph[run_id]), after=after))
    return planned


def _refuse_shared_run_ids(jobs: list[BatchJob]) -> None:
    seen: dict[str, Path] = {}
    for job in jobs:
        if job.run_id in seen:
            raise ParamsError(
                f"{seen[job.run_id]} and {job.params_path} both run as {job.run_id!r} "
                "(one run folder); give one of them its own `run_id:`, or list the file once"
            )
        seen[job.run_id] = job.params_path


def _refuse_demo_seed_clashes(jobs: list[BatchJob]) -> None:
    seeds: dict[Path, tuple[int, Path]] = {}
    for job in jobs:
        if job.demo is None:
            continue
        folder, seed = job.demo
        if folder in seeds and seeds[folder][0] != seed:
            raise ParamsError(
                f"{seeds[folder][1]} and {job.params_path} generate demo data into {folder} "
                f"with different seeds ({seeds[folder][0]}, {seed}); give them one seed or "
                "separate `demo.directory` folders"
            )
        seeds.setdefault(folder, (seed, job.params_path))


def _topological_order(
    graph: dict[str, list[str]], listed: list[str], by_id: dict[str, BatchJob]
) -> list[str]:
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as exc:
        circle = exc.args[1]  # [a, b, ..., a]: each is the previous run of the next
        steps = " → ".join(f"{by_id[r].params_path.name} ({r})" for r in reversed(circle))
        raise ParamsError(
            f"the batch's previous_run links form a circle: {steps} (each waits for the "
            "next); a `previous_run` must name an earlier cycle: fix the one that points forward"
        ) from None
    # the listed order, except that a job comes after the jobs it depends on
    rank = {run_id: i for i, run_id in enumerate(listed)}
    ready = [(rank[r], r) for r in sorter.get_ready()]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, run_id = heapq.heappop(ready)
        order.append(run_id)
        sorter.done(run_id)
        for r in sorter.get_ready():
            heapq.heappush(ready, (rank[r], r))
    return order
