"""Deprecated: ``csi_helpers.improvement``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.steps.implement`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.steps.implement import *  # noqa: F403

moved(__name__, *ALIASES[__name__])
