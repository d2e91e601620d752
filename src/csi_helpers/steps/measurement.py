"""Step 2 (measurement plan): read each source's header and time span, then plan.

The plan itself is :func:`csi_helpers.strategy.measurement_plan.measurement_plan`;
this step reads what it needs from the sources (a few rows each, never the whole
table) and makes the demo data ready when the params ask for it.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers.connectors import file_span, read_header
from csi_helpers.errors import DataError
from csi_helpers.params import Params
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.common import prepare_sources
from csi_helpers.strategy import measurement_plan as plan
from csi_helpers.tables import catalogue

__all__ = ["measurement_plan", "prepare_sources", "source_headers", "source_spans"]


def source_headers(params: Params) -> dict[str, list[str] | str]:
    """Column names per source, or the reason a source cannot be read."""
    headers: dict[str, list[str] | str] = {}
    for s in params.sources:
        try:
            headers[s.name] = read_header(s)
        except DataError as exc:
            headers[s.name] = str(exc)
    return headers


def source_spans(
    params: Params, headers: dict[str, list[str] | str]
) -> dict[str, tuple[str | None, str | None]]:
    """Per source, the first and last timestamp of its main time column (unknown: None)."""
    spans = {}
    for s in params.sources:
        column = plan.span_column(s, headers.get(s.name))
        spans[s.name] = file_span(s, column) if column else (None, None)
    return spans


def measurement_plan(ctx: StepContext, headers: dict[str, list[str] | str]) -> pd.DataFrame:
    """The measurement plan (:mod:`csi_helpers.strategy.measurement_plan`) of the cycle's
    sources, from their ``headers`` and spans; written for later steps."""
    params = ctx.params
    frame = plan.measurement_plan(params, headers, source_spans(params, headers))
    ctx.write_table(catalogue.MEASUREMENT_PLAN, frame)
    return frame
