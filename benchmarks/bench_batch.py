"""Time a batch of demo cycles run one at a time and two at a time (`csi batch --jobs`).

Writes ``cycles`` params files from ``params/demo_q2.yaml`` into a temporary
folder, each for its own service id (so its own run id and its own CSI
register, as separate services would have), generates the demo data there
once (not timed), then runs the whole batch with ``--jobs 1`` and with
``--jobs N`` through :func:`csi_helpers.chain.batch.run_batch`, the code ``csi batch``
runs. Prints both wall times and their ratio (target: ≤ 0.6 with 2 jobs).
Figures only; no targets are asserted here.

From another bench script (with ``benchmarks/`` on ``sys.path``)::

    from bench_batch import format_report, run
    print(format_report(run(cycles=20, jobs=2)))
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from csi_helpers.chain.batch import BatchResult, Workspace, plan_batch, run_batch
from csi_helpers.demo import ensure_demo_data
from csi_helpers.params import load_params

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "params" / "demo_q2.yaml"
TARGET = 0.6


def make_cycles(folder: Path, *, cycles: int = 20, template: Path = TEMPLATE) -> list[Path]:
    """Write ``cycles`` params files into ``folder/params`` and the demo data once; their paths.

    The template's relative paths (``../data/demo``, ``../registers``) then
    point into ``folder``.
    """
    params_dir = folder / "params"
    params_dir.mkdir(parents=True, exist_ok=True)
    base = yaml.safe_load(template.read_text(encoding="utf-8"))
    files = []
    for i in range(1, cycles + 1):
        data = dict(base)
        data["service"] = {**base["service"], "id": f"shop{i:02d}", "name": f"ShopFront {i:02d}"}
        data["previous_run"] = None
        path = params_dir / f"shop{i:02d}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        files.append(path)
    demo = load_params(files[0]).demo
    assert demo is not None, f"{template} has no demo section"
    ensure_demo_data(demo.directory, seed=demo.seed)
    return files


def time_batch(files: list[Path], folder: Path, *, jobs: int) -> tuple[float, BatchResult]:
    """Run the batch ``jobs`` at a time into ``folder/jobs-N``; wall seconds and the result."""
    workspace = Workspace.at(folder / f"jobs-{jobs}" / "runs", folder / f"jobs-{jobs}" / "reports")
    planned = plan_batch(files)
    t0 = time.perf_counter()
    result = run_batch(planned, workspace, max_jobs=jobs)
    return time.perf_counter() - t0, result


def run(*, cycles: int = 20, jobs: int = 2, keep: Path | None = None) -> dict[str, Any]:
    """Time the batch serially and ``jobs`` at a time; the figures as a dict.

    Args:
        cycles: number of demo cycles in the batch.
        jobs: cycles run at a time in the parallel run.
        keep: a folder to work in and keep (default: a temporary one, removed).
    """
    folder = keep or Path(tempfile.mkdtemp(prefix="csi-bench-batch-"))
    try:
        files = make_cycles(folder, cycles=cycles)
        serial_s, serial = time_batch(files, folder, jobs=1)
        parallel_s, parallel = time_batch(files, folder, jobs=jobs)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "cycles": cycles,
        "jobs": jobs,
        "serial_s": serial_s,
        "parallel_s": parallel_s,
        "ratio": parallel_s / serial_s,
        "mean_job_s": {
            "serial": _mean_seconds(serial),
            "parallel": _mean_seconds(parallel),
        },
        "not_succeeded": {
            "serial": serial.count("failed") + serial.count("skipped"),
            "parallel": parallel.count("failed") + parallel.count("skipped"),
        },
        "failures": [r.reason for r in (*serial.results, *parallel.results) if r.reason][:3],
        "folder": str(folder) if keep else None,
    }


def _mean_seconds(result: BatchResult) -> float:
    seconds = [r.seconds for r in result.results if r.seconds is not None]
    return sum(seconds) / len(seconds) if seconds else float("nan")


def format_report(result: dict[str, Any]) -> str:
    """The figures as a few lines: both wall times, the ratio, the mean seconds per job."""
    jobs = result["jobs"]
    lines = [
        f"batch of {result['cycles']} demo cycles (csi batch)",
        f"{'way':<12}{'wall s':>9}{'per job s':>11}{'not ok':>8}",
        f"{'--jobs 1':<12}{result['serial_s']:>9.1f}{result['mean_job_s']['serial']:>11.1f}"
        f"{result['not_succeeded']['serial']:>8}",
        f"{f'--jobs {jobs}':<12}{result['parallel_s']:>9.1f}"
        f"{result['mean_job_s']['parallel']:>11.1f}{result['not_succeeded']['parallel']:>8}",
        f"ratio --jobs {jobs} / --jobs 1: {result['ratio']:.2f} "
        f"(target <= {TARGET}: {'met' if result['ratio'] <= TARGET else 'NOT met'})",
    ]
    lines += [f"failure: {reason}" for reason in result["failures"]]
    if result["folder"]:
        lines.append(f"folder: {result['folder']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20, help="demo cycles in the batch")
    parser.add_argument("--jobs", type=int, default=2, help="cycles at a time in the fast run")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    print(format_report(run(cycles=args.cycles, jobs=args.jobs, keep=args.keep)), flush=True)


if __name__ == "__main__":
    main()
