"""Deprecated alias: ``csi_helpers.gather`` moved to :mod:`csi_helpers.steps.gather`.

Kept for one release so that notebooks written for csi-workbook 0.1 keep working
(see :mod:`csi_helpers.compat`).
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.steps.common import prepare_sources  # noqa: F401
from csi_helpers.steps.gather import snapshot_sources  # noqa: F401

moved(__name__, ALIASES[__name__])
