"""A KPI series on the grid of its typical spacing, as the trend and change-point tests read it.

Values that are not finite numbers become gaps (NaN) and values without a timestamp
are dropped; the series is sorted, and each value's position is the number of
typical steps (the median time between values) since the first one, so that
missing dates show as holes in the grid and seasons (a weekday, say) are positions
modulo the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import format_number


@dataclass(frozen=True)
class SeriesOnGrid:
    """A series' values in time order with their grid positions and counts.

    Attributes:
        values: Float values sorted by time, NaN where a value is missing.
        positions: Steps of the typical spacing since the first timestamp (empty when
            the series is empty or has repeated timestamps: no grid then).
        step: The typical spacing, the median time between timestamps (one day for
            a single value; NaT without a grid).
        n_undated: Values without a timestamp (NaT), dropped.
        n_duplicated: Repeated timestamps.
        was_sorted: Whether the series came in time order.
    """

    values: pd.Series
    positions: np.ndarray
    step: pd.Timedelta
    n_undated: int
    n_duplicated: int
    was_sorted: bool

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.values.index

    @property
    def n_total(self) -> int:
        """Dated values, present or missing."""
        return len(self.values)

    @property
    def valid(self) -> np.ndarray:
        """Mask of the values present."""
        return self.values.notna().to_numpy()

    @property
    def n(self) -> int:
        """Values present."""
        return int(self.valid.sum())

    @property
    def n_expected(self) -> int:
        """Grid positions from the first timestamp to the last."""
        return int(self.positions[-1]) + 1

    def mostly_missing(self, allowed: float, what: str) -> str | None:
        """Why the series is unusable if more than ``allowed`` of its grid has no value."""
        share = 1 - self.n / self.n_expected
        if share <= allowed:
            return None
        return (
            f"series mostly missing: {self.n} of {self.n_expected} expected {what} present "
            f"({share:.0%} missing, allowed ≤ {allowed:.0%})"
        )

    def constant(self, unit: str) -> str | None:
        """Why the series is unusable if every value present is the same."""
        y = self.values.to_numpy()[self.valid]
        if np.ptp(y) != 0:
            return None
        return f"series is constant at {format_number(float(y[0]))} {unit}".rstrip()

    def counts(self) -> dict[str, Any]:
        """Values present, in all, missing, and timestamps missing from the grid."""
        n = self.n
        return {
            "n_points": n,
            "n_total": self.n_total,
            "n_missing_values": self.n_total - n,
            "n_missing_timestamps": max(self.n_expected - self.n_total, 0),
        }


def on_grid(series: pd.Series) -> SeriesOnGrid:
    """Put a series with a DatetimeIndex on the grid of its typical spacing.

    Example:
        >>> days = pd.to_datetime(["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-05"])
        >>> grid = on_grid(pd.Series([3.0, 1.0, np.inf, 5.0], index=days))
        >>> grid.positions.tolist(), grid.n, grid.was_sorted, grid.counts()["n_missing_timestamps"]
        ([0, 1, 2, 4], 3, False, 1)
    """
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    values = values.where(np.isfinite(values))
    undated = values.index.isna()
    values = values[~undated]  # a value without a date (NaT) cannot be placed in time
    n_undated, n_duplicated = int(undated.sum()), int(values.index.duplicated().sum())
    if len(values) == 0 or n_duplicated:
        no_grid = np.empty(0, dtype="int64")
        return SeriesOnGrid(values, no_grid, pd.NaT, n_undated, n_duplicated, True)
    was_sorted = bool(values.index.is_monotonic_increasing)
    values = values.sort_index()
    index = values.index
    step = pd.Series(index).diff().median() if len(values) > 1 else pd.Timedelta(days=1)
    positions = np.asarray(np.round((index - index[0]) / step).astype("int64"))
    return SeriesOnGrid(values, positions, step, n_undated, 0, was_sorted)
