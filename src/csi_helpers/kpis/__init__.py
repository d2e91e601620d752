"""The KPI library: one pure function per KPI, registered under a stable id.

Params name library KPIs by id (``kpi: mean_time_to_resolve``) with options;
step 2 checks that the configured sources carry each KPI's fields; step 4
computes them. ``csi kpis`` lists the library; ``csi kpis ID`` shows a formula.

Each family module declares its KPIs in a ``DEFINITIONS`` tuple; this module
collects them, so adding a KPI touches only its family.
"""

from __future__ import annotations

import difflib
from typing import Any

import pandas as pd

from csi_helpers.errors import ParamsError
from csi_helpers.kpis import (
    availability,
    budget,
    changes,
    customers,
    incidents,
    performance,
    problems,
)
from csi_helpers.kpis.base import KpiDefinition, KpiResult

_FAMILIES = (incidents, problems, changes, availability, budget, performance, customers)


def _collect() -> dict[str, KpiDefinition]:
    library: dict[str, KpiDefinition] = {}
    for family in _FAMILIES:
        for definition in family.DEFINITIONS:
            if definition.id in library:
                raise RuntimeError(f"KPI id {definition.id!r} is defined twice")
            library[definition.id] = definition
    return library


LIBRARY: dict[str, KpiDefinition] = _collect()


def get_definition(kpi_id: str) -> KpiDefinition:
    """The library KPI with that id; a ParamsError with a did-you-mean otherwise."""
    if kpi_id in LIBRARY:
        return LIBRARY[kpi_id]
    close = difflib.get_close_matches(kpi_id, LIBRARY, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ParamsError(f"unknown KPI {kpi_id!r}; {hint}known KPIs: {', '.join(LIBRARY)}")


def compute_kpi(
    kpi_id: str, table: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp, **kwargs: Any
) -> KpiResult:
    """Compute library KPI ``kpi_id`` on its canonical table over [start, end)."""
    return get_definition(kpi_id)(table, start=start, end=end, **kwargs)


__all__ = ["LIBRARY", "KpiDefinition", "KpiResult", "compute_kpi", "get_definition"]
