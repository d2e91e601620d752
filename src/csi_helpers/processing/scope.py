"""A KPI entry's scope: the records it counts, by the values of canonical columns."""

from __future__ import annotations

import pandas as pd

from csi_helpers.params import Scope

__all__ = ["apply_scope"]


def apply_scope(table: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Keep the rows whose columns hold one of the scope's values (case-insensitive).

    An empty scope returns ``table`` itself; callers must not modify it.

    Example:
        >>> t = pd.DataFrame({"priority": ["1 - Critical", "3 - Moderate"]})
        >>> apply_scope(t, Scope(priority=["1 - critical"]))["priority"].tolist()
        ['1 - Critical']
    """
    filters = scope.filters()
    if not filters:
        return table  # no copy: a monitoring table may hold tens of millions of rows
    keep = pd.Series(True, index=table.index)
    for column, values in filters.items():
        wanted = {v.casefold() for v in values}
        keep &= table[column].astype("string").str.casefold().isin(wanted).fillna(False)
    return table[keep]
