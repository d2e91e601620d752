"""The kernels the steps run in: fresh for every step, started ahead, forked from a zygote.

- :mod:`~csi_helpers.chain.kernels.spec`: the kernel spec and manager bound to this
  interpreter, whatever kernels the machine has registered;
- :mod:`~csi_helpers.chain.kernels.zygote`: a process that has done the imports once,
  from which each step's kernel is forked;
- :mod:`~csi_helpers.chain.kernels.warmup`: what a step's kernel imports ahead;
- :mod:`~csi_helpers.chain.kernels.pool`: kernels started while the previous step runs,
  killed in the background when theirs ends;
- :mod:`~csi_helpers.chain.kernels.engine`: the papermill engine that runs a notebook
  on such a kernel.
"""

__all__ = ["engine", "pool", "spec", "warmup", "zygote"]
