"""Deprecated alias: ``csi_helpers.charts`` moved to :mod:`csi_helpers.report.charts`.

Kept for one release so that notebooks written for csi-workbook 0.1 keep working
(see :mod:`csi_helpers.compat`).
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.report.charts import *  # noqa: F403

moved(__name__, ALIASES[__name__])
