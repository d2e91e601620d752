"""Deprecated alias: ``csi_helpers.analyse`` moved to :mod:`csi_helpers.steps.analyse`.

Kept for one release so that notebooks written for csi-workbook 0.1 keep working
(see :mod:`csi_helpers.compat`).
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.steps.analyse import *  # noqa: F403
from csi_helpers.steps.analyse.inputs import *  # noqa: F403
from csi_helpers.steps.analyse.series import *  # noqa: F403
from csi_helpers.steps.analyse.tables import *  # noqa: F403

moved(__name__, ALIASES[__name__])
