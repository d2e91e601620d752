"""Write the bytecode of what running the workbook imports, by importing it once.

``make setup`` installs the runtime packages without their bytecode, then runs this script: it
imports what the chain imports, with bytecode writing on whatever PYTHONDONTWRITEBYTECODE says, so
that each of those modules gets its ``.pyc`` once and a step kernel does not recompile pandas,
scipy and friends where PYTHONDONTWRITEBYTECODE is set (7 s more per step on a 2-core machine).
The modules nothing imports (the packages' test suites, the parts of scipy or sqlalchemy the
workbook never touches) keep no bytecode: a lean ``.venv``.

What is imported:
- every ``csi_helpers`` module (the ``csi`` command, the runner, the steps, the zygote...);
- the heavy packages those modules import inside functions, and each step notebook's own imports
  (:func:`csi_helpers.chain.kernels.warmup.step_warm_modules`, as the runner warms a kernel);
- what a step kernel loads to start (ipykernel, IPython, matplotlib's inline backend);
- :data:`LAZY`: modules that libraries import only when the chain calls them (writing Parquet,
  drawing a PNG, exporting a notebook to HTML);
- :data:`LAB`: JupyterLab's server, where ``make lab`` installed it.

A module that fails to import (an engine or JupyterLab where it is not installed) is skipped.

usage: python tools/warm_bytecode.py [NOTEBOOKS_DIR]   (default: notebooks/ beside tools/)
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import sys
import time
import warnings
from pathlib import Path

sys.dont_write_bytecode = False  # the point of the script

# What a step kernel loads to start.
KERNEL = ["ipykernel_launcher", "ipykernel.kernelapp", "ipykernel.ipkernel", "IPython"]

# What libraries import only when the chain calls them: the modules that a demo run (`make run`
# with bytecode writing on) still compiled after importing the rest. A name that is gone in a later
# version is skipped; a module missing here is compiled in memory by each kernel that needs it.
LAZY = [
    # the kernel: its debugger (debugpy, imported at start), IPython's lazily loaded parts
    "ipykernel.debugger",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.logger",
    "IPython.core.oinspect",
    "IPython.core.pylabtools",
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "matplotlib_inline.backend_inline",
    "tornado.platform.asyncio",
    "tornado.queues",
    "zmq.utils.garbage",
    # data: ibis's DuckDB backend (its SQL compilers, sqlglot's dialects), pandera's pandas
    # backend, Parquet and Arrow, pandas' formatters
    "ibis.backends.duckdb",
    "ibis.backends.duckdb.converter",
    "ibis.expr.types.groupby",
    "ibis.formats.numpy",
    "ibis.formats.pandas",
    "ibis.formats.pyarrow",
    "pandera.accessors.pandas_accessor",
    "pandera.api.geopandas.model",
    "pandera.backends.pandas.builtin_checks",
    "pandera.backends.pandas.builtin_hypotheses",
    "pandera.backends.pandas.register",
    "pandera.backends.register_checks",
    "pandera.strategies.pandas_strategies",
    "pyarrow.dataset",
    "pyarrow.pandas_compat",
    "pyarrow_hotfix",
    "duckdb.func",
    "pandas.core.arrays.arrow._arrow_utils",
    "pandas.core.arrays.arrow.extension_types",
    "pandas.core.methods.to_dict",
    "pandas.core.reshape.reshape",
    "pandas.io.formats.csvs",
    "pandas.io.formats.html",
    "pandas.io.formats.string",
    "sqlalchemy.dialects.sqlite",
    "pydantic.type_adapter",
    # figures and reports: PNG through Agg and Pillow, notebooks to HTML, the CLI's output
    "matplotlib.backends.backend_agg",
    "PIL.BmpImagePlugin",
    "PIL.GifImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PpmImagePlugin",
    "PIL.features",
    "jinja2.ext",
    "mistune.plugins.def_list",
    "mistune.plugins.task_lists",
    "mistune.plugins.url",
    "bleach._vendor.html5lib.treebuilders.etree",
    "bleach._vendor.html5lib.treewalkers.etree",
    "rich._emoji_codes",
    "typer._adapters",
    "typer._click.decorators",
]

# JupyterLab's server, where the lab set is installed (`make lab`); skipped where it is not.
LAB = ["jupyterlab.labapp", "jupyter_server.serverapp", "jupyterlab_server", "jupyter_lsp"]


def modules(notebooks: Path) -> list[str]:
    """The modules to import, in order, without duplicates."""
    import csi_helpers
    from csi_helpers.chain.kernels.warmup import helpers_heavy_imports, step_warm_modules

    own = [
        info.name
        for info in pkgutil.walk_packages(csi_helpers.__path__, "csi_helpers.", onerror=_skip)
    ]
    names = ["csi_helpers", *own, *helpers_heavy_imports(tuple(own)), *KERNEL]
    for notebook in sorted(notebooks.glob("*.ipynb")):
        names.extend(step_warm_modules(notebook))
    names.extend(LAZY)
    names.extend(LAB)
    return list(dict.fromkeys(names))


def _skip(name: str) -> None:
    """walk_packages: a package that fails to import is skipped, as any module here is."""


@contextlib.contextmanager
def _stderr_to(stream: io.StringIO):
    """Hush what imports print to stderr, debugpy's frozen-modules warning included (it writes
    to file descriptor 2, so redirecting sys.stderr is not enough)."""
    import os
    import tempfile

    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink, contextlib.redirect_stderr(stream):
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def main(argv: list[str]) -> int:
    notebooks = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "notebooks"
    start, before = time.perf_counter(), len(sys.modules)
    failed = []
    names = modules(notebooks)
    quiet = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), _stderr_to(quiet):
        warnings.simplefilter("ignore")  # deprecated re-export modules, libraries' own warnings
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # an engine that is not installed, a name that is not a module
                failed.append(name)
    print(
        f"warm_bytecode: {len(sys.modules) - before} modules imported, their bytecode written "
        f"where it was missing, in {time.perf_counter() - start:.1f} s "
        f"({len(names)} asked for, {len(failed)} not importable here)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
