"""Deprecated: ``csi_helpers.canonical``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.processing.validate`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.processing.ledger import Ledger, ledger_entry  # noqa: F401
from csi_helpers.processing.validate import canonical_chunks, canonical_table  # noqa: F401

moved(__name__, *ALIASES[__name__])


def cycle_window(params):
    """The cycle as a UTC interval: now ``params.cycle_window()``."""
    return params.cycle_window()
