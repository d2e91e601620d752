"""csi-workbook helpers: everything the seven step notebooks call.

The notebooks in ``notebooks/`` orchestrate; this package computes. The public
entry points for a notebook are :func:`csi_helpers.step.begin_step` and the
modules named after each concern (``params``, ``demo``, ``kpis``, ``analysis``,
``report``).
"""

from importlib.metadata import PackageNotFoundError, version

from csi_helpers.errors import CsiError

try:
    __version__ = version("csi-workbook")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["CsiError", "__version__"]
