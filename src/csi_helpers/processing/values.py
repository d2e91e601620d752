"""The export's text typed, value by value: numbers (Arrow where it parses as pandas does),
booleans, timestamps (offsets kept, naive values read in the source's zone, or every value
read in it with ``ignore_offsets``); each value that cannot be typed gets its reason, which
:mod:`~csi_helpers.processing.validate` turns into quarantined rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from csi_helpers.params import Source
from csi_helpers.tables.canonical import ColumnType
from csi_helpers.tables.schemas import DTYPES

__all__ = ["flag", "shown", "typed_column"]

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
# A time of day followed by a UTC designator or offset: the value carries its own zone.
_OFFSET = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
# The same on ASCII text, where Python's \s is this class: pandas then matches with Arrow's
# RE2 instead of Python's re, one value at a time (seconds per million rows).
_OFFSET_ASCII = _OFFSET.replace("\\s", "[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f ]")
# The zone part alone, after a time: what ``ignore_offsets`` drops.
_ZONE = r"(\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
# Numbers Arrow parses as pandas.to_numeric does (checked bit for bit): plain decimals;
# whole numbers of up to 15 digits for integer columns.
_DECIMAL = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_WHOLE = r"^[+-]?\d{1,15}$"


def flag(mask: pd.Series, label: str, text: pd.Series | None = None, tail: str = "") -> pd.Series:
    """``label`` (with ``: '<value>'`` when text is given) where mask holds, else missing."""
    mask = mask.fillna(False).astype(bool)
    out = pd.Series(pd.NA, index=mask.index, dtype="string")
    if not mask.any():
        return out
    if text is None:
        out[mask] = label
    else:
        out[mask] = [f"{label}: {shown(v)}{tail}" for v in text[mask]]
    return out


def shown(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def typed_column(
    text: pd.Series, name: str, kind: ColumnType, source: Source
) -> tuple[pd.Series, pd.Series]:
    """The typed column and, per row, why a present value could not be typed (else missing)."""
    if kind == "string":
        return text.astype(DTYPES[kind]), flag(pd.Series(False, index=text.index), "")
    if kind == "datetime":
        return _timestamps(text, name, source)
    if kind == "bool":
        lowered = text.str.lower()
        typed = pd.Series(pd.NA, index=text.index, dtype=DTYPES[kind])
        typed[lowered.isin(_TRUE).to_numpy(bool)] = True
        typed[lowered.isin(_FALSE).to_numpy(bool)] = False
        return typed, flag(text.notna() & typed.isna(), f"not true/false in {name}", text)
    return _typed_numbers(text, name, kind)


def _typed_numbers(text: pd.Series, name: str, kind: ColumnType) -> tuple[pd.Series, pd.Series]:
    """A float or int column typed; not a number, not finite or not whole flagged.

    ``inf``, ``-inf``, ``Infinity`` and values that overflow a float (``1e309``) parse
    as infinite on both of :func:`_numbers`' paths; no KPI can use them.

    Example:
        >>> t = pd.Series(["1.5", "inf", "1e309", "x"], dtype="string")
        >>> typed, why = _typed_numbers(t, "latency_ms", "float")
        >>> typed.tolist(), why.tolist()  # doctest: +NORMALIZE_WHITESPACE
        ([1.5, <NA>, <NA>, <NA>], [<NA>, "not a finite number in latency_ms: 'inf'",
         "not a finite number in latency_ms: '1e309'", "not a number in latency_ms: 'x'"])
    """
    numbers = _numbers(text, kind)
    infinite = pd.Series(
        np.isinf(numbers.astype("Float64").to_numpy(float, na_value=np.nan)), index=text.index
    )
    numbers = numbers.mask(infinite)
    reasons = flag(text.notna() & numbers.isna() & ~infinite, f"not a number in {name}", text)
    reasons = reasons.fillna(flag(infinite, f"not a finite number in {name}", text))
    if kind == "float":
        return numbers.astype(DTYPES[kind]), reasons
    fraction = numbers.notna() & (numbers != numbers.round())
    typed = numbers.where(~fraction).astype(DTYPES[kind])
    return typed, reasons.fillna(flag(fraction, f"not a whole number in {name}", text))


def _numbers(text: pd.Series, kind: ColumnType) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce")``, with Arrow parsing what it parses alike.

    A float column's plain decimals are cast by Arrow and the rest (``inf``, odd
    forms, junk) go to pandas; an integer column is cast by Arrow when every value
    is a whole number of at most 15 digits, else pandas reads it all (its choice
    of integer or float result depends on the whole column).

    Example:
        >>> t = pd.Series(["1.5", "-2e3", "inf", "x", None], dtype="string")
        >>> _numbers(t, "float").tolist()
        [1.5, -2000.0, inf, <NA>, <NA>]
    """
    values = pa.array(text.array)
    if kind == "int":
        whole = pc.match_substring_regex(values, _WHOLE)
        if pc.all(pc.or_kleene(whole, pc.is_null(values))).as_py():
            return pd.Series(pd.array(pc.cast(values, pa.int64()), dtype="Int64"), index=text.index)
        return pd.to_numeric(text, errors="coerce")
    plain = pc.fill_null(pc.match_substring_regex(values, _DECIMAL), False)
    parsed = pc.cast(pc.if_else(plain, values, pa.scalar(None, values.type)), pa.float64())
    numbers = pd.Series(pd.array(parsed, dtype="Float64"), index=text.index)
    rest = text.notna().to_numpy(bool) & ~plain.to_numpy(zero_copy_only=False)
    if rest.any():
        numbers[rest] = pd.to_numeric(text[rest], errors="coerce").astype("Float64")
    return numbers


def _timestamps(text: pd.Series, name: str, source: Source) -> tuple[pd.Series, pd.Series]:
    """Instants in UTC: offsets kept, naive values read in the source's time zone; with
    ``ignore_offsets``, every value read in that zone, its offset dropped."""
    fmt = source.timestamp_format or "ISO8601"
    pattern = _OFFSET_ASCII if text.str.isascii().all() else _OFFSET
    if source.ignore_offsets:
        text = text.str.replace(_ZONE, r"\1", regex=True)
        fmt = fmt.replace("%z", "").replace("%Z", "").strip()
    aware = text.str.contains(pattern, regex=True).fillna(False).astype(bool)
    naive = text.notna() & ~aware
    parts = [_to_utc(_parse(text[aware], fmt, utc=True))]
    local_gap = pd.Series(False, index=text.index)
    if naive.any():
        parsed = _parse(text[naive], fmt, utc=False)
        if parsed.dt.tz is None:
            local = parsed.dt.tz_localize(source.timezone, ambiguous="NaT", nonexistent="NaT")
            local_gap = (parsed.notna() & local.isna()).reindex(text.index, fill_value=False)
            parsed = local
        parts.append(_to_utc(parsed))
    stamps = pd.concat(parts).reindex(text.index).astype(DTYPES["datetime"])
    unparseable = text.notna() & stamps.isna() & ~local_gap
    reasons = flag(
        local_gap, f"nonexistent or ambiguous local time in {name} ({source.timezone})", text
    )
    return stamps, reasons.fillna(flag(unparseable, f"unparseable {name}", text))


def _parse(values: pd.Series, fmt: str, *, utc: bool) -> pd.Series:
    try:
        return pd.to_datetime(values, format=fmt, errors="coerce", utc=utc)
    except (ValueError, TypeError):  # mixed offsets in values taken as naive: read as instants
        return pd.to_datetime(values, format=fmt, errors="coerce", utc=True)


def _to_utc(stamps: pd.Series) -> pd.Series:
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = pd.to_datetime(stamps, utc=True)  # empty or all-missing parts
    return stamps.dt.tz_convert("UTC").astype(DTYPES["datetime"])
