"""Step 5's analyses of step 4's canonical tables, row by row: the capacity knee on
monitoring samples, the drivers of SLA breaches on tickets, error budgets on good/bad units.

Row-level models fit a uniform sample of at most
:data:`csi_helpers.analysis.sampling.SAMPLE_ROWS` rows on a large cycle, stated in
the finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from csi_helpers.analysis.findings import Finding, no_finding
from csi_helpers.analysis.sampling import SAMPLE_ROWS, draw, sample_rows, with_sample
from csi_helpers.analysis.severity import assess
from csi_helpers.processing.scope import apply_scope
from csi_helpers.report import charts
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.analyse.inputs import (
    RESPONSES,
    SHOWN_SCALE,
    Inputs,
    guarded,
    save_figure,
    save_finding_figure,
    slug,
)
from csi_helpers.steps.common import kpi_table, pauses_table, table_path, ticket_table
from csi_helpers.tables import catalogue

__all__ = [
    "BUDGET_KPIS",
    "BudgetUnits",
    "analyse_capacity",
    "analyse_drivers",
    "analyse_error_budgets",
    "budget_units",
    "capacity_limit",
    "event_windows",
    "hourly_monitoring",
    "known_events",
]


CAPACITY_COLUMNS = ["timestamp", "utilisation", "latency_p95_ms", "error_rate"]


def hourly_monitoring(
    ctx: StepContext, *, limit: int | None = None
) -> tuple[pd.DataFrame, dict[str, Any] | None] | None:
    """The cycle's monitoring samples (a uniform sample of ``limit`` when more), if configured.

    Reads only the columns the capacity analysis uses and filters the cycle in
    Arrow, so a table of tens of millions of rows never sits in pandas whole.
    Returns the samples and the sample's record (None: all of them; see
    :mod:`csi_helpers.analysis.sampling`).
    """
    import pyarrow.parquet as pq

    sources = ctx.params.sources_of_kind("monitoring")
    if not sources:
        return None
    start, end = ctx.params.cycle_window()
    path = table_path(ctx, "monitoring")  # logged as an input
    table = pq.read_table(
        path,
        columns=CAPACITY_COLUMNS,
        filters=[("timestamp", ">=", start), ("timestamp", "<", end)],
    )
    seed = ctx.params.analysis.seed
    picked, sample = draw(table.num_rows, limit=limit, seed=seed, unit="monitoring samples")
    frame = (table if picked is None else table.take(picked)).to_pandas()
    frame = frame.astype({c: float for c in ("utilisation", "latency_p95_ms", "error_rate")})
    frame = frame.assign(error_rate=frame["error_rate"] * SHOWN_SCALE["error_rate"])
    return frame, sample


def analyse_capacity(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """The utilisation at which p95 latency (and the error rate) start rising.

    Segmented regression with a bootstrap interval, on each monitoring sample of the
    cycle; skipped for a response the monitoring table does not carry.
    """
    from csi_helpers.analysis.capacity import capacity_threshold

    read = hourly_monitoring(ctx, limit=SAMPLE_ROWS)
    if read is None or read[0]["utilisation"].isna().all():
        return []
    samples, sample = read
    a = ctx.params.analysis
    calendar = {name: w for name, (kind, w) in event_windows(ctx).items() if kind == "calendar"}
    events = pd.concat(list(calendar.values()), ignore_index=True) if calendar else None
    during = f"during {' and '.join(calendar)}"
    findings = []
    for response in ("latency_p95_ms", "error_rate"):
        if samples[response].isna().all():
            continue
        found = guarded(
            "capacity_threshold",
            response,
            capacity_threshold,
            samples,
            x="utilisation",
            y=response,
            y_unit=RESPONSES[response][1],
            metric=RESPONSES[response][0],
            n_boot=a.bootstrap,
            seed=a.seed,
            alpha=a.alpha,
        )
        for f in found:
            f = with_sample(f, sample)
            threshold = f.evidence.get("threshold") if f.is_finding else None
            fig = charts.capacity_chart(
                samples, threshold=threshold, y=response, events=events, events_label=during
            )
            f = save_finding_figure(ctx, f, f"capacity_threshold_{response}", fig)
            findings.append(assess(f, inputs.card, series="utilisation"))
    return findings


def capacity_limit(ctx: StepContext, capacity: list[Finding]) -> tuple[float, str]:
    """The utilisation at which capacity counts as used up, and where that figure comes from.

    The p95 latency knee :func:`analyse_capacity` found this cycle, when it found
    one (the source names its 95 % interval); otherwise ``analysis.capacity_limit``.
    """
    latency = RESPONSES["latency_p95_ms"][0]
    for f in capacity:
        if f.is_finding and f.kind == "capacity_threshold" and f.metric == latency:
            share, low, high = (
                100 * f.evidence[k] for k in ("threshold", "threshold_ci_low", "threshold_ci_high")
            )
            return share / 100, (
                f"the {latency} knee found above, {share:.1f} % of capacity "
                f"(95 % CI {low:.1f} to {high:.1f} %)"
            )
    return ctx.params.analysis.capacity_limit, "analysis.capacity_limit in the params"


def event_windows(ctx: StepContext) -> dict[str, tuple[str, pd.DataFrame]]:
    """Each calendar or changes source as event windows: name → (kind, start/end frame)."""
    windows = {}
    for source in ctx.params.sources:
        if source.kind == "calendar":
            table = ctx.read_table(catalogue.canonical_table(source.name))
            windows[source.name] = ("calendar", table[["start", "end"]])
        elif source.kind == "changes":
            table = ctx.read_table(catalogue.canonical_table(source.name))
            start = table["actual_start"].fillna(table["planned_start"])
            end = table["actual_end"].fillna(table["planned_end"]).fillna(start)
            windows[source.name] = ("changes", pd.DataFrame({"start": start, "end": end}))
    return windows


def analyse_drivers(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Where SLA breaches concentrate (Pareto, tested) and a model of what predicts them."""
    from csi_helpers.analysis.drivers import driver_model, pareto, pareto_findings

    tickets = ticket_table(ctx)
    if tickets is None:
        return []
    start, end = ctx.params.cycle_window()
    tickets = tickets[(tickets["opened_at"] >= start) & (tickets["opened_at"] < end)]
    breached = sla_breaches(ctx, tickets, end=end)
    if breached is None:
        return [
            no_finding(
                analysis="drivers",
                metric="breached",
                reason="no_outcome",
                detail="the ticket source has no SLA flag (made_sla) and no sla_compliance KPI "
                "has targets per priority (method: targets): breaches cannot be analysed",
                method="pareto + model",
            )
        ]
    tickets = tickets.assign(breached=breached)
    a = ctx.params.analysis
    findings, figures = [], {}
    for f in guarded(
        "concentration",
        "breached",
        pareto_findings,
        tickets,
        outcome="breached",
        alpha=a.alpha,
    ):
        by = f.evidence.get("by")
        if f.is_finding and by:
            if by not in figures:
                fig = charts.pareto_chart(pareto(tickets, by=by, outcome="breached"), by=by)
                figures[by] = save_figure(ctx, f"pareto_{slug(by)}", fig)
            f = f.with_figure(figures[by]) if figures[by] else f
        findings.append(assess(f, inputs.card, series="breached"))
    modelled, sample = sample_rows(tickets, limit=SAMPLE_ROWS, seed=a.seed, unit="tickets")
    for f in guarded(
        "drivers", "breached", driver_model, modelled, outcome="breached", seed=a.seed
    ):
        f = with_sample(f, sample)
        if f.is_finding:
            fig = charts.importance_chart(pd.DataFrame(f.evidence["importances"]))
            f = save_finding_figure(ctx, f, "drivers_breached", fig)
        findings.append(assess(f, inputs.card, series="breached"))
    return findings


def sla_breaches(ctx: StepContext, tickets: pd.DataFrame, *, end: pd.Timestamp) -> pd.Series | None:
    """Per ticket, whether it breached its SLA: the export's flag (``made_sla``) when it
    has one, else the targets per priority of the first ``sla_compliance`` KPI with
    ``method: targets`` (its calendar and, with ``pause_clock``, the pauses), as that KPI
    counts them; None when neither is there."""
    from csi_helpers.kpis.sla import breached_by_targets

    if tickets["made_sla"].notna().any():
        return ~tickets["made_sla"].astype("boolean")
    entry = next(
        (
            k
            for _, _, k in ctx.params.strategy.kpis()
            if k.kpi == "sla_compliance" and k.options.get("method") == "targets"
        ),
        None,
    )
    if entry is None:
        return None
    pauses = pauses_table(ctx) if entry.pause_clock else None
    return breached_by_targets(
        tickets,
        entry.options["targets"],
        end=end,
        calendar=ctx.params.calendar(entry.calendar),
        pauses=pauses,
    )


BUDGET_KPIS = (
    "error_budget_remaining",
    "error_budget_burn_rate",
    "sla_error_budget_remaining",
    "sla_burn_rate",
)


@dataclass(frozen=True)
class BudgetUnits:
    """One SLO's eligible units: ``timestamp`` and ``good`` per unit, the objective, the unit."""

    frame: pd.DataFrame
    slo: float
    unit: str
    label: str


def budget_units(ctx: StepContext, kpi_id: str, source: str) -> BudgetUnits | str:
    """The good/bad units of a budget KPI entry, as the KPI library counts them.

    Availability and latency SLIs count monitoring samples; the SLA budget counts
    tickets opened in the cycle with an SLA flag. Returns the reason instead when
    the entry's SLI has no per-unit good/bad flag (the request-weighted errors SLI).
    """
    from csi_helpers.kpis import get_definition
    from csi_helpers.kpis.budget import SLI_COLUMN

    entry = {k.id: k for _, _, k in ctx.params.strategy.kpis()}[kpi_id]
    definition = get_definition(entry.kpi)
    options = {**definition.option_defaults(), **entry.options}
    sli = options.get("sli")
    used = ["opened_at", "made_sla"] if entry.kpi.startswith("sla_") else ["timestamp"]
    if sli in SLI_COLUMN:
        used.append(SLI_COLUMN[sli])
    columns = list(dict.fromkeys([*used, *entry.scope.filters()]))  # only what is read below
    table = kpi_table(ctx, source, definition.source_kind, columns=columns)
    table = apply_scope(table, entry.scope)
    if entry.kpi.startswith("sla_"):
        flagged = table.dropna(subset=["made_sla"])
        frame = pd.DataFrame(
            {"timestamp": flagged["opened_at"], "good": flagged["made_sla"].astype(bool)}
        )
        return BudgetUnits(frame, float(options["target"]), "tickets", "SLA")
    sli = options["sli"]
    if sli == "errors":
        return "the errors SLI counts requests, not good/bad units; its budget is on the scorecard"
    values = table[SLI_COLUMN[sli]]
    keep = values.notna()
    if sli == "availability":
        good = values[keep].astype(bool)
        label = "availability"
    else:
        good = values[keep].astype(float) <= float(options["latency_threshold_ms"])
        name = {"latency_p95": "p95 latency"}.get(sli, sli)
        label = f"{name} ≤ {options['latency_threshold_ms']:g} ms"
    frame = pd.DataFrame({"timestamp": table.loc[keep, "timestamp"], "good": good})
    return BudgetUnits(frame, float(options["slo"]), "samples", label)


def analyse_error_budgets(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Consumption, burn rate and exhaustion date of each SLO's error budget in the strategy.

    Two entries on the same SLO (its remaining budget and its burn rate, say) give
    one finding.
    """
    from csi_helpers.analysis.budget import error_budget

    start, end = ctx.params.cycle_window()
    plan = ctx.read_table(catalogue.MEASUREMENT_PLAN).set_index("kpi_id")
    card = inputs.card
    entries = {k.id: k for _, _, k in ctx.params.strategy.kpis()}
    findings, seen = [], set()
    for r in card[card["kpi"].isin(BUDGET_KPIS) & (card["status"] != "grey")].itertuples():
        entry = entries[r.kpi_id]
        key = (entry.kpi.startswith("sla_"), repr(sorted(entry.options.items())), repr(entry.scope))
        if key in seen:
            continue
        seen.add(key)
        units = budget_units(ctx, r.kpi_id, plan.loc[r.kpi_id, "source"])
        if isinstance(units, str):
            findings.append(
                no_finding(
                    analysis="error_budget",
                    metric=r.kpi_id,
                    reason="no_units",
                    detail=f"{r.kpi_name}: {units}",
                    method="error_budget",
                )
            )
            continue
        for f in guarded(
            "error_budget",
            r.kpi_id,
            error_budget,
            units.frame,
            slo=units.slo,
            period_start=start,
            period_end=end,
            metric=units.label,
            unit=units.unit,
            scope={"kpi": r.kpi_id},
        ):
            if f.is_finding:
                fig = charts.budget_chart(
                    units.frame, slo=units.slo, start=start, end=end, title=r.kpi_name
                )
                f = save_finding_figure(ctx, f, f"error_budget_{slug(r.kpi_id)}", fig)
            findings.append(assess(f, card))
    return findings


def known_events(ctx: StepContext) -> pd.DataFrame:
    """Every known event of the sources as one table: calendar windows, changes, outages.

    A change's window runs on for ``analysis.change_window_hours`` after its end.
    Rows come calendar windows first, then outages, then changes, so where windows
    overlap an hour is attributed to the campaign before the outage it may have
    caused, and to an outage before a change's after-window. The columns are
    :data:`csi_helpers.analysis.expected_level.EVENT_COLUMNS`: ``start``, ``end``,
    ``event_id``, ``name`` and ``kind`` (``"calendar"``, ``"changes"`` or ``"downtime"``).
    """
    after = pd.Timedelta(hours=ctx.params.analysis.change_window_hours)
    parts = []
    for source in ctx.params.sources:
        if source.kind not in ("calendar", "changes", "downtime"):
            continue
        table = ctx.read_table(catalogue.canonical_table(source.name))
        if source.kind == "calendar":
            ids, names, start, end = table["event_id"], table["name"], table["start"], table["end"]
        elif source.kind == "changes":
            ids = table["change_id"]
            names = "change " + ids.astype(str)
            start = table["actual_start"].fillna(table["planned_start"])
            end = table["actual_end"].fillna(table["planned_end"]).fillna(start) + after
        else:
            ids, start, end = table["outage_id"], table["start"], table["end"]
            names = "outage " + ids.astype(str)
        parts.append(
            pd.DataFrame(
                {"start": start, "end": end, "event_id": ids, "name": names, "kind": source.kind}
            )
        )
    if not parts:
        return pd.DataFrame(columns=["start", "end", "event_id", "name", "kind"])
    events = pd.concat(parts, ignore_index=True)
    order = events["kind"].map({"calendar": 0, "downtime": 1, "changes": 2})
    return events.iloc[order.argsort(kind="stable")].reset_index(drop=True)
