"""Deprecated: ``csi_helpers.scorecard``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.kpis.scorecard`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.analysis.baseline import kpi_findings  # noqa: F401
from csi_helpers.compat import ALIASES, moved
from csi_helpers.kpis.scorecard import build_scorecard, rag_status  # noqa: F401
from csi_helpers.report.tables import ARROWS  # noqa: F401

moved(__name__, *ALIASES[__name__])
