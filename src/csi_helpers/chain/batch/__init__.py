"""Many cycles at once (``csi batch``): in parallel here, or on a Dask cluster.

- :mod:`~csi_helpers.chain.batch.plan`: every params file validated, the jobs ordered
  (a cycle after its previous run; one register writer at a time);
- :mod:`~csi_helpers.chain.batch.jobs`: one job, a whole cycle run, and its result;
- :mod:`~csi_helpers.chain.batch.local`: jobs in worker processes on this machine;
- :mod:`~csi_helpers.chain.batch.on_dask`: jobs as tasks on a Dask cluster;
- :mod:`~csi_helpers.chain.batch.run`: :func:`run_batch`, which picks one of the two;
- :mod:`~csi_helpers.chain.batch.index`: the batch's index page, summary and table.
"""

from csi_helpers.lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "csi_helpers.chain.batch.plan": ("BatchJob", "plan_batch"),
        "csi_helpers.chain.batch.jobs": ("BatchResult", "JobResult", "Workspace", "run_job"),
        "csi_helpers.chain.batch.run": ("default_jobs", "run_batch"),
        "csi_helpers.chain.batch.index": ("summary_lines", "write_batch_index"),
    },
)
