"""Deprecated: ``csi_helpers.analyse``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.steps.analyse`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.steps.analyse import *  # noqa: F403
from csi_helpers.steps.analyse.inputs import *  # noqa: F403
from csi_helpers.steps.analyse.series import *  # noqa: F403
from csi_helpers.steps.analyse.tables import *  # noqa: F403

moved(__name__, *ALIASES[__name__])
