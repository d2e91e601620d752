"""The tables that pass between steps, declared once.

- :mod:`~csi_helpers.tables.canonical`: the canonical columns of every source kind
  (what an export's columns are mapped onto), their key columns;
- :mod:`~csi_helpers.tables.schemas`: those tables as pandera schemas with the value
  ranges and order rules step 4 enforces, checked where a table is written and read;
- :mod:`~csi_helpers.tables.catalogue`: the name of every artefact a step writes
  for the others.
"""

from csi_helpers.tables import catalogue
from csi_helpers.tables.canonical import (
    CANONICAL,
    CONTINUOUS_KINDS,
    KEYS,
    RATIOS,
    ColumnType,
    source_column,
)

__all__ = [
    "CANONICAL",
    "CONTINUOUS_KINDS",
    "KEYS",
    "RATIOS",
    "ColumnType",
    "catalogue",
    "source_column",
]
