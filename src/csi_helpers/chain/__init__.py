"""The chain: everything that runs the step notebooks.

- :mod:`~csi_helpers.chain.runner`: one cycle, the seven notebooks with papermill,
  each in a fresh kernel, the manifest kept as it goes (:func:`run_cycle`);
- :mod:`~csi_helpers.chain.run_folder`: the run folder made anew, or checked before
  a resume;
- :mod:`~csi_helpers.chain.kernels`: those kernels, forked from a zygote and started
  ahead;
- :mod:`~csi_helpers.chain.progress`: the live table ``csi run`` shows;
- :mod:`~csi_helpers.chain.batch`: many cycles at once, here or on a Dask cluster.

The chain knows notebooks, run folders and reports, never what a step computes.
"""

from csi_helpers.lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "csi_helpers.chain.runner": ("RunResult", "run_cycle"),
        "csi_helpers.chain.run_folder": ("CycleRun", "check_resumable"),
        "csi_helpers.chain.kernels.pool": ("start_zygote",),
        "csi_helpers.chain.progress": ("StepProgress",),
    },
)
