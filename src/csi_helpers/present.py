"""Deprecated alias: ``csi_helpers.present`` moved to :mod:`csi_helpers.steps.present`.

Kept for one release so that notebooks written for csi-workbook 0.1 keep working
(see :mod:`csi_helpers.compat`).
"""

from csi_helpers.actions import RECOMMENDATION_COLUMNS, recommendations  # noqa: F401
from csi_helpers.analysis.summary import *  # noqa: F403
from csi_helpers.compat import ALIASES, moved
from csi_helpers.report.tables import SCORECARD_COLUMNS, bullets, styled_scorecard, table  # noqa: F401
from csi_helpers.steps.present import display_findings, provenance  # noqa: F401

moved(__name__, ALIASES[__name__])
