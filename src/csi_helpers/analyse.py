"""Step 5 orchestration: run every analysis method on the cycle and keep its evidence.

Each ``analyse_*`` function runs one family of methods on what step 4 wrote,
saves a figure per finding into the run folder, re-derives each finding's
severity against the KPI targets (:func:`csi_helpers.severity.assess`) and
returns the findings. A method that cannot run on this cycle's data (no source
of that kind, a series too short, too few events) returns a no-finding record
that says why; the report lists those in its methodology appendix. A
:class:`~csi_helpers.errors.DataError` raised by a method on odd data becomes
such a record too, so one analysis never stops the step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csi_helpers import charts
from csi_helpers.analysis import Finding, findings_to_frame, no_finding, rank_findings
from csi_helpers.canonical import cycle_window
from csi_helpers.errors import DataError, RunFolderError
from csi_helpers.runfolder import PreviousRun, StepContext
from csi_helpers.sampling import SAMPLE_ROWS, draw, sample_rows, with_sample
from csi_helpers.severity import assess

#: Daily series column → (metric name, unit) for trend and change-point tests.
DAILY_SERIES = {
    "requests": ("daily requests", "requests/day"),
    "incidents": ("daily incidents", "incidents/day"),
    "latency_p95_ms": ("daily p95 latency", "ms"),
    "peak_utilisation": ("daily peak utilisation", "%"),
    "downtime_min": ("daily downtime", "min/day"),
}

#: Hourly series column → (metric name, unit) for anomalies and event impact.
HOURLY_SERIES = {
    "requests": ("request load", "requests/h"),
    "latency_p95_ms": ("p95 latency", "ms"),
    "error_rate": ("error rate", "%"),
    "downtime_min": ("downtime minutes", "min/h"),
    "incidents": ("incidents opened", "incidents/h"),
}

#: Response column → (metric name, unit) for the capacity threshold.
RESPONSES = {"latency_p95_ms": ("p95 latency", "ms"), "error_rate": ("error rate", "%")}

#: Factor from the stored value to the unit shown (error rates are stored as fractions).
SHOWN_SCALE = {"error_rate": 100.0}

#: Which hourly series each kind of event is tested against.
EVENT_SERIES = {
    "calendar": ("requests", "latency_p95_ms", "error_rate", "downtime_min"),
    "changes": ("incidents", "downtime_min", "error_rate"),
}


@dataclass(frozen=True)
class Inputs:
    """What step 5 reads from the run folder, once."""

    card: pd.DataFrame
    daily: pd.DataFrame
    hourly: pd.DataFrame  # UTC hours of the cycle (index), step 4's hourly series
    history: pd.DataFrame  # daily series of the previous cycle and this one


def load_inputs(ctx: StepContext, card: pd.DataFrame, previous: PreviousRun | None) -> Inputs:
    """Read step 4's daily and hourly series, and the previous cycle's daily series."""
    daily = ctx.read_table("process/daily")
    hourly = ctx.read_table("process/hourly").set_index("hour")
    history = daily
    if previous is not None and ctx.params.analysis.history:
        try:
            before = previous.read_table("process/daily")
        except RunFolderError as exc:  # an older run folder without the table: go on without
            ctx.warn(
                f"previous cycle's daily series not readable ({exc}); "
                "change points use this cycle only"
            )
        else:
            history = (
                pd.concat([before, daily], ignore_index=True)
                .drop_duplicates("day", keep="last")
                .sort_values("day", ignore_index=True)
            )
    return Inputs(card=card, daily=daily, hourly=hourly, history=history)


def guarded(
    analysis: str,
    subject: str,
    method: Callable[..., Finding | list[Finding]],
    /,
    *args: Any,
    **options: Any,
) -> list[Finding]:
    """Call ``method(*args, **options)``; a DataError on this data becomes a no-finding.

    The no-finding quotes the error, so the report's methodology appendix says why
    the analysis of ``subject`` gave nothing.
    """
    try:
        result = method(*args, **options)
    except DataError as exc:
        return [
            no_finding(
                analysis=analysis,
                metric=subject,
                reason="cannot_run",
                detail=f"{analysis.replace('_', ' ')} could not run on {subject}: {exc}",
                method=analysis,
            )
        ]
    return result if isinstance(result, list) else [result]


def hourly_column(inputs: Inputs, column: str) -> pd.Series:
    """One hourly series in the unit it is shown in (error rates in percent)."""
    return inputs.hourly[column].astype(float) * SHOWN_SCALE.get(column, 1.0)


def daily_column(daily: pd.DataFrame, column: str) -> pd.Series:
    """One daily series, indexed by day, in the unit it is shown in (utilisation in percent).

    Utilisation already exported in percent (see :func:`charts.percent_scale`) is kept.
    """
    series = daily.set_index("day")[column].astype(float)
    if column == "peak_utilisation":
        return series * charts.percent_scale(series)
    return series * SHOWN_SCALE.get(column, 1.0)


def _present(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].notna().any()


def _rel(ctx: StepContext, path: Path | None) -> str | None:
    return None if path is None else path.relative_to(ctx.run_dir).as_posix()


def _with_figure(ctx: StepContext, finding: Finding, name: str, figure) -> Finding:
    path = _rel(ctx, ctx.save_figure(name, figure))
    return finding.with_figure(path) if path else finding


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()


# ---------------------------------------------------------------- baselines
def analyse_kpis(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Baseline and target gap of every KPI entry, with the change from the previous cycle."""
    from csi_helpers.scorecard import kpi_findings

    return [assess(f, inputs.card) for f in kpi_findings(inputs.card)]


# ---------------------------------------------------------------- trends
def analyse_trends(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """A seasonal (weekly) Mann-Kendall trend test on each daily series present.

    A series no source feeds (its column absent, or missing every day) is skipped:
    step 2 already reports that gap.
    """
    from csi_helpers.analysis.trend import trend_test

    findings = []
    daily = inputs.daily
    for column in ("requests", "incidents", "latency_p95_ms"):
        if not _present(daily, column):
            continue
        metric, unit = DAILY_SERIES[column]
        series = daily_column(daily, column)
        for f in guarded(
            "trend",
            metric,
            trend_test,
            series,
            period=7,
            alpha=ctx.params.analysis.alpha,
            metric=metric,
            unit=unit,
        ):
            slope = f.effect if f.is_finding else None
            fig = charts.trend_chart(series, title=metric.capitalize(), slope_per_day=slope)
            findings.append(
                assess(_with_figure(ctx, f, f"trend_{column}", fig), inputs.card, series=column)
            )
    return findings


# ---------------------------------------------------------------- change points
def analyse_change_points(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Shifts in the level of daily series, over the previous cycle and this one."""
    from csi_helpers.analysis.changepoint import change_points

    a = ctx.params.analysis
    findings = []
    history = inputs.history
    for column in ("latency_p95_ms", "peak_utilisation", "incidents", "downtime_min"):
        if not _present(history, column):
            continue
        metric, unit = DAILY_SERIES[column]
        series = daily_column(history, column)
        found = guarded(
            "change_point",
            metric,
            change_points,
            series,
            metric=metric,
            unit=unit,
            alpha=a.alpha,
            n_perm=a.permutations,
            seed=a.seed,
            period=7,
        )
        breaks = [f for f in found if f.is_finding]
        fig = charts.change_point_chart(series, breaks, title=metric.capitalize(), unit=unit)
        path = _rel(ctx, ctx.save_figure(f"change_points_{column}", fig))
        for f in found:
            f = f.with_figure(path) if path and f.is_finding else f
            findings.append(assess(f, inputs.card, series=column))
    return findings


# ---------------------------------------------------------------- anomalies
def analyse_anomalies(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Anomaly episodes in the hourly monitoring series (load, latency, errors)."""
    from csi_helpers.analysis.anomaly import detect_anomalies

    findings = []
    for column in ("requests", "latency_p95_ms", "error_rate"):
        if not _present(inputs.hourly, column):
            continue
        metric, unit = HOURLY_SERIES[column]
        series = hourly_column(inputs, column)
        found = guarded(
            "anomaly",
            metric,
            detect_anomalies,
            series,
            metric=metric,
            unit=unit,
            max_findings=ctx.params.analysis.max_anomalies,
        )
        path = None
        if any(f.is_finding for f in found):  # the reported episodes, as the findings hold them
            episodes = pd.DataFrame([f.evidence for f in found if f.is_finding])
            for when in ("start", "end", "peak_at"):
                episodes[when] = pd.to_datetime(episodes[when], utc=True)
            fig = charts.anomaly_chart(series, episodes, title=metric.capitalize(), unit=unit)
            path = _rel(ctx, ctx.save_figure(f"anomalies_{column}", fig))
        for f in found:
            f = f.with_figure(path) if path and f.is_finding else f
            findings.append(assess(f, inputs.card, series=column))
    return findings


# ---------------------------------------------------------------- capacity
CAPACITY_COLUMNS = ["timestamp", "utilisation", "latency_p95_ms", "error_rate"]


def hourly_monitoring(
    ctx: StepContext, *, limit: int | None = None
) -> tuple[pd.DataFrame, dict[str, Any] | None] | None:
    """The cycle's monitoring samples (a uniform sample of ``limit`` when more), if configured.

    Reads only the columns the capacity analysis uses and filters the cycle in
    Arrow, so a table of tens of millions of rows never sits in pandas whole.
    Returns the samples and the sample's record (None: all of them; see
    :mod:`csi_helpers.sampling`).
    """
    import pyarrow.parquet as pq

    from csi_helpers import process

    sources = ctx.params.sources_of_kind("monitoring")
    if not sources:
        return None
    start, end = cycle_window(ctx.params)
    path = process.table_path(ctx, "monitoring")  # logged as an input
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
            fig = charts.capacity_chart(samples, threshold=threshold, y=response)
            f = _with_figure(ctx, f, f"capacity_threshold_{response}", fig)
            findings.append(assess(f, inputs.card, series="utilisation"))
    return findings


def capacity_limit(ctx: StepContext, capacity: list[Finding]) -> tuple[float, str]:
    """The utilisation at which capacity counts as used up, and where that figure comes from.

    The latency knee step 5 found, when it found one; otherwise ``analysis.capacity_limit``.
    """
    for f in capacity:
        if f.is_finding and f.metric.startswith("latency"):
            return float(f.evidence["threshold"]), "the latency threshold found above"
    return ctx.params.analysis.capacity_limit, "analysis.capacity_limit in the params"


# ---------------------------------------------------------------- events
def event_windows(ctx: StepContext) -> dict[str, tuple[str, pd.DataFrame]]:
    """Each calendar or changes source as event windows: name → (kind, start/end frame)."""
    windows = {}
    for source in ctx.params.sources:
        if source.kind == "calendar":
            table = ctx.read_table(f"process/tables/{source.name}")
            windows[source.name] = ("calendar", table[["start", "end"]])
        elif source.kind == "changes":
            table = ctx.read_table(f"process/tables/{source.name}")
            start = table["actual_start"].fillna(table["planned_start"])
            end = table["actual_end"].fillna(table["planned_end"]).fillna(start)
            windows[source.name] = ("changes", pd.DataFrame({"start": start, "end": end}))
    return windows


def analyse_events(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """KPIs during campaigns and changes against the same weekday and hour around them."""
    from csi_helpers.analysis.impact import event_impact

    a = ctx.params.analysis
    start, end = cycle_window(ctx.params)
    findings = []
    for name, (kind, events) in event_windows(ctx).items():
        events = events.dropna(subset=["start"])
        events = events[(events["start"] >= start) & (events["start"] < end)]
        after = a.change_window_hours if kind == "changes" else 0
        for column in EVENT_SERIES[kind]:
            if not _present(inputs.hourly, column):
                continue
            metric, unit = HOURLY_SERIES[column]
            series = hourly_column(inputs, column)
            relative = column in ("requests", "latency_p95_ms", "error_rate")
            found = guarded(
                "event_impact",
                metric,
                event_impact,
                series,
                events,
                metric=metric,
                unit=unit,
                event_label=name,
                alpha=a.alpha,
                baseline_weeks=a.baseline_weeks,
                n_perm=a.permutations,
                seed=a.seed,
                effect="relative" if relative else "absolute",
                after_hours=after,
                scope={"events": name},
            )
            for f in found:
                if f.is_finding:
                    fig = charts.event_impact_chart(series, events, f, after_hours=after)
                    f = _with_figure(ctx, f, f"impact_{_slug(name)}_{column}", fig)
                findings.append(assess(f, inputs.card, series=column))
    return findings


# ---------------------------------------------------------------- drivers
def analyse_drivers(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Where SLA breaches concentrate (Pareto, tested) and a model of what predicts them."""
    from csi_helpers import process
    from csi_helpers.analysis.drivers import driver_model, pareto, pareto_findings

    tickets = process.ticket_table(ctx)
    if tickets is None:
        return []
    start, end = cycle_window(ctx.params)
    tickets = tickets[(tickets["opened_at"] >= start) & (tickets["opened_at"] < end)]
    if tickets["made_sla"].isna().all():
        return [
            no_finding(
                analysis="drivers",
                metric="breached",
                reason="no_outcome",
                detail="the ticket source has no SLA flag (made_sla): breaches cannot be analysed",
                method="pareto + model",
            )
        ]
    tickets = tickets.assign(breached=~tickets["made_sla"].astype("boolean"))
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
                figures[by] = _rel(ctx, ctx.save_figure(f"pareto_{_slug(by)}", fig))
            f = f.with_figure(figures[by]) if figures[by] else f
        findings.append(assess(f, inputs.card, series="breached"))
    modelled, sample = sample_rows(tickets, limit=SAMPLE_ROWS, seed=a.seed, unit="tickets")
    for f in guarded(
        "drivers", "breached", driver_model, modelled, outcome="breached", seed=a.seed
    ):
        f = with_sample(f, sample)
        if f.is_finding:
            fig = charts.importance_chart(pd.DataFrame(f.evidence["importances"]))
            f = _with_figure(ctx, f, "drivers_breached", fig)
        findings.append(assess(f, inputs.card, series="breached"))
    return findings


# ---------------------------------------------------------------- forecast
def analyse_forecast(ctx: StepContext, inputs: Inputs, capacity: list[Finding]) -> list[Finding]:
    """When the peak load would reach the usable capacity, with an interval."""
    from csi_helpers.analysis.forecast import capacity_forecast, forecast_frame

    hourly = inputs.hourly
    if not (_present(hourly, "requests") and _present(hourly, "capacity")):
        return []
    limit, why = capacity_limit(ctx, capacity)
    frame = hourly.reset_index().rename(columns={"hour": "timestamp"})
    a = ctx.params.analysis
    options = {"threshold": limit, "horizon_days": a.forecast_days, "alpha": a.alpha}
    findings = []
    for f in guarded("capacity_forecast", "peak load", capacity_forecast, frame, **options):
        if f.is_finding:
            f = _with_figure(
                ctx,
                f,
                "capacity_forecast",
                charts.forecast_chart(
                    forecast_frame(frame, horizon_days=a.forecast_days), f, limit=limit
                ),
            )
        f = dataclasses.replace(f, evidence={**f.evidence, "limit_from": why})
        findings.append(assess(f, inputs.card, series="requests"))
    return findings


# ---------------------------------------------------------------- error budgets
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
    from csi_helpers import process
    from csi_helpers.kpis import get_definition
    from csi_helpers.kpis.budget import _SLI_COLUMN

    entry = {k.id: k for _, _, k in ctx.params.strategy.kpis()}[kpi_id]
    definition = get_definition(entry.kpi)
    options = {**definition.option_defaults(), **entry.options}
    sli = options.get("sli")
    used = ["opened_at", "made_sla"] if entry.kpi.startswith("sla_") else ["timestamp"]
    if sli in _SLI_COLUMN:
        used.append(_SLI_COLUMN[sli])
    columns = list(dict.fromkeys([*used, *entry.scope.filters()]))  # only what is read below
    table = process.kpi_table(ctx, source, definition.source_kind, columns=columns)
    table = process.apply_scope(table, entry.scope)
    if entry.kpi.startswith("sla_"):
        flagged = table.dropna(subset=["made_sla"])
        frame = pd.DataFrame(
            {"timestamp": flagged["opened_at"], "good": flagged["made_sla"].astype(bool)}
        )
        return BudgetUnits(frame, float(options["target"]), "tickets", "SLA")
    sli = options["sli"]
    if sli == "errors":
        return "the errors SLI counts requests, not good/bad units; its budget is on the scorecard"
    values = table[_SLI_COLUMN[sli]]
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

    start, end = cycle_window(ctx.params)
    plan = ctx.read_table("measurement/plan").set_index("kpi_id")
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
                f = _with_figure(ctx, f, f"error_budget_{_slug(r.kpi_id)}", fig)
            findings.append(assess(f, card))
    return findings


# ---------------------------------------------------------------- all
def save_findings(ctx: StepContext, findings: list[Finding]) -> list[Finding]:
    """Rank the findings and write them for steps 6 and 7 (JSON records and a table)."""
    ranked = rank_findings(findings)
    ctx.write_json("findings", [f.to_dict() for f in ranked])
    ctx.write_table("findings_table", findings_to_frame(ranked))
    return ranked
