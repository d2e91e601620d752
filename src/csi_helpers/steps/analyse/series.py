"""Step 5's analyses of step 4's series: baselines, trends, change points, anomalies,
event impact and the capacity forecast."""

from __future__ import annotations

import dataclasses
from functools import partial

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
    covered_part,
    daily_column,
    guarded,
    hourly_column,
    present,
    save_figure,
    save_finding_figure,
    slug,
    with_coverage,
)
from csi_helpers.steps.analyse.tables import capacity_limit, event_windows, known_events

__all__ = [
    "analyse_anomalies",
    "analyse_change_points",
    "analyse_events",
    "analyse_forecast",
    "analyse_kpis",
    "analyse_peaks",
    "analyse_trends",
]


def analyse_kpis(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Baseline and target gap of every KPI entry, with the change from the previous cycle;
    a KPI that misses its target gets a chart of it against its target (the evidence of
    an issue that no other chart shows)."""
    card = inputs.card.set_index("kpi_id", drop=False)
    findings = []
    for f in kpi_findings(inputs.card):
        if f.kind == "target_gap" and f.metric in card.index:
            r = card.loc[f.metric]
            chart = charts.target_gap_chart(
                kpi=str(r["kpi_name"]),
                unit="" if pd.isna(r["unit"]) else str(r["unit"]),
                actual=float(r["actual"]),
                target=float(r["target"]),
                amber=None if pd.isna(r["amber"]) else float(r["amber"]),
                direction=str(r["direction"]),
                previous=None if pd.isna(r["previous"]) else float(r["previous"]),
            )
            f = save_finding_figure(ctx, f, f"target_gap_{slug(str(f.metric))}", chart)
        findings.append(assess(f, inputs.card))
    return findings


#: Daily series tested for a trend, and for level shifts (over the previous cycle too).
TREND_COLUMNS = ("requests", "incidents", "latency_p95_ms")
SHIFT_COLUMNS = ("requests", "latency_p95_ms", "peak_utilisation", "incidents", "downtime_min")


def analyse_trends(
    ctx: StepContext, inputs: Inputs, shifts: list[Finding] | None = None
) -> list[Finding]:
    """A seasonal (weekly) Mann-Kendall trend test on each daily series present.

    One explanation per series: when ``shifts`` (the change points of
    :func:`analyse_change_points`, worked out here when not given) holds a level
    shift inside this cycle, the trend is tested on the days since the last one
    only (:func:`~csi_helpers.analysis.explanation.trend_or_shift`). A series no
    source feeds (its column absent, or missing every day) is skipped: step 2
    already reports that gap.
    """
    from csi_helpers.analysis.explanation import shifts_within, trend_or_shift
    from csi_helpers.analysis.trend import trend_test

    if shifts is None:
        shifts = [
            f for c in TREND_COLUMNS if present(inputs.history, c) for f in _shifts(ctx, inputs, c)
        ]
    start, end = (t.tz_localize(None) for t in ctx.params.cycle_window())
    findings = []
    daily = inputs.daily
    for column in TREND_COLUMNS:
        if not present(daily, column):
            continue
        metric, unit = DAILY_SERIES[column]
        series = covered_part(inputs, column, daily_column(daily, column))
        options = {"period": 7, "alpha": ctx.params.analysis.alpha, "metric": metric, "unit": unit}
        inside = shifts_within((f for f in shifts if f.metric == metric), start, end)
        for f in guarded(
            "trend", metric, trend_or_shift, series, inside, partial(trend_test, **options)
        ):
            if f.is_finding:  # a chart no finding shows is not drawn
                fig = charts.trend_chart(series, title=metric.capitalize(), slope_per_day=f.effect)
                f = save_finding_figure(ctx, f, f"trend_{column}", fig)
            findings.append(assess(with_coverage(f, inputs, column), inputs.card, series=column))
    return findings


def _shifts(ctx: StepContext, inputs: Inputs, column: str) -> list[Finding]:
    """The change-point findings of one daily series over the previous cycle and this one."""
    from csi_helpers.analysis.changepoint import change_points

    a = ctx.params.analysis
    metric, unit = DAILY_SERIES[column]
    return guarded(
        "change_point",
        metric,
        change_points,
        covered_part(inputs, column, daily_column(inputs.history, column)),
        metric=metric,
        unit=unit,
        alpha=a.alpha,
        n_perm=a.permutations,
        seed=a.seed,
        period=7,
    )


def analyse_change_points(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Shifts in the level of daily series, over the previous cycle and this one."""
    findings = []
    for column in SHIFT_COLUMNS:
        if not present(inputs.history, column):
            continue
        metric, unit = DAILY_SERIES[column]
        series = covered_part(inputs, column, daily_column(inputs.history, column))
        found = _shifts(ctx, inputs, column)
        breaks = [f.evidence["date"] for f in found if f.is_finding]
        path = None  # a chart no finding shows is not drawn
        if breaks:
            fig = charts.change_point_chart(series, breaks, title=metric.capitalize(), unit=unit)
            path = save_figure(ctx, f"change_points_{column}", fig)
        findings += _assessed(found, inputs, series=column, figure=path)
    return findings


def analyse_peaks(ctx: StepContext, inputs: Inputs) -> list[Finding]:
    """Where in the week the request load peaks, with the calendars' events set aside."""
    from csi_helpers.analysis.seasonal_peak import seasonal_peak

    if not present(inputs.hourly, "requests"):
        return []
    windows = [w for kind, w in event_windows(ctx).values() if kind == "calendar"]
    events = pd.concat(windows, ignore_index=True).dropna() if windows else None
    a = ctx.params.analysis
    metric, _ = HOURLY_SERIES["requests"]
    found = guarded(
        "seasonal_peak",
        metric,
        seasonal_peak,
        covered_part(inputs, "requests", hourly_column(inputs, "requests")),
        metric=metric,
        events=events,
        event_label="campaign hours" if events is not None else "known events",
        timezone=ctx.params.service.timezone,
        alpha=a.alpha,
        n_perm=a.permutations,
        n_boot=a.bootstrap,
        seed=a.seed,
    )
    return [assess(f, inputs.card, series="requests") for f in found]


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
        assess(
            with_coverage(f.with_figure(figure) if figure and f.is_finding else f, inputs, series),
            inputs.card,
            series=series,
        )
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
                findings.append(
                    assess(with_coverage(f, inputs, column), inputs.card, series=column)
                )
    return findings


def analyse_forecast(ctx: StepContext, inputs: Inputs, capacity: list[Finding]) -> list[Finding]:
    """When the peak load would reach the usable capacity, with an interval.

    The days of the calendars' events (campaigns) are set aside from the fit.
    """
    from csi_helpers.analysis.forecast import capacity_forecast, forecast_frame

    hourly = inputs.hourly
    if not (present(hourly, "requests") and present(hourly, "capacity")):
        return []
    limit, why = capacity_limit(ctx, capacity)
    frame = hourly.reset_index().rename(columns={"hour": "timestamp"})
    a = ctx.params.analysis
    calendars = [w for kind, w in event_windows(ctx).values() if kind == "calendar"]
    events = pd.concat(calendars, ignore_index=True) if calendars else None
    options = {"threshold": limit, "horizon_days": a.forecast_days, "alpha": a.alpha}
    findings = []
    for f in guarded(
        "capacity_forecast", "peak load", capacity_forecast, frame, events=events, **options
    ):
        if f.is_finding:
            f = save_finding_figure(
                ctx,
                f,
                "capacity_forecast",
                charts.forecast_chart(
                    forecast_frame(frame, horizon_days=a.forecast_days, events=events),
                    usable=f.evidence.get("threshold_level"),
                    limit=limit,
                ),
            )
        f = dataclasses.replace(f, evidence={**f.evidence, "limit_from": why})
        findings.append(
            assess(with_coverage(f, inputs, "requests"), inputs.card, series="requests")
        )
    return findings
