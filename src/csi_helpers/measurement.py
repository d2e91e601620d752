"""Deprecated: ``csi_helpers.measurement``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.steps.measurement`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.steps.measurement import source_headers, source_spans  # noqa: F401
from csi_helpers.strategy import measurement_plan as _plan
from csi_helpers.strategy.measurement_plan import PLAN_COLUMNS, measurable_kpis  # noqa: F401

moved(__name__, *ALIASES[__name__])


def measurement_plan(params, headers):
    """The measurement plan of 0.1's signature (nothing written)."""
    return _plan.measurement_plan(params, headers, source_spans(params, headers))
