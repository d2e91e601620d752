"""Data coverage: the part of a cycle each source's records actually cover (step 4).

An export that stops before the cycle ends must not read as a service that went
quiet: the days after its last record are missing, not days without incidents.
Coverage is judged on the service's local days:

- the **record days** are the days of the cycle with at least one record of the
  source (a ticket opened, a monitoring sample, a survey sent, ...);
- a **continuous** source (monitoring, tickets, ticket event logs, surveys: their
  records run through the whole period) covers its first record day to its last;
  a run of days without records at either end of the cycle still counts as
  covered when it is no longer than the longest such run *inside* the data (a
  quiet weekend of a small service is not the end of its export);
- a **sparse** source (outages, changes, calendar entries, problems) records
  events: a month without an outage is a month without outages, so it is taken to
  cover the whole cycle.

Example:
    >>> days = pd.to_datetime(["2026-04-02", "2026-04-03", "2026-04-05"])
    >>> covered_days(days, first_day=pd.Timestamp("2026-04-01"),
    ...              last_day=pd.Timestamp("2026-06-30"), continuous=True)
    (Timestamp('2026-04-01 00:00:00'), Timestamp('2026-04-05 00:00:00'))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from csi_helpers.errors import NoRecordsInCycle
from csi_helpers.tables.canonical import CONTINUOUS_KINDS

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "RECORD_TIME",
    "SERIES_COLUMNS",
    "Covered",
    "coverage_warnings",
    "covered_days",
    "no_records_error",
    "record_time",
    "source_coverage",
]

#: The time of a record, per kind of source: its first present column of these.
RECORD_TIME: dict[str, tuple[str, ...]] = {
    "tickets": ("opened_at",),
    "ticket_events": ("updated_at",),
    "monitoring": ("timestamp",),
    "survey": ("sent_at",),
    "problems": ("opened_at",),
    "downtime": ("start",),
    "calendar": ("start",),
    "changes": ("actual_start", "planned_start"),
}

#: The columns of step 4's hourly and daily series each kind of table feeds.
SERIES_COLUMNS: dict[str, tuple[str, ...]] = {
    "monitoring": ("requests", "capacity", "latency_p95_ms", "peak_utilisation", "error_rate"),
    "tickets": ("incidents",),
    "downtime": ("downtime_min",),
}
#: Those columns in words, for the report.
SERIES_LABELS = {
    "requests": "load",
    "capacity": "capacity",
    "latency_p95_ms": "p95 latency",
    "peak_utilisation": "utilisation",
    "error_rate": "error rate",
    "incidents": "incidents",
    "downtime_min": "downtime",
}


@dataclass(frozen=True)
class Covered:
    """The span [start, end) of a cycle [cycle_start, cycle_end) a source covers (UTC instants).

    Example:
        >>> utc = lambda day: pd.Timestamp(day, tz="UTC")
        >>> c = Covered(utc("2026-04-01"), utc("2026-05-23"), utc("2026-04-01"),
        ...             utc("2026-07-01"), "UTC")
        >>> c.note(), round(c.share, 3)
        ('data end on 22 May; the cycle runs to 30 June', 0.571)
    """

    start: pd.Timestamp
    end: pd.Timestamp
    cycle_start: pd.Timestamp
    cycle_end: pd.Timestamp
    timezone: str

    @property
    def share(self) -> float:
        """The covered part of the cycle (days of the service's time zone)."""
        return _days(self.start, self.end, self.timezone) / _days(
            self.cycle_start, self.cycle_end, self.timezone
        )

    @property
    def partial(self) -> bool:
        """Whether the data start after the cycle starts or end before it ends."""
        return self.start > self.cycle_start or self.end < self.cycle_end

    def note(self) -> str:
        """Where the data start or end short of the cycle, in words ("" when they cover it)."""
        parts = []
        if self.start > self.cycle_start:
            parts.append(
                f"data start on {_day(self.start, self.timezone)}; "
                f"the cycle starts on {_day(self.cycle_start, self.timezone)}"
            )
        if self.end < self.cycle_end:
            last = self.end - pd.Timedelta(microseconds=1)
            cycle_last = self.cycle_end - pd.Timedelta(microseconds=1)
            parts.append(
                f"data end on {_day(last, self.timezone)}; "
                f"the cycle runs to {_day(cycle_last, self.timezone)}"
            )
        return "; ".join(parts)

    def evidence(self) -> dict[str, Any]:
        """The span as a finding's evidence: covered from, to (exclusive), share and note."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "share": round(self.share, 4),
            "note": self.note(),
        }


def _days(start: pd.Timestamp, end: pd.Timestamp, timezone: str) -> int:
    local = [t.tz_convert(timezone).tz_localize(None).normalize() for t in (start, end)]
    return int((local[1] - local[0]) / pd.Timedelta(days=1))


def _day(stamp: pd.Timestamp, timezone: str) -> str:
    local = stamp.tz_convert(timezone)
    return f"{local.day} {local:%B}"


#: A cycle whose source covers less than this share of it gets a warning.
WARN_BELOW = 0.5


def coverage_warnings(
    coverage: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp, timezone: str
) -> list[str]:
    """A warning per continuous source that covers less than half of the cycle [start, end).

    ``coverage`` is step 4's table (:func:`source_coverage` per source, with ``source``
    and ``series``).

    Example:
        >>> utc = lambda day: pd.Timestamp(day, tz="UTC")
        >>> table = pd.DataFrame({"source": ["incidents"], "series": ["incidents"],
        ...     "continuous": [True], "covered_from": [utc("2026-04-01")],
        ...     "covered_to": [utc("2026-05-11")]})
        >>> coverage_warnings(table, start=utc("2026-04-01"), end=utc("2026-07-01"),
        ...                   timezone="UTC")[0][:62]
        "source 'incidents' covers 44 % of the cycle (data end on 10 Ma"
    """
    warnings = []
    for row in coverage.itertuples(index=False):
        if not row.continuous or pd.isna(row.covered_from):
            continue
        covered = Covered(row.covered_from, row.covered_to, start, end, timezone)
        if covered.share < WARN_BELOW:
            series = [SERIES_LABELS[c] for c in row.series.split(", ") if c]
            about = f"findings on {', '.join(series)} rest" if series else "its figures rest"
            warnings.append(
                f"source {row.source!r} covers {covered.share * 100:.0f} % of the cycle "
                f"({covered.note()}): {about} on that part only"
            )
    return warnings


def covered_days(
    record_days: pd.DatetimeIndex | pd.Series,
    *,
    first_day: pd.Timestamp,
    last_day: pd.Timestamp,
    continuous: bool,
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last local day a source covers, from the days that have records.

    Args:
        record_days: The cycle's local days (naive midnights) with at least one record.
        first_day: The cycle's first local day.
        last_day: The cycle's last local day.
        continuous: Whether the source's records run through the period (see the
            module docstring); a sparse source covers the whole cycle.

    Returns:
        ``(first, last)`` covered day, both inclusive; None when no day of a
        continuous source has a record.
    """
    if not continuous:
        return first_day, last_day
    days = pd.DatetimeIndex(record_days).normalize().unique().sort_values()
    if len(days) == 0:
        return None
    one = pd.Timedelta(days=1)
    inner = int(max(((days[1:] - days[:-1]) / one - 1).max(), 0)) if len(days) > 1 else 0
    start = first_day if (days[0] - first_day) / one <= inner else days[0]
    end = last_day if (last_day - days[-1]) / one <= inner else days[-1]
    return start, end


def source_coverage(
    table: ir.Table,
    *,
    kind: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    timezone: str,
) -> dict[str, Any]:
    """What a source's records cover of the cycle [start, end) (UTC instants).

    One aggregation in the table's engine: records per local day of the cycle.

    Returns:
        ``records`` (inside the cycle), ``first`` and ``last`` (the earliest and
        latest record time inside it, NaT without records), ``covered_from`` and
        ``covered_to`` (the covered span as UTC instants, ``covered_to`` exclusive;
        NaT without records), ``covered_share`` of the cycle's days (0 without
        records) and ``continuous``.
    """
    from csi_helpers.processing import engines

    stamp = record_time(table, kind)
    rows = table.mutate(_t=stamp).filter(lambda t: (t._t >= start) & (t._t < end))
    local = engines.local_time(rows._t, timezone, start=start, end=end)
    per_day = engines.to_pandas(
        rows.group_by(day=local.truncate("D")).aggregate(
            n=rows.count(), first=rows._t.min(), last=rows._t.max()
        )
    )
    continuous = kind in CONTINUOUS_KINDS
    local_start, local_end = (t.tz_convert(timezone).tz_localize(None) for t in (start, end))
    days = covered_days(
        per_day["day"],
        first_day=local_start.normalize(),
        last_day=(local_end - pd.Timedelta(microseconds=1)).normalize(),
        continuous=continuous,
    )
    row: dict[str, Any] = {
        "records": int(per_day["n"].sum()),
        "first": _utc(per_day["first"].min()),
        "last": _utc(per_day["last"].max()),
        "covered_from": pd.NaT,
        "covered_to": pd.NaT,
        "covered_share": 0.0,
        "continuous": continuous,
    }
    if days is not None:
        covered = Covered(
            max(start, days[0].tz_localize(timezone).tz_convert("UTC")),
            min(end, (days[1] + pd.Timedelta(days=1)).tz_localize(timezone).tz_convert("UTC")),
            start,
            end,
            timezone,
        )
        row |= {
            "covered_from": covered.start,
            "covered_to": covered.end,
            "covered_share": covered.share,
        }
    return row


def record_time(table: ir.Table, kind: str) -> ir.TimestampValue:
    """The time of each record of a table of that kind (:data:`RECORD_TIME`)."""
    import ibis

    columns = [table[c] for c in RECORD_TIME[kind] if c in table.columns]
    if not columns:
        raise ValueError(f"a {kind} table needs one of {RECORD_TIME[kind]}; it has {table.columns}")
    return columns[0] if len(columns) == 1 else ibis.coalesce(*columns)


def _utc(value: Any) -> pd.Timestamp:
    return pd.NaT if pd.isna(value) else pd.Timestamp(value).tz_localize("UTC")


def no_records_error(
    *,
    source: str,
    kind: str,
    where: str,
    cycle: tuple[str, str],
    usable: int,
    read: int,
    span: tuple[pd.Timestamp, pd.Timestamp] | None,
) -> NoRecordsInCycle:
    """The error of a source with no record inside the cycle, for the analyst.

    Args:
        source: The source's name in the params.
        kind: Its kind (tickets, monitoring, ...).
        where: The file (or query) it was read from.
        cycle: The cycle's first and last day, as the params give them.
        usable: Rows of the source's canonical table (all dates).
        read: Rows read from the export, quarantined ones included.
        span: The earliest and latest record time of the usable rows (None: none).

    Example:
        >>> e = no_records_error(source="incidents", kind="tickets", where="x.csv",
        ...     cycle=("2026-04-01", "2026-06-30"), usable=2, read=2,
        ...     span=(pd.Timestamp("2025-01-03", tz="UTC"), pd.Timestamp("2025-03-30", tz="UTC")))
        >>> str(e).split(":")[0][:60]
        "source 'incidents' (tickets, x.csv) has no record inside the"
    """
    column = " or ".join(RECORD_TIME[kind])
    if span is not None:
        found = (
            f"its {usable:,} usable rows run from {span[0]:%Y-%m-%d %H:%M} to "
            f"{span[1]:%Y-%m-%d %H:%M} UTC ({column})"
        )
    elif read:
        found = (
            f"none of its {read:,} rows is usable (see process/quarantine/{source} and the "
            "data-quality ledger)"
        )
    else:
        found = "the export has no rows"
    return NoRecordsInCycle(
        f"source {source!r} ({kind}, {where}) has no record inside the cycle {cycle[0]} to "
        f"{cycle[1]}: {found}. Check cycle.start and cycle.end in the params, that the export "
        f"is the one for this cycle, and that its date column ({column}) is mapped and read "
        "as intended (columns, timestamp_format, timezone of the source)."
    )
