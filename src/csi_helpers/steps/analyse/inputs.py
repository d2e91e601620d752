"""What step 5 reads once, and the guard and figure helpers every analysis shares."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from csi_helpers.analysis.findings import Finding, no_finding
from csi_helpers.errors import DataError, RunFolderError
from csi_helpers.processing.coverage import Covered, coverage_warnings
from csi_helpers.runfolder.context import PreviousRun, StepContext
from csi_helpers.tables import catalogue

__all__ = [
    "DAILY_SERIES",
    "EVENT_SERIES",
    "HOURLY_SERIES",
    "RESPONSES",
    "SHOWN_SCALE",
    "Inputs",
    "covered_part",
    "daily_column",
    "guarded",
    "hourly_column",
    "load_inputs",
    "present",
    "save_figure",
    "save_finding_figure",
    "slug",
    "with_coverage",
]

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

#: Factor from the stored value to the unit shown (error rates and utilisation are fractions).
SHOWN_SCALE = {"error_rate": 100.0, "peak_utilisation": 100.0}

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
    # series column -> the span of the cycle its source covers (step 4's process/coverage)
    coverage: Mapping[str, Covered] = field(default_factory=dict)


def load_inputs(ctx: StepContext, card: pd.DataFrame, previous: PreviousRun | None) -> Inputs:
    """Read step 4's daily and hourly series and coverage, and the previous cycle's daily series.

    A source that covers less than half of the cycle is a warning (``ctx.warn``).
    """
    daily = ctx.read_table(catalogue.DAILY)
    hourly = ctx.read_table(catalogue.HOURLY).set_index("hour")
    history = daily
    if previous is not None and ctx.params.analysis.history:
        try:
            before = previous.read_table(catalogue.DAILY)
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
    return Inputs(card=card, daily=daily, hourly=hourly, history=history, coverage=_coverage(ctx))


def _coverage(ctx: StepContext) -> dict[str, Covered]:
    """Series column -> the span its source covers; warns of a source under half the cycle."""
    start, end = ctx.params.cycle_window()
    timezone = ctx.params.service.timezone
    if not ctx.has(catalogue.COVERAGE):
        ctx.warn("step 4 recorded no data coverage (process/coverage): series taken as whole")
        return {}
    table = ctx.read_table(catalogue.COVERAGE)
    ctx.warn(*coverage_warnings(table, start=start, end=end, timezone=timezone))
    spans = {}
    for row in table.itertuples(index=False):
        if row.series and not pd.isna(row.covered_from):
            covered = Covered(row.covered_from, row.covered_to, start, end, timezone)
            spans |= dict.fromkeys(row.series.split(", "), covered)
    return spans


def covered_part(inputs: Inputs, column: str, series: pd.Series) -> pd.Series:
    """``series`` without the days or hours of this cycle that its source does not cover.

    Days (naive local dates) or hours (UTC) outside this cycle, the previous
    cycle's in a history, are kept.
    """
    covered = inputs.coverage.get(column)
    if covered is None or not covered.partial:
        return series
    bounds = [covered.cycle_start, covered.start, covered.end, covered.cycle_end]
    if series.index.tz is None:
        bounds = [t.tz_convert(covered.timezone).tz_localize(None) for t in bounds]
    when = series.index
    uncovered = (
        (when >= bounds[0]) & (when < bounds[3]) & ((when < bounds[1]) | (when >= bounds[2]))
    )
    return series[~uncovered]


def with_coverage(finding: Finding, inputs: Inputs, column: str) -> Finding:
    """The finding on a series its source covers only in part, saying so.

    The statement ends with where the data start or end ("data end on 22 May; the
    cycle runs to 30 June"); ``evidence["coverage"]`` holds the span and its share.
    """
    covered = inputs.coverage.get(column)
    if covered is None or not covered.partial:
        return finding
    return dataclasses.replace(
        finding,
        statement=f"{finding.statement}; {covered.note()}",
        evidence={**finding.evidence, "coverage": covered.evidence()},
    )


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
    """One daily series, indexed by day, in the unit it is shown in (utilisation in percent)."""
    return daily.set_index("day")[column].astype(float) * SHOWN_SCALE.get(column, 1.0)


def present(frame: pd.DataFrame, column: str) -> bool:
    """Whether ``frame`` has ``column`` with at least one value."""
    return column in frame and frame[column].notna().any()


def save_figure(ctx: StepContext, name: str, figure: Any) -> str | None:
    """Save a figure of step 5; its path relative to the run folder (None: not drawn)."""
    path: Path | None = ctx.save_figure(name, figure)
    return None if path is None else path.relative_to(ctx.run_dir).as_posix()


def save_finding_figure(ctx: StepContext, finding: Finding, name: str, figure: Any) -> Finding:
    """Save ``figure`` and return the finding that points to it."""
    path = save_figure(ctx, name, figure)
    return finding.with_figure(path) if path else finding


def slug(text: str) -> str:
    """``text`` as a file-name part: letters and digits, ``_`` for the rest."""
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()
