"""Deprecated: ``csi_helpers.process``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.steps.process`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.processing.ledger import quarantine_notes  # noqa: F401
from csi_helpers.processing.scope import apply_scope  # noqa: F401
from csi_helpers.steps.common import kpi_table, table_path, ticket_table  # noqa: F401
from csi_helpers.steps.process import build_tables, kpi_values  # noqa: F401

moved(__name__, *ALIASES[__name__])
