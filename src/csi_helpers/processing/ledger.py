"""The data-quality ledger of step 4: every raw row counted in, out or quarantined, with why.

One source's ledger rows (:func:`ledger_entry`, or :class:`Ledger` chunk by chunk)
count the rows in and out, one row per quarantine reason (without its value;
``example`` shows the first row and value) and a warning row for event-log states
in none of the source's lists. :func:`quarantine_notes` says, per source, what the
quarantine takes from the KPIs it feeds.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers.params import Source
from csi_helpers.processing.validate import unknown_states
from csi_helpers.report.formatting import percent

__all__ = ["UNKNOWN_STATE", "Ledger", "ledger_entry", "quarantine_notes"]

#: The ledger's reason for rows kept whose event-log state is in none of the source's lists.
UNKNOWN_STATE = "unknown state, rows kept (add it to the source's states lists)"


def ledger_entry(source: Source, raw: pd.DataFrame, quarantine: pd.DataFrame) -> list[dict]:
    """Ledger rows for one source: rows in and out, one row per quarantine reason, warnings.

    A quarantine reason is counted without its value (``unparseable opened_at``);
    ``example`` gives its first row and value. ``level`` is ``quarantined`` for rows
    set aside and ``warning`` for rows kept with a remark (unknown event states), so
    ``rows_in == rows_out + sum(rows where level == "quarantined")``.

    Example:
        >>> from csi_helpers.params import Source
        >>> from csi_helpers.processing.validate import canonical_table
        >>> s = Source(name="t", kind="tickets", path="t.csv")
        >>> raw = pd.DataFrame({"ticket_id": ["A", "B"], "opened_at": ["2026-01-01", "x"]})
        >>> rows = ledger_entry(s, raw, canonical_table(raw, s)[1])
        >>> [(r["rows_in"], r["rows_out"], r["reason"], r["rows"], r["example"]) for r in rows]
        [(2, 1, None, None, None), (None, None, 'unparseable opened_at', 1, "row 2: 'x'")]
    """
    ledger = Ledger(source)
    ledger.add(raw, quarantine)
    return ledger.rows()


class Ledger:
    """The ledger rows of one source (:func:`ledger_entry`), counted chunk by chunk.

    Example:
        >>> from csi_helpers.params import Source
        >>> from csi_helpers.processing.validate import canonical_chunks, canonical_table
        >>> s = Source(name="t", kind="tickets", path="t.csv")
        >>> raw = pd.DataFrame({"ticket_id": ["A", "B", "C"],
        ...                     "opened_at": ["x", "2026-01-01", "y"]})
        >>> ledger = Ledger(s)
        >>> for chunk, _, quarantine in canonical_chunks([raw.iloc[:2], raw.iloc[2:]], s):
        ...     ledger.add(chunk, quarantine)
        >>> ledger.rows() == ledger_entry(s, raw, canonical_table(raw, s)[1])
        True
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.rows_in = 0
        self.quarantined = 0
        self._reasons: dict[str, list] = {}  # label -> [rows, example], in order of first row
        self._unknown: dict[str, int] = {}  # unknown state -> rows, in order of first row

    def add(self, raw: pd.DataFrame, quarantine: pd.DataFrame) -> None:
        """Count one chunk: its raw rows and the rows it quarantined."""
        self.rows_in += len(raw)
        self.quarantined += len(quarantine)
        if len(quarantine):
            parts = quarantine["reason"].astype(str).str.split(": ", n=1, expand=True)
            label = parts[0]
            value = parts[1] if parts.shape[1] > 1 else pd.Series(None, index=parts.index)
            for reason, group in label.groupby(label, sort=False).groups.items():
                if reason in self._reasons:
                    self._reasons[reason][0] += len(group)
                    continue
                first = group[0]
                example = f"row {quarantine.loc[first, 'source_row']}"
                if isinstance(value[first], str):
                    example += f": {value[first]}"
                self._reasons[reason] = [len(group), example]
        for state, count in unknown_states(self.source, raw, quarantine).items():
            self._unknown[state] = self._unknown.get(state, 0) + int(count)

    def rows(self) -> list[dict]:
        """The ledger rows counted so far."""
        base = {"source": self.source.name, "kind": self.source.kind}
        rows = [
            base
            | {
                "rows_in": self.rows_in,
                "rows_out": self.rows_in - self.quarantined,
                "reason": None,
                "rows": None,
                "level": None,
                "example": None,
            }
        ]
        for reason, (count, example) in self._reasons.items():
            rows.append(base | _remark(reason, count, "quarantined", example))
        if self._unknown:
            # ordered as value_counts orders them: most rows first, ties by first row
            unknown = pd.Series(self._unknown).sort_values(ascending=False, kind="stable")
            example = ", ".join(f"{s!r} ({n})" for s, n in unknown.head(5).items())
            rows.append(base | _remark(UNKNOWN_STATE, int(unknown.sum()), "warning", example))
        return rows


def _remark(reason: str, rows: int, level: str, example: str) -> dict:
    return {
        "rows_in": None,
        "rows_out": None,
        "reason": reason,
        "rows": rows,
        "level": level,
        "example": example,
    }


def quarantine_notes(ledger: pd.DataFrame) -> dict[str, str]:
    """Per source, one sentence on the rows step 4 left out, for the KPIs it feeds.

    Example:
        >>> ledger = pd.DataFrame({"source": ["t", "t"], "rows_in": [200, None],
        ...     "rows_out": [194, None], "reason": [None, "unparseable resolved_at"],
        ...     "rows": [None, 6], "level": [None, "quarantined"]})
        >>> quarantine_notes(ledger)["t"]
        "6 of 200 rows of source 't' (3 %) quarantined (unparseable resolved at: 6); excluded here"
    """
    notes = {}
    for source, rows in ledger.groupby("source", sort=False):
        summary = rows[rows["reason"].isna()].iloc[0]
        dropped = rows[rows["reason"].notna()]
        if "level" in rows:
            dropped = dropped[dropped["level"].fillna("quarantined") == "quarantined"]
        if dropped.empty or not summary["rows_in"]:
            continue
        count, total = int(dropped["rows"].sum()), int(summary["rows_in"])
        share = percent(100 * count / total)
        share = share if share != "0 %" else "under 0.1 %"
        reasons = ", ".join(
            f"{str(r).replace('_', ' ')}: {int(n):,}"
            for r, n in zip(dropped["reason"], dropped["rows"], strict=True)
        )
        notes[source] = (
            f"{count:,} of {total:,} rows of source {source!r} ({share}) quarantined "
            f"({reasons}); excluded here"
        )
    return notes
