"""Deprecated: ``csi_helpers.present``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.steps.present`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.actions import RECOMMENDATION_COLUMNS, recommendations  # noqa: F401
from csi_helpers.analysis.summary import *  # noqa: F403
from csi_helpers.compat import ALIASES, moved
from csi_helpers.report.tables import SCORECARD_COLUMNS, bullets, styled_scorecard, table  # noqa: F401
from csi_helpers.steps.present import display_findings, provenance  # noqa: F401

moved(__name__, *ALIASES[__name__])
