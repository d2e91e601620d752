"""csi-workbook helpers: everything the seven step notebooks call.

The notebooks in ``notebooks/`` orchestrate; this package computes. It is laid
out by role (``ARCHITECTURE.md`` at the project root says what each room may
import):

- :mod:`csi_helpers.steps`: one module per ITIL step, the only code that takes a
  step context: it reads the run folder, calls the packages below, writes artefacts;
- :mod:`csi_helpers.chain`: runs the notebooks (runner, kernels, batch);
- :mod:`csi_helpers.runfolder`: the run folder, the only channel between steps
  (step context, manifest, hashes, Parquet in chunks);
- :mod:`csi_helpers.params`: the params schema, loading, presets, credentials;
- :mod:`csi_helpers.tables`: the tables that pass between steps, declared once;
- computing, all pure functions of tables and typed options:
  :mod:`csi_helpers.strategy` (steps 1-2), :mod:`csi_helpers.processing` (step 4),
  :mod:`csi_helpers.kpis` (KPI formulas), :mod:`csi_helpers.analysis` (step 5),
  :mod:`csi_helpers.actions` (findings → actions), :mod:`csi_helpers.report`
  (charts, tables, HTML and PDF);
- the outside world: :mod:`csi_helpers.connectors` (data in),
  :mod:`csi_helpers.register` (the CSI register), :mod:`csi_helpers.demo` (the
  bundled demo);
- :mod:`csi_helpers.errors` (one exception family), :mod:`csi_helpers.atomic`
  (every file written whole), :mod:`csi_helpers.cli` (the ``csi`` command).

A step notebook begins with::

    from csi_helpers import begin_step
    from csi_helpers.steps import process

    ctx = begin_step(4, run_dir=run_dir, params_path=params_path)

:mod:`csi_helpers.compat` keeps the flat module paths of 0.1 (``csi_helpers.present``
...) for one release, with a warning.
"""

from importlib.metadata import PackageNotFoundError, version

from csi_helpers.errors import CsiError
from csi_helpers.lazy import exports

try:
    __version__ = version("csi-workbook")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__getattr__, _LAZY = exports(
    __name__,
    {
        "csi_helpers.runfolder.context": ("begin_step", "StepContext"),
        "csi_helpers.params.loading": ("load_params",),
        "csi_helpers.chain.runner": ("run_cycle",),
    },
)
__all__ = ["CsiError", "__version__", *_LAZY]
