"""Step 5's analyses of step 4's series: baselines, trends, change points, anomalies,
event impact and the capacity forecast."""

from __future__ import annotations

import dataclasses

import pandas as pd

from csi_helpers.analysis.baseline import kpi_findings
from csi_helpers.analysis.findings import Finding
from csi_helpers.analysis.severity import assess
from csi_helpers.report import charts
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.analyse.inputs import (
    DAILY_SERIES,
    EVENT_SERIES,
    HOURLY_SERIES,
    Inputs,
    daily_column,
    guarded,
    hourly_column,
    present,
    save_figure,
    save_finding_figure,
    slug,
)
from csi_helpers.steps.analyse.tables import capacity_limit, event_windows, known_events

__all__ = [
    "analyse_anomalies",
    "analyse_change_points",
    "analyse_events",
    "analyse_forecast",
    "analyse_kpis",
    "analyse_trends",
]


def analyse_kpis(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Baseline and target gap of every KPI entry, with the change from the previous cycle."""
    return [assess(f, inputs.card) for f in kpi_findings(inputs.card)]


def analyse_trends(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """A seasonal (weekly) Mann-Kendall trend test on each daily series present.

    A series no source feeds (its column absent, or missing every day) is skipped:
    step 2 already reports that gap.
    """
    from csi_helpers.analysis.trend import trend_test

    findings = []
    daily = inputs.daily
    for column in ("requests", "incidents", "latency_p95_ms"):
        if not present(daily, column):
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
                assess(
                    save_finding_figure(ctx, f, f"trend_{column}", fig), inputs.card, series=column
                )
            )
    return findings


def analyse_change_points(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Shifts in the level of daily series, over the previous cycle and this one."""
    from csi_helpers.analysis.changepoint import change_points

    a = ctx.params.analysis
    findings = []
    history = inputs.history
    for column in ("latency_p95_ms", "peak_utilisation", "incidents", "downtime_min"):
        if not present(history, column):
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
        breaks = [f.evidence["date"] for f in found if f.is_finding]
        fig = charts.change_point_chart(series, breaks, title=metric.capitalize(), unit=unit)
        path = save_figure(ctx, f"change_points_{column}", fig)
        findings += _assessed(found, inputs, series=column, figure=path)
    return findings


def analyse_anomalies(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Anomaly episodes in the hourly monitoring series (load, latency, errors).

    The expected level is learned without the known events (:func:`known_events`);
    episodes inside an event are attributed to it (kind ``"event_episode"``).
    """
    from csi_helpers.analysis.event_anomaly import event_anomalies

    events = known_events(ctx)
    findings = []
    for column in ("requests", "latency_p95_ms", "error_rate"):
        if not present(inputs.hourly, column):
            continue
        metric, unit = HOURLY_SERIES[column]
        series = hourly_column(inputs, column)
        found = guarded(
            "anomaly",
            metric,
            event_anomalies,
            series,
            events,
            metric=metric,
            unit=unit,
            alpha=ctx.params.analysis.alpha,
            max_findings=ctx.params.analysis.max_anomalies,
        )
        path = None
        if any(f.kind == "anomaly" for f in found):  # the anomalies, as the findings hold them
            episodes = pd.DataFrame([f.evidence for f in found if f.kind == "anomaly"])
            for when in ("start", "end", "peak_at"):
                episodes[when] = pd.to_datetime(episodes[when], utc=True)
            fig = charts.anomaly_chart(series, episodes, title=metric.capitalize(), unit=unit)
            path = save_figure(ctx, f"anomalies_{column}", fig)
        findings += _assessed(found, inputs, series=column, figure=path)
    return findings


def _assessed(
    found: list[Finding], inputs: Inputs, *, series: str, figure: str | None
) -> list[Finding]:
    """The findings of one chart drawn for all of them, with their severity assessed."""
    return [
        assess(f.with_figure(figure) if figure and f.is_finding else f, inputs.card, series=series)
        for f in found
    ]


def analyse_events(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """KPIs during campaigns and changes against the same weekday and hour around them."""
    from csi_helpers.analysis.impact import event_impact

    a = ctx.params.analysis
    start, end = ctx.params.cycle_window()
    findings = []
    for name, (kind, events) in event_windows(ctx).items():
        events = events.dropna(subset=["start"])
        events = events[(events["start"] >= start) & (events["start"] < end)]
        after = a.change_window_hours if kind == "changes" else 0
        for column in EVENT_SERIES[kind]:
            if not present(inputs.hourly, column):
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
                    fig = charts.event_impact_chart(
                        series,
                        events,
                        metric=f.metric,
                        unit=f.unit,
                        effect=f.effect,
                        ci_low=f.ci_low,
                        ci_high=f.ci_high,
                        per_event=f.evidence.get("per_event"),
                        after_hours=after,
                    )
                    f = save_finding_figure(ctx, f, f"impact_{slug(name)}_{column}", fig)
                findings.append(assess(f, inputs.card, series=column))
    return findings


def analyse_forecast(ctx: StepContext, inputs: Inputs, capacity: list[Finding]) -> list[Finding]:
    """When the peak load would reach the usable capacity, with an interval."""
    from csi_helpers.analysis.forecast import capacity_forecast, forecast_frame

    hourly = inputs.hourly
    if not (present(hourly, "requests") and present(hourly, "capacity")):
        return []
    limit, why = capacity_limit(ctx, capacity)
    frame = hourly.reset_index().rename(columns={"hour": "timestamp"})
    a = ctx.params.analysis
    options = {"threshold": limit, "horizon_days": a.forecast_days, "alpha": a.alpha}
    findings = []
    for f in guarded("capacity_forecast", "peak load", capacity_forecast, frame, **options):
        if f.is_finding:
            f = save_finding_figure(
                ctx,
                f,
                "capacity_forecast",
                charts.forecast_chart(
                    forecast_frame(frame, horizon_days=a.forecast_days),
                    usable=f.evidence.get("threshold_level"),
                    limit=limit,
                ),
            )
        f = dataclasses.replace(f, evidence={**f.evidence, "limit_from": why})
        findings.append(assess(f, inputs.card, series="requests"))
    return findings
