"""Tickets as the drivers analyses read them: a True/False outcome, attributes as labels.

Shared by the Pareto concentration test (:mod:`csi_helpers.analysis.concentration`) and the
driver model (:mod:`csi_helpers.analysis.drivers`): the outcome column (``breached``
derived as ``~made_sla``, say), attribute values as text with missing and empty ones
pooled as ``"(blank)"``, features derived from the opening time, the plain-language
name of the outcomes, and Holm's correction, which both apply across the values or
attributes they test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from csi_helpers.analysis import checks

BLANK = "(blank)"
LABELS = {"breached": "SLA breaches"}  # outcome column -> the outcomes in words
COLUMN_NAME = "a column name (a non-empty string)"
DERIVED = {"opened_hour": "hour", "opened_weekday": "day_of_week"}  # features from opened_at


def name_outcomes(outcome: str, label: str | None) -> str:
    """The outcomes in words: ``label``, else the column's usual name, else its name quoted.

    Example:
        >>> name_outcomes("breached", None), name_outcomes("late", None)
        ('SLA breaches', "'late' tickets")
    """
    return label or LABELS.get(outcome, f"{outcome!r} tickets")


def check_names(value: object, role: str) -> list[str]:
    """A non-empty list of distinct column names (``by``, ``features``).

    Raises:
        TypeError: If ``value`` is a string or not a sequence of strings.
        ValueError: If it is empty or names a column twice.
    """
    message = f"{role} must be a non-empty list of column names, got {value!r}"
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(message)
    if not value:
        raise ValueError(message)
    for name in value:
        checks.label(f"each of {role}", name, meaning=COLUMN_NAME)
    if len(set(value)) < len(value):
        raise ValueError(f"{role} names a column twice: {list(value)}")
    return list(value)


def outcome_values(tickets: pd.DataFrame, outcome: str) -> pd.Series:
    """The outcome column as a nullable boolean Series.

    True/False (missing allowed), 0/1 numbers or Python booleans are accepted.

    Raises:
        TypeError: If the column holds anything else (text, timestamps).
        ValueError: If it holds numbers other than 0 and 1.
    """
    column = tickets[outcome]
    hint = (
        f"column {outcome!r} must hold True/False (missing allowed); derive it first, "
        "e.g. tickets.assign(breached=~tickets['made_sla'])"
    )
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.astype("boolean")
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = pd.to_numeric(column).astype("Float64")
        if not values.dropna().isin([0, 1]).all():
            raise ValueError(f"{hint}; it holds numbers other than 0 and 1")
        return values.astype("boolean")
    if column.dtype == object:
        present = column.dropna()
        if present.map(lambda v: isinstance(v, (bool, np.bool_))).all():
            return column.astype("boolean")
    raise TypeError(f"{hint}; got dtype {column.dtype}")


def attribute_labels(column: pd.Series) -> np.ndarray:
    """Values as text (an object array); missing and empty values become ``(blank)``."""
    text = column.astype("string").str.strip()
    return text.mask(text.isna() | text.eq(""), BLANK).to_numpy(dtype=object)


def percent(share: float) -> str:
    """A share in percent for a statement, e.g. ``12.5 %``."""
    return f"{100 * share:.1f} %"


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values.

    Example:
        >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
        [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p_values[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def feature_columns(
    tickets: pd.DataFrame, names: list[str], outcome: str, *, explicit: bool
) -> tuple[dict[str, pd.Series], list[str]]:
    """The feature columns (derived ones from ``opened_at``) and the defaults absent.

    Raises:
        TypeError: If a feature, or ``opened_at`` for a derived one, is not what the
            model can use (timestamps, say).
        ValueError: If a feature is the outcome, or one named explicitly is absent.
    """
    columns, absent = {}, []
    for name in names:
        if name == outcome:
            raise ValueError(f"feature {name!r} is the outcome itself; remove it from features")
        if name in tickets.columns:
            column = tickets[name]
        elif name in DERIVED and "opened_at" in tickets.columns:
            opened = tickets["opened_at"]
            if not pd.api.types.is_datetime64_any_dtype(opened.dtype):
                raise TypeError(
                    f"feature {name!r} is derived from opened_at, which has dtype "
                    f"{opened.dtype}; expected timestamps"
                )
            column = getattr(opened.dt, DERIVED[name]).astype("Float64")
        elif explicit:
            raise ValueError(
                f"feature {name!r} is not in the tickets table (nor derivable from opened_at); "
                f"columns are {list(tickets.columns)}"
            )
        else:
            absent.append(name)
            continue
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            raise TypeError(
                f"feature {name!r} holds timestamps; use opened_hour / opened_weekday or "
                "derive a number from it first"
            )
        columns[name] = column
    return columns, absent
