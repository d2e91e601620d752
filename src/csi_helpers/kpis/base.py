"""What a KPI is: a definition in the library and the result it computes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd


@dataclass(frozen=True)
class KpiResult:
    """The value of a KPI over a period, with how many records fed it."""

    value: float | None
    n: int  # records the value is computed from
    excluded: int = 0  # records in scope left out (e.g. no resolution time)
    note: str = ""  # how exclusions bear on the value

    def to_dict(self) -> dict[str, Any]:
        v = None if self.value is None or math.isnan(self.value) else float(self.value)
        return {"value": v, "n": int(self.n), "excluded": int(self.excluded), "note": self.note}


@dataclass(frozen=True)
class KpiDefinition:
    """A library KPI: what it needs and how it is computed."""

    id: str
    name: str
    unit: str
    source_kind: str
    fields: tuple[str, ...]  # canonical columns the formula needs
    better: Literal["higher", "lower"]
    compute: Callable[..., KpiResult] = field(repr=False)
    formula: str = ""


def in_period(values: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Mask of timestamps in [start, end) (end exclusive)."""
    return (values >= start) & (values < end)


def empty(note: str) -> KpiResult:
    return KpiResult(value=None, n=0, note=note)
