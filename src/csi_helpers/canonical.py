"""Step 4, first half: raw snapshots → typed canonical tables, nothing lost.

Every raw row ends up either in the canonical table or in quarantine with a
reason (missing key, unparseable value, resolved before opened, duplicate id,
ends before it starts). The ledger counts rows in, out and quarantined per
source and reason.
"""

from __future__ import annotations

import difflib

import pandas as pd

from csi_helpers.errors import DataError
from csi_helpers.params import Params, Source
from csi_helpers.tables import CANONICAL, KEYS, source_column

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def canonical_table(raw: pd.DataFrame, source: Source) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map a raw snapshot onto its canonical table and type its values.

    Args:
        raw: the snapshot, all values as text.
        source: the source's params (kind, column mapping, timestamp format, zone).

    Returns:
        ``(table, quarantine)``: the usable rows with canonical columns, and the
        rejected raw rows with ``source_row`` (1-based data row) and ``reason``.

    Example:
        >>> from csi_helpers.params import Source
        >>> s = Source(name="t", kind="tickets", path="t.csv", columns={"ticket_id": "number"})
        >>> raw = pd.DataFrame({"number": ["INC1", "INC2", None],
        ...                     "opened_at": ["2026-01-01 10:00", "yesterday", "2026-01-01"]})
        >>> table, quarantine = canonical_table(raw, s)
        >>> table["ticket_id"].tolist(), quarantine["reason"].tolist()
        (['INC1'], ['unparseable opened_at', 'missing ticket_id'])
    """
    spec = CANONICAL[source.kind]
    header = [str(c) for c in raw.columns]
    _check_key_columns(source, header)
    columns: dict[str, pd.Series] = {}
    reasons = pd.Series(pd.NA, index=raw.index, dtype="string")
    for name, kind in spec.items():
        col = source_column(name, source.columns, header)
        if col is None:
            columns[name] = _typed(pd.Series(pd.NA, index=raw.index, dtype="string"), kind, source)
            continue
        text = raw[col].astype("string").str.strip()
        text = text.where(~text.isin(["", *source.na_values]))
        if name in source.values:
            text = text.replace(source.values[name])
        typed = _typed(text, kind, source)
        columns[name] = typed
        if name in KEYS[source.kind]:
            reasons = reasons.fillna(
                pd.Series("missing " + name, index=raw.index).where(text.isna())
            )
        bad = text.notna() & typed.isna()
        reasons = reasons.fillna(pd.Series(f"unparseable {name}", index=raw.index).where(bad))
    table = pd.DataFrame(columns, index=raw.index)
    reasons = reasons.fillna(_rule_reasons(table, source.kind, reasons.isna()))
    keep = reasons.isna()
    quarantine = raw.loc[~keep].assign(source_row=(raw.index[~keep] + 1), reason=reasons[~keep])
    return table.loc[keep].reset_index(drop=True), quarantine.reset_index(drop=True)


def ledger_entry(source: Source, raw: pd.DataFrame, quarantine: pd.DataFrame) -> list[dict]:
    """Ledger rows for one source: rows in and out, and one row per quarantine reason."""
    rows = [
        {
            "source": source.name,
            "kind": source.kind,
            "rows_in": len(raw),
            "rows_out": len(raw) - len(quarantine),
            "reason": None,
            "rows": None,
        }
    ]
    counts = quarantine["reason"].value_counts() if len(quarantine) else pd.Series(dtype=int)
    rows += [
        {
            "source": source.name,
            "kind": source.kind,
            "rows_in": None,
            "rows_out": None,
            "reason": reason,
            "rows": int(n),
        }
        for reason, n in counts.items()
    ]
    return rows


def cycle_window(params: Params) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The cycle as a UTC interval [start, end): whole days in the service's time zone."""
    tz = params.service.timezone
    start = pd.Timestamp(params.cycle.start).tz_localize(tz).tz_convert("UTC")
    end = (pd.Timestamp(params.cycle.end) + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC")
    return start, end


def _check_key_columns(source: Source, header: list[str]) -> None:
    for name in KEYS[source.kind]:
        if source_column(name, source.columns, header) is not None:
            continue
        wanted = source.columns.get(name, name)
        close = difflib.get_close_matches(wanted, header, n=1, cutoff=0.5)
        hint = f"; closest: {close[0]!r}" if close else ""
        raise DataError(
            f"source {source.name!r} ({source.path}): column {wanted!r} for {name} not found"
            f"{hint}. Columns found: {', '.join(header)}. Set "
            f"sources[{source.name}].columns.{name}"
            " in params to the right column."
        )


def _typed(text: pd.Series, kind: str, source: Source) -> pd.Series:
    if kind == "string":
        return text.astype("string")
    if kind == "float":
        return pd.to_numeric(text, errors="coerce").astype("Float64")
    if kind == "int":
        numbers = pd.to_numeric(text, errors="coerce")
        whole = numbers.where(numbers.isna() | (numbers == numbers.round()))
        return whole.astype("Int64")
    if kind == "bool":
        lowered = text.str.lower()
        return lowered.map(
            lambda v: True if v in _TRUE else False if v in _FALSE else pd.NA, na_action="ignore"
        ).astype("boolean")
    return _timestamps(text, source)


def _timestamps(text: pd.Series, source: Source) -> pd.Series:
    fmt = source.timestamp_format or "ISO8601"
    try:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    except (ValueError, TypeError):  # mixed offsets: read each as an instant
        parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    if parsed.dt.tz is None:
        parsed = parsed.dt.tz_localize(source.timezone, ambiguous="NaT", nonexistent="NaT")
    return parsed.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _rule_reasons(table: pd.DataFrame, kind: str, clean: pd.Series) -> pd.Series:
    reasons = pd.Series(pd.NA, index=table.index, dtype="string")
    if kind == "tickets":
        backwards = table["resolved_at"] < table["opened_at"]
        reasons = reasons.fillna(
            pd.Series("resolved before opened", index=table.index).where(backwards.fillna(False))
        )
        dup = table["ticket_id"].duplicated(keep="first") & clean & reasons.isna()
        reasons = reasons.fillna(pd.Series("duplicate ticket_id", index=table.index).where(dup))
    if kind in ("downtime", "calendar"):
        backwards = table["end"] < table["start"]
        reasons = reasons.fillna(
            pd.Series("ends before it starts", index=table.index).where(backwards.fillna(False))
        )
    return reasons
