"""Step 5 orchestration: run the analysis methods on the cycle and keep their evidence.

Each function runs one family of methods on what step 4 wrote, saves a figure
per finding into the run folder and returns the findings with the figure's path.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers import charts
from csi_helpers.analysis import Finding
from csi_helpers.analysis.capacity import capacity_threshold
from csi_helpers.analysis.trend import trend_test
from csi_helpers.canonical import cycle_window
from csi_helpers.runfolder import StepContext

TREND_SERIES = {  # daily series column -> (metric name, unit)
    "requests": ("daily requests", "requests/day"),
    "incidents": ("daily incidents", "incidents/day"),
    "latency_p95_ms": ("daily p95 latency", "ms"),
}


def analyse_trends(ctx: StepContext, daily: pd.DataFrame) -> list[Finding]:
    """A seasonal (weekly) Mann-Kendall trend test on each daily KPI series present.

    A series no source feeds (its column absent, or missing every day, e.g. latency
    when the monitoring export has none) is skipped: step 2 already reports that gap.
    """
    findings = []
    for column, (metric, unit) in TREND_SERIES.items():
        if column not in daily or daily[column].isna().all():
            continue
        series = daily.set_index("day")[column].astype(float)
        finding = trend_test(
            series, period=7, alpha=ctx.params.analysis.alpha, metric=metric, unit=unit
        )
        slope = finding.effect if finding.is_finding else None
        fig = charts.trend_chart(series, title=metric.capitalize(), slope_per_day=slope)
        path = ctx.save_figure(f"trend_{column}", fig)
        findings.append(finding.with_figure(_rel(ctx, path)))
    return findings


def hourly_monitoring(ctx: StepContext) -> pd.DataFrame | None:
    """The cycle's hourly monitoring samples, when a monitoring source is configured."""
    sources = ctx.params.sources_of_kind("monitoring")
    if not sources:
        return None
    start, end = cycle_window(ctx.params)
    frame = ctx.read_table(f"process/tables/{sources[0].name}")
    frame = frame[(frame["timestamp"] >= start) & (frame["timestamp"] < end)]
    return frame.astype({c: float for c in ("utilisation", "latency_p95_ms")})


def analyse_capacity(ctx: StepContext) -> list[Finding]:
    """The utilisation at which p95 latency starts rising (segmented regression).

    Skipped when the monitoring table carries no utilisation or no latency at all.
    """
    hourly = hourly_monitoring(ctx)
    if hourly is None or hourly[["utilisation", "latency_p95_ms"]].isna().all().any():
        return []
    a = ctx.params.analysis
    finding = capacity_threshold(
        hourly, x="utilisation", y="latency_p95_ms", n_boot=a.bootstrap, seed=a.seed, alpha=a.alpha
    )
    threshold = finding.evidence.get("threshold") if finding.is_finding else None
    path = ctx.save_figure("capacity_threshold", charts.capacity_chart(hourly, threshold=threshold))
    return [finding.with_figure(_rel(ctx, path))]


def _rel(ctx: StepContext, path) -> str:
    return path.relative_to(ctx.run_dir).as_posix()
