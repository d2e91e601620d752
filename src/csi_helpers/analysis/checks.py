"""Input checks shared by the analysis methods: a failed one is a bug, raised loudly.

A method's options and the types of its inputs are chosen by the code that calls
it. A wrong one is a programming error, not a property of the data, so it raises
the built-in :class:`TypeError` (the wrong kind of value) or :class:`ValueError`
(the right kind, out of range), and step 5 fails with a traceback instead of
reporting "could not run" to managers. What the *data* cannot support (a series
too short, constant or mostly missing, too few events) is not checked here: each
method says so in a ``"no_finding"`` record, in words a manager understands.

Every message names the option or column, what was expected and what was given.
The checks are called through the module, as a method's first lines read them.

Example:
    >>> from csi_helpers.analysis import checks
    >>> checks.alpha(0.05)
    >>> checks.alpha(1.5)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a number between 0 and 1, got 1.5
    >>> checks.integer("n_perm", 9.5, low=19)
    Traceback (most recent call last):
    ...
    TypeError: n_perm must be an integer ≥ 19, got 9.5
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd


def number(name: str, value: object, *, meaning: str, valid: Callable[[Any], bool]) -> None:
    """A real number (not a bool) for which ``valid`` holds.

    Raises:
        TypeError: If ``value`` is not an int or a float.
        ValueError: If ``valid(value)`` is false; both say ``<name> must be <meaning>``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be {meaning}, got {value!r}")
    if not valid(value):
        raise ValueError(f"{name} must be {meaning}, got {value!r}")


def alpha(alpha: object) -> None:
    """A significance level: a number strictly between 0 and 1."""
    number("alpha", alpha, meaning="a number between 0 and 1", valid=lambda a: 0 < a < 1)


def integer(
    name: str, value: object, *, low: int, high: int | None = None, meaning: str | None = None
) -> None:
    """An integer (a Python or numpy one, not a bool) from ``low`` up to ``high``.

    ``meaning`` replaces the default wording (``an integer ≥ low``) in the message.

    Raises:
        TypeError: If ``value`` is not an integer.
        ValueError: If it lies outside ``[low, high]``.
    """
    if meaning is None:
        meaning = f"an integer ≥ {low}" if high is None else f"an integer from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be {meaning}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {meaning}, got {value!r}")


def period(period: object) -> None:
    """A season length in steps: None, or an integer ≥ 2 (7 for weekly in daily data)."""
    if period is not None:
        integer("period", period, low=2, meaning="an integer ≥ 2 (e.g. 7 for weekly) or None")


def label(name: str, value: object, *, blank: bool = False, meaning: str = "") -> None:
    """A string for statements and ids (``metric``, ``unit``, ...), non-empty unless ``blank``.

    Raises:
        TypeError: If ``value`` is not a string.
        ValueError: If it is empty or only white space (and ``blank`` is false).
    """
    meaning = meaning or ("a string" if blank else "a non-empty string")
    if not isinstance(value, str):
        raise TypeError(f"{name} must be {meaning}, got {value!r}")
    if not blank and not value.strip():
        raise ValueError(f"{name} must be {meaning}, got {value!r}")


def choice(name: str, value: object, choices: Sequence[object]) -> None:
    """One of a few allowed values, e.g. ``effect`` in ``("relative", "absolute")``.

    Raises:
        ValueError: Naming the choices.
    """
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def scope(scope: object) -> dict[str, Any]:
    """Where a question is asked: a mapping or None; returns it as a new dict.

    Raises:
        TypeError: If ``scope`` is neither.
    """
    if scope is not None and not isinstance(scope, Mapping):
        raise TypeError(f"scope must be a dict or None, got {type(scope).__name__}")
    return dict(scope or {})


def series(
    series: object,
    *,
    function: str,
    stamps: str = "timestamps",
    column: str = "timestamp",
    numbers_only: bool = False,
) -> None:
    """A pandas Series of numbers indexed by a DatetimeIndex.

    Args:
        series: The value to check.
        function: Name of the method, for the message.
        stamps: What the index holds, in words (``"dates"``, ``"timestamps"``).
        column: The column the caller should set as the index.
        numbers_only: Refuse object dtype too (else it is coerced to numbers later).

    Raises:
        TypeError: If it is not a Series, not indexed by time, or not numeric.
    """
    if not isinstance(series, pd.Series):
        raise TypeError(f"{function} expects a pandas Series, got {type(series).__name__}")
    if not isinstance(series.index, pd.DatetimeIndex):
        raise TypeError(
            f"series {series.name!r} must be indexed by {stamps} (a DatetimeIndex), "
            f"got {type(series.index).__name__}; set the {column} column as the index"
        )
    numeric = pd.api.types.is_numeric_dtype(series.dtype)
    if not (numeric or (series.dtype == object and not numbers_only)):
        raise TypeError(f"series {series.name!r} has dtype {series.dtype}; expected numbers")


def frame(frame: object, *, function: str, what: str = "a DataFrame") -> None:
    """A pandas DataFrame.

    Raises:
        TypeError: Naming ``function`` and what it expects.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{function} expects {what}, got {type(frame).__name__}")


def columns(
    frame: pd.DataFrame,
    columns: Iterable[tuple[str, object]],
    *,
    table: str = "the table",
    hint: str = "",
) -> None:
    """Each named column is in ``frame``; ``columns`` pairs each one's role with its name.

    Raises:
        ValueError: Naming the missing column, its role and the columns there are.
    """
    for role, column in columns:
        if not isinstance(column, str) or column not in frame.columns:
            raise ValueError(
                f"column {column!r} ({role}) is not in {table}; "
                f"columns are {list(frame.columns)}{hint}"
            )


def numeric_column(frame: pd.DataFrame, column: str, *, note: str = "") -> None:
    """A column of numbers.

    Raises:
        TypeError: Naming its dtype.
    """
    dtype = frame[column].dtype
    if not pd.api.types.is_numeric_dtype(dtype):
        raise TypeError(f"column {column!r} has dtype {dtype}; expected numbers{note}")


def aware_column(frame: pd.DataFrame, column: str, *, table: str = "") -> None:
    """A column of timezone-aware timestamps.

    Raises:
        TypeError: Naming its dtype (or its naive timestamps) and how to convert it.
    """
    dtype = frame[column].dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return
    naive = pd.api.types.is_datetime64_dtype(dtype)
    raise TypeError(
        f"{table + ' ' if table else ''}column {column!r} has "
        + ("naive timestamps" if naive else f"dtype {dtype}")
        + "; expected timezone-aware timestamps, e.g. pd.to_datetime(col, utc=True)"
        + (" or col.dt.tz_localize('UTC')" if naive else "")
    )
