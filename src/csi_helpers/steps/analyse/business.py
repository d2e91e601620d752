"""Step 5's money at stake: each red KPI with a money model, priced with the business figures.

Downtime KPIs (availability, downtime minutes) are priced on their outages, minute by
minute at the weekday and hour each fell in; SLA compliance on its breaches
(:mod:`csi_helpers.analysis.business`). Without a ``business`` section in the params
the table is written empty, and no later step states money.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from csi_helpers.analysis.business import (
    MONEY_MODELS,
    Impact,
    downtime_by_hour,
    impact_frame,
    minute_rates,
    price_downtime,
    price_sla_breaches,
    sla_breaches,
)
from csi_helpers.params import Business
from csi_helpers.params.models import Kpi
from csi_helpers.processing.scope import apply_scope
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.common import kpi_table
from csi_helpers.tables import catalogue

__all__ = ["business_impact", "outage_minutes"]


def business_impact(ctx: StepContext, card: pd.DataFrame) -> pd.DataFrame:
    """The money at stake on each red KPI that has a money model, largest first; written for
    step 6 (``analyse/impact``; empty without a ``business`` section)."""
    business = ctx.params.business
    entries = {k.id: k for _, _, k in ctx.params.strategy.kpis()}
    red = card[(card["status"] == "red") & card["kpi"].isin(list(MONEY_MODELS))]
    impacts = {}
    if business is not None:
        for row in red.itertuples(index=False):
            impact = _price(ctx, entries[row.kpi_id], row, business)
            if impact is not None:
                impacts[(row.kpi_id, row.kpi_name)] = impact
    frame = impact_frame(impacts)
    ctx.write_table(catalogue.IMPACT, frame)
    return frame


def _price(ctx: StepContext, entry: Kpi, row: Any, business: Business) -> Impact | None:
    """One scorecard row's money at stake; None when the params give nothing to price it."""
    if MONEY_MODELS[entry.kpi] == "sla_breaches":
        breaches = sla_breaches(json.loads(row.details or "{}"), int(row.n))
        return price_sla_breaches(breaches, business)
    if minute_rates(business) is None:
        return None
    return price_downtime(outage_minutes(ctx, entry), business)


def outage_minutes(ctx: StepContext, entry: Kpi) -> pd.DataFrame:
    """A downtime KPI entry's minutes by weekday and hour of the service's time zone: its
    source, scope and calendar, over the cycle (:func:`downtime_by_hour`)."""
    plan = ctx.read_table(catalogue.MEASUREMENT_PLAN).set_index("kpi_id")
    columns = list(dict.fromkeys(["start", "end", *entry.scope.filters()]))
    table = kpi_table(ctx, plan.loc[entry.id, "source"], "downtime", columns=columns)
    start, end = ctx.params.cycle_window()
    return downtime_by_hour(
        apply_scope(table, entry.scope),
        start=start,
        end=end,
        timezone=ctx.params.service.timezone,
        calendar=ctx.params.calendar(entry.calendar),
    )
