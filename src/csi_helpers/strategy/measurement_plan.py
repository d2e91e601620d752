"""Step 2's question: what can be measured with the configured sources, and the gap.

Each KPI needs a source of one kind carrying certain canonical fields (which
ones depends on its options and scope). The plan works from each source's
header and the span of its main timestamp column (step 2 reads those, never
the whole table) and says per KPI entry whether it is measurable (yes / partly /
no), from which fields, and what would close the gap.

A ticket event log (kind ``ticket_events``) also feeds ticket KPIs: step 4
rebuilds one row per ticket from it, and it alone can stop the clock in pause
states.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from csi_helpers.kpis import get_definition
from csi_helpers.params import Kpi, Params, Source
from csi_helpers.tables.canonical import CONTINUOUS_KINDS, KEYS, source_column

__all__ = ["PLAN_COLUMNS", "measurable_kpis", "measurement_plan", "span_column"]

PLAN_COLUMNS = [
    "kpi_id",
    "kpi",
    "measurable",
    "source",
    "fields_used",
    "fields_missing",
    "to_close_gap",
    "data_from",
    "data_to",
    "calendar",
]

# Ticket fields an event log yields from its history even without a column of that name.
_DERIVED_FROM_EVENTS = {
    "acknowledged_at": "state",
    "assigned_at": "assignment_group",
    "reopen_after_close_count": "state",
    "reopen_count": "state",
    "reassignment_count": "assignment_group",
    "opened_at": "updated_at",
    "resolved_at": "state",
    "closed_at": "state",
}


def measurement_plan(
    params: Params,
    headers: dict[str, list[str] | str],
    spans: dict[str, tuple[str | None, str | None]],
) -> pd.DataFrame:
    """One row per KPI entry: measurable (yes / partly / no), from which source and fields.

    Args:
        params: the cycle's params (its strategy, sources and cycle dates).
        headers: per source, its column names, or why it cannot be read.
        spans: per source, the first and last timestamp of its main time column
            (:func:`span_column`), or ``(None, None)`` when unknown.

    ``partly`` means the KPI can be computed but not as defined: the data does not
    cover the whole cycle (judged for continuous sources only; a sparse one, like
    outages, has no span), or the clock should stop in pause states and no event
    log says when tickets were paused.
    """
    has_event_log = any(
        isinstance(headers.get(s.name), list)
        and source_column("state", s.columns, headers[s.name]) is not None
        for s in params.sources_of_kind("ticket_events")
    )
    rows = []
    for _, _, k in params.strategy.kpis():
        d = get_definition(k.kpi)
        needed = (*d.needed_fields(k.options), *k.scope.filters())
        best: dict[str, Any] | None = None
        for s in _feeding_sources(params, d.source_kind):
            header = headers.get(s.name)
            if not isinstance(header, list):
                continue
            used = {f: _column_for(s, f, header) for f in dict.fromkeys(needed)}
            missing = [f for f, col in used.items() if col is None]
            if best is None or len(missing) < len(best["missing"]):
                span = spans.get(s.name, (None, None))
                best = {"source": s.name, "used": used, "missing": missing, "span": span}
        rows.append(_plan_row(k, d.source_kind, needed, best, params, has_event_log))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def measurable_kpis(plan: pd.DataFrame) -> list[str]:
    """The KPI entries steps 3–5 compute (measurable yes or partly)."""
    return plan.loc[plan["measurable"] != "no", "kpi_id"].tolist()


def _feeding_sources(params: Params, kind: str) -> list[Source]:
    sources = params.sources_of_kind(kind)
    if kind == "tickets":
        sources += params.sources_of_kind("ticket_events")
    return sources


def _column_for(source: Source, field: str, header: list[str]) -> str | None:
    column = source_column(field, source.columns, header)
    if column is None and source.kind == "ticket_events" and field in _DERIVED_FROM_EVENTS:
        basis = source_column(_DERIVED_FROM_EVENTS[field], source.columns, header)
        return f"(history of {basis})" if basis else None
    return column


def _plan_row(
    k: Kpi,
    kind: str,
    needed: tuple[str, ...],
    best: dict[str, Any] | None,
    params: Params,
    has_event_log: bool,
) -> dict[str, Any]:
    row = {"kpi_id": k.id, "kpi": k.kpi, "calendar": k.calendar}
    if best is None:
        return row | {
            "measurable": "no",
            "source": None,
            "fields_used": "",
            "fields_missing": ", ".join(dict.fromkeys(needed)),
            "to_close_gap": f"add a source of kind '{kind}' carrying {', '.join(needed)}",
            "data_from": None,
            "data_to": None,
        }
    used = ", ".join(f"{f}←{c}" for f, c in best["used"].items() if c)
    row |= {
        "source": best["source"],
        "fields_used": used,
        "fields_missing": ", ".join(best["missing"]),
        "data_from": best["span"][0],
        "data_to": best["span"][1],
    }
    gaps, measurable = [], "yes"
    if best["missing"]:
        gaps.append(
            f"map {', '.join(best['missing'])} in the columns of source "
            f"{best['source']!r}, or export those fields"
        )
        measurable = "no"
    if measurable == "yes" and k.pause_clock and not has_event_log:
        gaps.append(
            "pause states need a ticket event log (kind ticket_events) with states; "
            "until then the clock runs through pauses"
        )
        measurable = "partly"
    if measurable == "yes" and not _covers(*best["span"], params.cycle.start, params.cycle.end):
        gaps.append(
            f"the data covers {_day(best['span'][0])} to {_day(best['span'][1])}, "
            f"not the whole cycle {params.cycle.start} to {params.cycle.end}"
        )
        measurable = "partly"
    return row | {"measurable": measurable, "to_close_gap": "; ".join(gaps)}


def span_column(source: Source, header: list[str] | str | None) -> str | None:
    """The export column whose first and last value tell the span of a continuous source.

    The first time field of the kind's key (``opened_at``, ``timestamp`` ...); None for
    a sparse kind (outages, changes, calendar entries), an unreadable source, or an
    export without that column.

    Example:
        >>> from csi_helpers.params import Source
        >>> span_column(Source(name="m", kind="monitoring", path="m.csv"), ["timestamp", "x"])
        'timestamp'
    """
    if not isinstance(header, list) or source.kind not in CONTINUOUS_KINDS:
        return None
    key = KEYS.get(source.kind, ())
    time_field = next((f for f in key if f.endswith("_at") or f == "timestamp"), None)
    return source_column(time_field, source.columns, header) if time_field else None


def _covers(first: str | None, last: str | None, start: date, end: date) -> bool:
    if first is None or last is None:
        return True  # span unknown (not a CSV): do not claim a gap we cannot see
    return pd.Timestamp(first).date() <= start and pd.Timestamp(last).date() >= end


def _day(stamp: str | None) -> str:
    return pd.Timestamp(stamp).date().isoformat() if stamp else "?"
