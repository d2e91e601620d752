"""Step 2: what can be measured with the configured sources, and the gap.

Each KPI needs a source of one kind carrying certain canonical fields. The
plan reads only each source's header and the span of its main timestamp,
never the whole data.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from csi_helpers.connectors import file_span, read_header
from csi_helpers.errors import DataError
from csi_helpers.kpis import get_definition
from csi_helpers.params import Params, Source
from csi_helpers.tables import CONTINUOUS_KINDS, KEYS, source_column

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
]


def source_headers(params: Params) -> dict[str, list[str] | str]:
    """Column names per source, or the reason a source cannot be read."""
    headers: dict[str, list[str] | str] = {}
    for s in params.sources:
        try:
            headers[s.name] = read_header(s)
        except DataError as exc:
            headers[s.name] = str(exc)
    return headers


def measurement_plan(params: Params, headers: dict[str, list[str] | str]) -> pd.DataFrame:
    """One row per KPI: measurable (yes / partly / no), from which source and fields.

    ``partly`` means the fields are there but the data does not cover the whole cycle
    (judged for continuous sources only: a sparse one, like outages, has no span).
    """
    spans = {s.name: _span(s, headers.get(s.name)) for s in params.sources}
    rows = []
    for _, _, k in params.strategy.kpis():
        d = get_definition(k.kpi)
        best: dict | None = None
        for s in params.sources_of_kind(d.source_kind):
            header = headers.get(s.name)
            if not isinstance(header, list):
                continue
            used = {f: source_column(f, s.columns, header) for f in d.fields}
            missing = [f for f, col in used.items() if col is None]
            fields_used = ", ".join(f"{f}←{c}" for f, c in used.items() if c)
            row = {
                "source": s.name,
                "fields_used": fields_used,
                "fields_missing": ", ".join(missing),
                "missing": missing,
            }
            if best is None or len(missing) < len(best["missing"]):
                best = row | {"data_from": spans[s.name][0], "data_to": spans[s.name][1]}
        rows.append(_plan_row(k.id, k.kpi, d.source_kind, d.fields, best, params))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def measurable_kpis(plan: pd.DataFrame) -> list[str]:
    """The KPI entries steps 3–5 compute (measurable yes or partly)."""
    return plan.loc[plan["measurable"] != "no", "kpi_id"].tolist()


def _plan_row(
    kpi_id: str, kpi: str, kind: str, fields: tuple[str, ...], best: dict | None, params: Params
) -> dict:
    if best is None:
        return {
            "kpi_id": kpi_id,
            "kpi": kpi,
            "measurable": "no",
            "source": None,
            "fields_used": "",
            "fields_missing": ", ".join(fields),
            "to_close_gap": f"add a source of kind '{kind}' with {', '.join(fields)}",
            "data_from": None,
            "data_to": None,
        }
    if best["missing"]:
        gap = (
            f"map {', '.join(best['missing'])} in sources[{best['source']}].columns, "
            "or export those fields"
        )
        measurable = "no"
    elif not _covers(best["data_from"], best["data_to"], params.cycle.start, params.cycle.end):
        gap = f"the data does not cover the whole cycle {params.cycle.start} – {params.cycle.end}"
        measurable = "partly"
    else:
        gap, measurable = "", "yes"
    return {
        "kpi_id": kpi_id,
        "kpi": kpi,
        "measurable": measurable,
        "source": best["source"],
        "fields_used": best["fields_used"],
        "fields_missing": best["fields_missing"],
        "to_close_gap": gap,
        "data_from": best["data_from"],
        "data_to": best["data_to"],
    }


def _span(source: Source, header: list[str] | str | None) -> tuple[str | None, str | None]:
    if not isinstance(header, list) or source.kind not in CONTINUOUS_KINDS:
        return None, None
    key = KEYS.get(source.kind, ())
    time_field = next((f for f in key if f not in ("ticket_id", "change_id", "problem_id")), None)
    column = source_column(time_field, source.columns, header) if time_field else None
    return file_span(source, column)


def _covers(first: str | None, last: str | None, start: date, end: date) -> bool:
    if first is None or last is None:
        return True  # span unknown (not a CSV): do not claim a gap we cannot see
    try:
        lo = pd.Timestamp(first).date()
        hi = pd.Timestamp(last).date()
    except ValueError:
        return True
    return lo <= start and hi >= end
