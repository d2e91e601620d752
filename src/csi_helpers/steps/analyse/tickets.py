"""Step 5's ticket KPIs over time: weekly MTTR, SLA compliance and backlog.

The cycle's ticket KPIs say where the service stands; their weekly values say
when it moved. Each KPI entry of the strategy that measures mean time to
resolve, SLA compliance or the backlog is measured week by week with its own
definition (:func:`~csi_helpers.steps.common.measure_entry`: scope, options,
calendar), over the previous cycle and this one when the ticket table holds
both, and gets the change-point and trend treatment of the daily series, so
that "mean time to resolve rose by 60 % from 10 August" is found.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import Finding, no_finding
from csi_helpers.analysis.severity import assess
from csi_helpers.kpis import get_definition
from csi_helpers.params.models import Kpi
from csi_helpers.report import charts
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.analyse.inputs import Inputs, guarded, save_figure, slug
from csi_helpers.steps.common import measure_entry, pauses_table, ticket_table

__all__ = ["COHORT_KPIS", "MIN_TICKETS", "TICKET_KPIS", "analyse_ticket_kpis", "weekly_values"]

#: Library KPIs followed week by week.
TICKET_KPIS = ("mean_time_to_resolve", "sla_compliance", "backlog")
#: A week whose value rests on fewer tickets is missing (backlog counts are kept).
MIN_TICKETS = 5
#: A week that leaves out a larger share of its tickets (most often: not resolved yet,
#: near the data's end) is missing: its value would be biased towards quick tickets.
MAX_LEFT_OUT = 0.1
WEEK = pd.Timedelta(days=7)
#: Time KPIs measured per week of opening (the cohort) unless the entry sets ``scope``:
#: a change in how tickets are handled then shows from the week it starts, not spread
#: over the weeks its slow tickets are resolved in.
COHORT_KPIS = frozenset({"mean_time_to_resolve"})


def weekly_values(
    ctx: StepContext,
    entry: Kpi,
    tickets: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    pauses: pd.DataFrame | None = None,
) -> pd.Series:
    """The KPI entry over each whole week from ``start`` (weeks ending by ``end``).

    Mean time to resolve is measured on the tickets opened in the week
    (:data:`COHORT_KPIS`). Indexed by each week's first day (timezone-naive, as the
    daily series); a week
    whose value rests on fewer than :data:`MIN_TICKETS` records, or leaves out
    more than :data:`MAX_LEFT_OUT` of them, is NaN.
    """
    if entry.kpi in COHORT_KPIS and "scope" not in entry.options:
        entry = entry.model_copy(update={"options": {**entry.options, "scope": "opened_in_period"}})
    weeks = pd.date_range(start, end - WEEK, freq="7D")
    values = []
    for first in weeks:
        result = measure_entry(ctx, entry, tickets, start=first, end=first + WEEK, pauses=pauses)
        left_out = result.excluded > MAX_LEFT_OUT * (result.n + result.excluded)
        thin = entry.kpi != "backlog" and (result.n < MIN_TICKETS or left_out)
        values.append(np.nan if result.value is None or thin else result.value)
    return pd.Series(values, index=weeks.tz_localize(None), dtype="float64")


def analyse_ticket_kpis(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Level shifts and trends in the weekly values of the ticket KPIs of the strategy."""
    from csi_helpers.analysis.changepoint import change_points
    from csi_helpers.analysis.cohort_shift import cohort_shift
    from csi_helpers.analysis.explanation import shifts_within, trend_or_shift
    from csi_helpers.analysis.trend import trend_test

    tickets = ticket_table(ctx)
    entries = [k for _, _, k in ctx.params.strategy.kpis() if k.kpi in TICKET_KPIS]
    if tickets is None or not entries:
        return []
    a = ctx.params.analysis
    start, end = ctx.params.cycle_window()
    first_day = pd.Timestamp(inputs.history["day"].min()).tz_localize(start.tz)
    pauses = pauses_table(ctx)
    findings = []
    for entry in entries:
        definition = get_definition(entry.kpi)
        name = entry.name or definition.name
        name = name[0].lower() + name[1:] if name[1:2].islower() else name
        metric, unit = f"weekly {name}", entry.unit or definition.unit
        series = weekly_values(
            ctx, entry, tickets, start=min(first_day, start), end=end, pauses=pauses
        )
        if series.empty:  # a cycle shorter than a week
            findings += [_no_week(analysis, metric, unit) for analysis in ("change_point", "trend")]
            continue
        options = {"metric": metric, "unit": unit, "alpha": a.alpha}
        if _per_ticket(entry):
            hours, opened = _ticket_hours(ctx, entry, tickets, series.index[0], end, pauses)
            weeks = series.dropna().index.tz_localize(start.tz).tz_convert("UTC")
            shifts = guarded(
                "change_point", metric, cohort_shift, hours, opened, weeks=weeks, **options,
                n_sim=a.permutations, seed=a.seed,
            )  # fmt: skip
        else:
            shifts = guarded(
                "change_point", metric, change_points, series, **options,
                min_size=3, n_perm=a.permutations, seed=a.seed,
            )  # fmt: skip
        breaks = [f.evidence["date"] for f in shifts if f.is_finding]
        this_cycle = series[series.index >= start.tz_localize(None)]
        inside = shifts_within(shifts, start.tz_localize(None), end.tz_localize(None))
        trend = guarded(
            "trend", metric, trend_or_shift, this_cycle, inside, partial(trend_test, **options)
        )
        path = None  # a chart no finding shows is not drawn
        if any(f.is_finding for f in shifts + trend):
            fig = charts.change_point_chart(series, breaks, title=metric.capitalize(), unit=unit)
            path = save_figure(ctx, f"weekly_{slug(entry.id)}", fig)
        for f in shifts + trend:
            f = f.with_figure(path) if path and f.is_finding else f
            findings.append(assess(f, inputs.card, series=entry.kpi))
    return findings


def _per_ticket(entry: Kpi) -> bool:
    """Whether the entry's weekly values are means over the tickets opened in the week,
    so that its shifts are tested with the tickets' own spread
    (:func:`~csi_helpers.analysis.cohort_shift.cohort_shift`)."""
    return entry.kpi in COHORT_KPIS and "scope" not in entry.options


def _ticket_hours(
    ctx: StepContext,
    entry: Kpi,
    tickets: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    pauses: pd.DataFrame | None,
) -> tuple[pd.Series, pd.Series]:
    """Each resolved ticket opened in [start, end): its hours to resolve, as the entry
    measures them (scope, calendar, pauses, resolution), and its opening time."""
    from csi_helpers.kpis.incident_times import measure, ticket_times
    from csi_helpers.processing.scope import apply_scope

    scoped = apply_scope(tickets, entry.scope)
    durations = measure(
        scoped,
        start=start.tz_localize(end.tz) if start.tzinfo is None else start,
        end=end,
        until=entry.options.get("resolution", "resolved_at"),
        scope="opened_in_period",
        not_ended="unresolved",
        calendar=ctx.params.calendar(entry.calendar),
        pauses=pauses if entry.pause_clock else None,
    )
    opened = ticket_times(scoped, "opened_at").loc[durations.hours.index]
    return durations.hours, opened


def _no_week(analysis: str, metric: str, unit: str) -> Finding:
    """The record of a weekly analysis on a cycle that holds no whole week."""
    return no_finding(
        analysis=analysis,
        metric=metric,
        reason="too_short",
        detail=f"{metric}: the cycle is too short, it holds no whole week",
        method=f"{analysis} on weekly values",
        unit=unit,
    )
