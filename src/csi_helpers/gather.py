"""Deprecated: ``csi_helpers.gather``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.steps.gather`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.steps.common import prepare_sources  # noqa: F401
from csi_helpers.steps.gather import snapshot_sources  # noqa: F401

moved(__name__, *ALIASES[__name__])
