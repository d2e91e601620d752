"""Declared schemas of the canonical tables, and the bounds their values must keep.

The schemas are generated from :data:`csi_helpers.tables.canonical.CANONICAL`: one pandera
``DataFrameSchema`` per source kind, with the pandas dtype of each column, key
columns (:data:`~csi_helpers.tables.canonical.KEYS`) not nullable, the range checks of
:data:`BOUNDS`, the order checks of :data:`ORDER`, the unique ids of :data:`UNIQUE` and
the unique samples of :data:`SAMPLE_KEYS`. Step 4 quarantines the rows that break these
rules (:func:`csi_helpers.processing.validate.canonical_table` reads the same tables), so a
canonical table always passes :func:`validate_table`; a failure is a bug.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from csi_helpers.errors import DataError, RunFolderError
from csi_helpers.tables.canonical import CANONICAL, KEYS, ColumnType

# pandas dtype of each canonical column type (nullable extension types throughout).
DTYPES: dict[ColumnType, object] = {
    "string": pd.StringDtype(),
    "datetime": pd.DatetimeTZDtype("us", "UTC"),
    "float": pd.Float64Dtype(),
    "int": pd.Int64Dtype(),
    "bool": pd.BooleanDtype(),
}

# (lowest, highest) allowed, inclusive; None: open. Numbers, or UTC timestamps (time_window).
Bound = tuple[float | pd.Timestamp | None, float | pd.Timestamp | None]

_COUNT: Bound = (0, None)
# The one home of value ranges: step 4 quarantines values outside them ("out of range
# <column>: <value>") and validate_table checks the typed tables against them.
BOUNDS: dict[str, dict[str, Bound]] = {
    "tickets": {
        "reassignment_count": _COUNT,
        "reopen_count": _COUNT,
        "reopen_after_close_count": _COUNT,
    },
    "ticket_events": {
        "sequence": _COUNT,
        "reassignment_count": _COUNT,
        "reopen_count": _COUNT,
    },
    "monitoring": {
        "requests": _COUNT,
        "capacity": _COUNT,
        # no upper bound: a tool may report percent or a fraction, and overload exceeds 100 %
        "utilisation": (0, None),
        "latency_ms": (0, None),
        "latency_p95_ms": (0, None),
        "error_rate": (0, 1),  # a fraction of requests, not a percentage
    },
    # wide enough for 1-5, 1-7 and 0-10 (NPS) scales; a 0-100 scale needs rescaling
    "survey": {"score": (0, 10)},
}

# Every timestamp lies in a window: none before EARLIEST, none more than LATEST_AFTER the
# cycle's end (a ticket resolved in 2999). Step 4 quarantines the rest ("out of range").
EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
LATEST_AFTER = pd.DateOffset(years=1)


def time_window(cycle_end: pd.Timestamp | None = None) -> Bound:
    """The timestamps a cycle's data may hold: from :data:`EARLIEST` to a year after its end.

    Args:
        cycle_end: the end of the cycle (UTC); None when no cycle is known: a year
            after now.

    Example:
        >>> [str(t) for t in time_window(pd.Timestamp("2026-10-01", tz="UTC"))]
        ['1990-01-01 00:00:00+00:00', '2027-10-01 00:00:00+00:00']
    """
    end = pd.Timestamp.now(tz="UTC") if cycle_end is None else pd.Timestamp(cycle_end)
    return EARLIEST, end + LATEST_AFTER


# Pairs of timestamps that must not run backwards: (earlier, later, quarantine reason).
ORDER: dict[str, tuple[tuple[str, str, str], ...]] = {
    "tickets": (("opened_at", "resolved_at", "resolved before opened"),),
    "downtime": (("start", "end", "ends before it starts"),),
    "calendar": (("start", "end", "ends before it starts"),),
}

# Columns whose value identifies a row: later rows with the same value are quarantined.
UNIQUE: dict[str, tuple[str, ...]] = {"tickets": ("ticket_id",)}

# Columns whose values together identify a sample (a missing value counts as one value):
# later rows with the same values are quarantined ("duplicate sample"), the first kept.
SAMPLE_KEYS: dict[str, tuple[str, ...]] = {"monitoring": ("service", "timestamp")}


def out_of_range(values: pd.Series, bound: Bound) -> pd.Series:
    """Whether each value lies outside ``bound`` (missing values never do).

    Example:
        >>> s = pd.Series([-1.0, 0.5, 2.0, None], dtype="Float64")
        >>> out_of_range(s, (0, 1)).tolist()
        [True, False, True, False]
    """
    low, high = bound
    outside = pd.Series(False, index=values.index)
    if low is not None:
        outside |= (values < low).fillna(False).astype(bool)
    if high is not None:
        outside |= (values > high).fillna(False).astype(bool)
    return outside


def describe_bound(bound: Bound) -> str:
    """A bound in words, for messages.

    Example:
        >>> describe_bound((0, 1)), describe_bound((0, None))
        ('0 to 1', 'at least 0')
        >>> describe_bound(time_window(pd.Timestamp("2026-10-01", tz="UTC")))
        '1990-01-01 to 2027-10-01'
    """
    low, high = (_shown(v) for v in bound)
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}"


def _shown(value: float | pd.Timestamp | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else f"{value:%Y-%m-%d %H:%M} UTC"
    return f"{value:g}"


@cache
def table_schema(kind: str) -> pa.DataFrameSchema:
    """The pandera schema of one canonical table kind.

    Example:
        >>> table_schema("monitoring").columns["error_rate"].nullable
        True
        >>> table_schema("tickets").columns["ticket_id"].nullable
        False
    """
    if kind not in CANONICAL:
        raise DataError(f"no canonical table {kind!r}; expected one of {', '.join(CANONICAL)}")
    bounds = BOUNDS.get(kind, {})
    columns = {}
    for name, col_type in CANONICAL[kind].items():
        checks = []
        if col_type == "datetime":
            checks.append(pa.Check.ge(EARLIEST, error=f"not before {EARLIEST:%Y-%m-%d}"))
        if name in bounds:
            low, high = bounds[name]
            if low is not None:
                checks.append(pa.Check.ge(low, error=f"at least {low:g}"))
            if high is not None:
                checks.append(pa.Check.le(high, error=f"at most {high:g}"))
        columns[name] = pa.Column(
            DTYPES[col_type],
            checks=checks,
            nullable=name not in KEYS[kind],
            unique=name in UNIQUE.get(kind, ()),
        )
    order_checks = [_order_check(a, b, reason) for a, b, reason in ORDER.get(kind, ())]
    return pa.DataFrameSchema(
        columns,
        checks=order_checks,
        unique=list(SAMPLE_KEYS[kind]) if kind in SAMPLE_KEYS else None,
        strict=True,
        ordered=True,
        name=kind,
    )


def validate_table(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Prove a typed table conforms to its canonical schema; return it unchanged.

    Args:
        kind: the canonical table kind (a source kind).
        frame: the typed table, e.g. the first output of ``canonical_table``.

    Raises:
        DataError: naming the column and the rule it breaks (wrong type, missing
            key, out of range, duplicate id, times backwards, missing or extra column).

    Example:
        >>> t = pd.DataFrame({"event_id": ["x"], "name": ["freeze"],
        ...                   "start": pd.to_datetime(["2026-01-01"], utc=True),
        ...                   "end": pd.to_datetime(["2026-01-02"], utc=True)})
        >>> t = t.astype({"event_id": "string", "name": "string",
        ...               "start": "datetime64[us, UTC]", "end": "datetime64[us, UTC]"})
        >>> validate_table("calendar", t).shape
        (1, 4)
    """
    schema = table_schema(kind)
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
        first = cases.iloc[0]
        column = first.get("column") or "(whole table)"
        more = f" ({len(cases) - 1} more failures)" if len(cases) > 1 else ""
        raise DataError(
            f"canonical {kind} table: column {column!r} fails {first.get('check')!r}"
            f" (value {first.get('failure_case')!r}){more}. Step 4 should have typed or "
            "quarantined this; please report it as a bug with the source's params."
        ) from None
    except SchemaError as exc:  # pragma: no cover - lazy validation collects these
        raise DataError(f"canonical {kind} table: {exc}; please report it as a bug") from None
    return frame


def check_read(kind: str, frame: pd.DataFrame, *, where: object) -> pd.DataFrame:
    """Check a canonical table read back from a run folder: its columns and their types.

    The rows were checked when step 4 wrote the table (:func:`validate_table`); here
    only what a reader relies on, cheaply: every column is a canonical column of
    ``kind`` with its canonical type. Returns the table unchanged.

    Raises:
        RunFolderError: naming ``where`` (the file) and the column, when the table
            was written by another version of the workbook or changed by hand.

    Example:
        >>> t = pd.DataFrame({"score": pd.array([4.0], dtype="Float64")})
        >>> check_read("survey", t, where="csat.parquet").shape
        (1, 1)
        >>> check_read("survey", t.astype({"score": "int64"}), where="csat.parquet")
        Traceback (most recent call last):
        ...
        csi_helpers.errors.RunFolderError: csat.parquet: column 'score' holds int64, expected \
Float64 for a canonical survey table; run step 4 again to rewrite it
    """
    spec = CANONICAL[kind]
    for column, dtype in frame.dtypes.items():
        expected = DTYPES[spec[column]] if column in spec else None
        if expected is None or dtype != expected:
            found = "is not a canonical column" if expected is None else f"holds {dtype}"
            wanted = f", expected {expected}" if expected is not None else ""
            raise RunFolderError(
                f"{where}: column {column!r} {found}{wanted} for a canonical {kind} table; "
                "run step 4 again to rewrite it"
            )
    return frame


def _order_check(earlier: str, later: str, reason: str) -> pa.Check:
    return pa.Check(
        lambda df: ~(df[later] < df[earlier]).fillna(False).astype(bool),
        error=f"{later} not before {earlier} ({reason})",
    )
