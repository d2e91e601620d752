"""False alarms and power of step 5: `make bench-false-alarms`.

Also ``python benchmarks/bench_false_alarms.py [--quick | --cycles N --seeds N]``.

Builds null cycles of three families (:mod:`null_cycles`: additive noise,
multiplicative noise, an event calendar with no effect), runs steps 4 and 5 on
each as the chain does, and prints per method the share of null cycles with a
false finding next to its alpha, before and after the report-wide error control
(:func:`csi_helpers.analysis.multiplicity.control_report`, applied by
``save_findings``), and the share of cycles with any finding at all. Beside it, a
power table on planted effects the demo does not use: found or not, and whether
the reported location and size contain the truth.

How a cycle runs: a copy of a template run folder (the demo's first cycle, made by
``csi run params/demo_q2.yaml``: its strategy, measurement plan and step 4
ledger) gets the synthetic canonical tables; step 4's functions then write the
KPI values and series, and step 5's ``analyse_*`` functions and ``save_findings``
run on it with figures off (``StepContext.draw_figures``; the chart helpers are
replaced by ones that draw nothing, in the benchmark's processes only). Measurements (KPI
baselines, target gaps, error budgets) are not tests and are not counted.

Targets printed beside the figures: each method's false-finding rate ≤ alpha + 2
points; cycles with any false finding ≤ 10 %; each planted effect found with its
truth inside the interval in ≥ 80 % of seeds. Options: ``--cycles N`` per family
(default 50), ``--seeds N`` per planted effect (default 20), ``--quick`` (4 and 2),
``--jobs`` (default 2), ``--template`` and ``--params``.

A new step-5 analysis is benchmarked by adding its name to :data:`ANALYSES`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from null_cycles import FAMILIES, PLANTS, Cycle, null_cycle, planted_cycle

from csi_helpers import begin_step
from csi_helpers.analysis.findings import Finding
from csi_helpers.analysis.multiplicity import NOT_TESTS, analysis_of
from csi_helpers.steps import analyse, process
from csi_helpers.tables import catalogue

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "runs" / "shopfront-2026q2"
PARAMS = REPO / "params" / "demo_q2.yaml"
TABLES = ("monitoring", "incidents", "outages", "campaigns", "changes", "csat")
KEEP = ("strategy", "measurement", "process")  # what step 5 reads besides the new tables

#: Step 5's analyses as the notebook calls them, in its order.
ANALYSES = (
    "analyse_kpis",
    "analyse_change_points",
    "analyse_trends",
    "analyse_peaks",
    "analyse_ticket_kpis",
    "analyse_anomalies",
    "analyse_capacity",
    "analyse_events",
    "analyse_drivers",
    "analyse_forecast",
    "analyse_error_budgets",
)
#: The analyses whose findings a later one takes, as the notebook passes them.
TAKES = {"analyse_trends": "analyse_change_points", "analyse_forecast": "analyse_capacity"}
MEASUREMENTS = NOT_TESTS - {"capacity_forecast"}  # the forecast's growth claim can be false
#: Every null family has a weekday × hour profile: its weekly peak is true, not a false alarm.
NOT_FALSE = MEASUREMENTS | {"seasonal_peak"}


def templates(run: Path) -> dict[str, pd.DataFrame]:
    """The template run's canonical tables (their types; the tickets to copy)."""
    return {name: pd.read_parquet(run / f"process/tables/{name}.parquet") for name in TABLES}


def run_cycle(cycle: Cycle, *, template: Path, params: Path, workdir: Path) -> list[list[Finding]]:
    """Steps 4 and 5 on one cycle's tables; the records before and after ``save_findings``."""
    run = workdir / "run"
    shutil.rmtree(run, ignore_errors=True)
    for part in KEEP:
        shutil.copytree(template / part, run / part)
    ledger = pd.read_parquet(template / f"{catalogue.LEDGER}.parquet")
    ctx = begin_step(4, run_dir=run, params_path=params)
    ctx.draw_figures = False
    for name, table in cycle.tables.items():
        ctx.write_table(f"tables/{name}", table)
    ctx.write_table("ledger", ledger)
    process.data_coverage(ctx, ledger)
    process.kpi_values(ctx, ctx.read_table(catalogue.MEASUREMENT_PLAN), ledger)
    process.daily_series(ctx)
    process.ticket_summaries(ctx)
    process.hourly_series(ctx)
    process.weekday_hour_profile(ctx)
    ctx = begin_step(5, run_dir=run, params_path=params)
    ctx.draw_figures = False
    card = analyse.scorecard(ctx, None)
    inputs = analyse.load_inputs(ctx, card, None)
    records: list[Finding] = []
    found: dict[str, list[Finding]] = {}
    for name in ANALYSES:
        extra = (found[TAKES[name]],) if name in TAKES else ()
        found[name] = getattr(analyse, name)(ctx, inputs, *extra)
        records += found[name]
    return [records, analyse.save_findings(ctx, records)]


def false_findings(records: list[Finding]) -> set[str]:
    """The methods with at least one finding among ``records`` (measurements aside)."""
    return {f.kind for f in records if f.is_finding and f.kind not in NOT_FALSE}


def no_charts() -> None:
    """Draw no chart in this process: every chart helper returns None (findings only)."""
    from csi_helpers.report import charts

    for name in [n for n in vars(charts) if n.endswith("_chart")]:
        setattr(charts, name, lambda *args, **options: None)


def null_task(family: str, seed: int, template: Path, params: Path) -> dict[str, Any]:
    """One null cycle: which methods fired, before and after the report-wide control."""
    no_charts()
    with tempfile.TemporaryDirectory(prefix="csi-null-") as tmp:
        cycle = null_cycle(family, seed, templates(template))
        raw, controlled = run_cycle(cycle, template=template, params=params, workdir=Path(tmp))
    methods = {analysis_of(f) for f in raw if analysis_of(f) not in NOT_FALSE}
    return {
        "family": family,
        "ran": sorted(methods),
        "raw": sorted(false_findings(raw)),
        "controlled": sorted(false_findings(controlled)),
    }


def power_task(plant: str, seed: int, template: Path, params: Path) -> dict[str, Any]:
    """One planted cycle: found, and whether location and size hold the truth."""
    no_charts()
    with tempfile.TemporaryDirectory(prefix="csi-power-") as tmp:
        cycle = planted_cycle(plant, seed, templates(template))
        _, controlled = run_cycle(cycle, template=template, params=params, workdir=Path(tmp))
    return {"plant": plant, **CHECKS[plant](controlled, cycle.truth)}


def _verdict(
    hits: list[Finding], located: Callable[[Finding], bool], sized: Callable[[Finding], bool]
) -> dict[str, Any]:
    return {
        "available": True,
        "found": bool(hits),
        "located": any(located(f) for f in hits),
        "sized": any(located(f) and sized(f) for f in hits),
    }


def _inside(f: Finding, value: float) -> bool:
    return f.ci_low is not None and f.ci_high is not None and f.ci_low <= value <= f.ci_high


def _days_off(f: Finding, when: pd.Timestamp) -> float:
    date = f.evidence.get("date")
    return abs((pd.Timestamp(date) - when.tz_localize(None)).days) if date else float("inf")


def check_knee(records: list[Finding], truth: dict[str, Any]) -> dict[str, Any]:
    hits = [
        f for f in records if f.is_finding and f.kind == "capacity_threshold" and "latency" in f.id
    ]
    ev = lambda f, k: f.evidence.get(k) or float("nan")  # noqa: E731
    return _verdict(
        hits,
        lambda f: ev(f, "threshold_ci_low") <= truth["location"] <= ev(f, "threshold_ci_high"),
        lambda f: _inside(f, truth["size"]),
    )


def check_incident_step(records: list[Finding], truth: dict[str, Any]) -> dict[str, Any]:
    hits = [
        f
        for f in records
        if f.is_finding and f.kind == "change_point" and f.metric == "daily incidents"
    ]
    return _verdict(
        hits, lambda f: _days_off(f, truth["location"]) <= 3, lambda f: _inside(f, truth["size"])
    )


def check_mttr(records: list[Finding], truth: dict[str, Any]) -> dict[str, Any]:
    asked = [
        f for f in records
        if analysis_of(f) not in MEASUREMENTS  # the MTTR KPI's own baseline is no test
        and any(k in f.metric.lower() for k in ("mttr", "time to resolve"))
    ]  # fmt: skip
    if not asked:
        return {"available": False, "found": False, "located": False, "sized": False}
    hits = [f for f in asked if f.is_finding]
    size = lambda f: _inside(f, truth["relative"] if f.unit in ("fraction", "%") else truth["size"])  # noqa: E731
    return _verdict(hits, lambda f: _days_off(f, truth["location"]) <= 7, size)


def check_campaign_errors(records: list[Finding], truth: dict[str, Any]) -> dict[str, Any]:
    hits = [
        f for f in records
        if f.is_finding and f.kind == "event_impact" and f.metric == "error rate"
        and f.scope.get("events") == "campaigns"
    ]  # fmt: skip
    return _verdict(hits, lambda f: True, lambda f: _inside(f, truth["size"]))


def check_load_drop(records: list[Finding], truth: dict[str, Any]) -> dict[str, Any]:
    first, last = truth["location"]
    hits = [
        f for f in records if f.is_finding and f.kind == "anomaly" and f.metric == "request load"
    ]

    def located(f: Finding) -> bool:
        start, end = pd.Timestamp(f.evidence["start"]), pd.Timestamp(f.evidence["end"])
        return start < last and end >= first

    def sized(f: Finding) -> bool:  # the episode's effect is its mean over its hours
        hours = pd.date_range(f.evidence["start"], f.evidence["end"], freq="h")
        return _inside(f, float(np.mean([truth["size"].get(h, 0.0) for h in hours])))

    return _verdict(hits, located, sized)


CHECKS = {
    "latency knee at 60 % utilisation": check_knee,
    "step in daily incidents (+50 %)": check_incident_step,
    "MTTR jump (×1.6)": check_mttr,
    "error rate +50 % during campaigns": check_campaign_errors,
    "load halved on one day": check_load_drop,
}


def false_alarm_table(results: list[dict[str, Any]], alpha: float) -> pd.DataFrame:
    """Per method and family: share of null cycles with a false finding, before and after
    the report-wide control."""
    rows = []
    methods = sorted({m for r in results for m in r["ran"]})
    for family in (*FAMILIES, "all"):
        runs = [r for r in results if family in ("all", r["family"])]
        for method in (*methods, "any method"):
            fired = {
                key: [bool(r[key]) if method == "any method" else method in r[key] for r in runs]
                for key in ("raw", "controlled")
            }
            target = 0.10 if method == "any method" else alpha + 0.02
            rows.append(
                {
                    "family": family,
                    "method": method,
                    "cycles": len(runs),
                    "alpha": alpha if method != "any method" else None,
                    "before control": _share(fired["raw"]),
                    "after control": _share(fired["controlled"]),
                    "target ≤": target,
                    "met": _share(fired["controlled"]) <= target,
                }
            )
    return pd.DataFrame(rows)


def power_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Per planted effect: share of seeds found, located, and with the size inside the interval."""
    rows = []
    for plant in PLANTS:
        runs = [r for r in results if r["plant"] == plant]
        if not all(r["available"] for r in runs):
            rows.append(
                {"planted effect": plant, "seeds": len(runs), "found": "method not available"}
            )
            continue
        found, located, sized = (
            _share([r[k] for r in runs]) for k in ("found", "located", "sized")
        )
        rows.append(
            {
                "planted effect": plant,
                "seeds": len(runs),
                "found": found,
                "location holds truth": located,
                "location and size hold truth": sized,
                "met (≥ 80 %)": sized >= 0.8,
            }
        )
    return pd.DataFrame(rows)


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def run_benchmark(
    *, cycles: int, seeds: int, jobs: int, template: Path, params: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every null cycle and planted seed on ``jobs`` processes; the two tables."""
    from csi_helpers.params import load_params

    alpha = load_params(params).analysis.alpha
    nulls = [
        (fam, 1000 * i + k, template, params)
        for k, fam in enumerate(FAMILIES)
        for i in range(cycles)
    ]
    plants = [(plant, 5000 + s, template, params) for plant in PLANTS for s in range(seeds)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        null_results = list(pool.map(null_task, *zip(*nulls, strict=True)))
        power_results = list(pool.map(power_task, *zip(*plants, strict=True))) if plants else []
    return false_alarm_table(null_results, alpha), power_table(power_results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50, help="null cycles per family")
    parser.add_argument("--seeds", type=int, default=20, help="seeds per planted effect")
    parser.add_argument("--quick", action="store_true", help="4 cycles per family, 2 seeds")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--template", type=Path, default=TEMPLATE, help="a finished run of the params"
    )
    parser.add_argument("--params", type=Path, default=PARAMS, help="the template run's params")
    args = parser.parse_args(argv)
    if not (args.template / "process").is_dir():
        print(
            f"{args.template}: no step 4 output; run `csi run {args.params}` first", file=sys.stderr
        )
        return 2
    cycles, seeds = (4, 2) if args.quick else (args.cycles, args.seeds)
    began = time.perf_counter()
    false_alarms, power = run_benchmark(
        cycles=cycles,
        seeds=seeds,
        jobs=args.jobs,
        template=args.template.resolve(),
        params=args.params.resolve(),
    )
    with pd.option_context(
        "display.width", 200, "display.max_rows", 200, "display.float_format", "{:.3f}".format
    ):
        print("False findings on null cycles (share of cycles with a finding of the method)")
        print(false_alarms.to_string(index=False))
        print("\nPower on planted effects (share of seeds)")
        print(power.to_string(index=False))
    print(f"\n{cycles} null cycles per family, {seeds} seeds per planted effect, {args.jobs} jobs, "
          f"{time.perf_counter() - began:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
