"""Deprecated alias: ``csi_helpers.scorecard`` moved to :mod:`csi_helpers.kpis.scorecard`.

Kept for one release so that notebooks written for csi-workbook 0.1 keep working
(see :mod:`csi_helpers.compat`).
"""

from csi_helpers.analysis.baseline import kpi_findings  # noqa: F401
from csi_helpers.compat import ALIASES, moved
from csi_helpers.kpis.scorecard import build_scorecard, rag_status  # noqa: F401
from csi_helpers.report.tables import ARROWS  # noqa: F401

moved(__name__, ALIASES[__name__])
