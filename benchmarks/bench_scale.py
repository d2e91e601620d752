"""The whole chain on the large data: `python benchmarks/bench_scale.py [--data DIR]`.

Generates the large data set once (:mod:`generate_large`: 1M tickets, 10M
monitoring samples, 50 services by default; reused when ``DIR/summary.json``
matches the sizes), runs its seven steps with :func:`csi_helpers.chain.runner.run_cycle`
(what `csi run` calls) and prints per step the seconds and the peak resident
memory (RSS, MiB) against the target of 2 GiB per process, and the total.

Memory is sampled every ``--interval`` seconds over this process and all its
children (the step kernels) and put down to the step running at the time; the
figure per step is the largest single process. Where the manifest records the
kernel's own peak (``peak_rss_mib``, read from the kernel's VmHWM) that figure
is shown too; sampling can miss a spike shorter than the interval, VmHWM cannot.
Figures only; no target is asserted. Functions :func:`measure` and
:func:`report` let one bench command call this.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_large import ROWS, SERVICES, TICKETS, generate_large

from csi_helpers.chain.runner import run_cycle
from csi_helpers.demo import DEFAULT_SEED

TARGET_MIB = 2048  # peak RSS per process on the large data
DEFAULT_DATA = Path(tempfile.gettempdir()) / "csi-large"


def ensure_data(
    folder: str | Path,
    *,
    tickets: int = TICKETS,
    rows: int = ROWS,
    services: int = SERVICES,
    seed: int = DEFAULT_SEED,
    fmt: str = "parquet",
) -> tuple[Path, dict[str, Any], float | None]:
    """The large data's params file and summary; generated unless already there.

    Returns the params path, the generator's summary and the seconds generation
    took now (None when the folder's data was reused).
    """
    folder = Path(folder)
    summary_path = folder / "summary.json"
    wanted = {"seed": seed, "format": fmt, "services": services}
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        sizes = summary.get("rows", {})
        same = all(summary.get(k) == v for k, v in wanted.items()) and (
            sizes.get("monitoring"),
            sizes.get("incidents"),
        ) == (rows, tickets)
        if same and (folder / summary["params"]).is_file():
            return folder / summary["params"], summary, None
    t0 = time.perf_counter()
    summary = generate_large(
        folder, tickets=tickets, rows=rows, services=services, seed=seed, fmt=fmt
    )
    return folder / summary["params"], summary, time.perf_counter() - t0


@dataclass
class PeakSampler:
    """Polls the RSS of this process and its children; keeps the peak per step."""

    interval: float = 0.1
    step: int | None = None
    kernel_peak: dict[int | None, int] = field(default_factory=dict)  # bytes, largest child
    main_peak: dict[int | None, int] = field(default_factory=dict)  # bytes, this process
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> PeakSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def on_progress(self, step: Any, status: str, seconds: float) -> None:
        """run_cycle's progress hook: the step now running (None between steps)."""
        self.step = step.number if status == "running" else None

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            step = self.step
            self._keep(self.main_peak, step, _rss(me))
            try:
                children = me.children(recursive=True)
            except psutil.Error:
                children = []
            self._keep(self.kernel_peak, step, max((_rss(p) for p in children), default=0))
            self._stop.wait(self.interval)

    @staticmethod
    def _keep(book: dict[int | None, int], step: int | None, value: int) -> None:
        if value > book.get(step, 0):
            book[step] = value


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def measure(
    *,
    data: str | Path = DEFAULT_DATA,
    tickets: int = TICKETS,
    rows: int = ROWS,
    services: int = SERVICES,
    seed: int = DEFAULT_SEED,
    fmt: str = "parquet",
    workdir: str | Path | None = None,
    interval: float = 0.1,
    to_step: int = 7,
) -> dict[str, Any]:
    """Run the chain on the large data; return per-step seconds and peak RSS (MiB).

    The run and report folders go to ``workdir`` (a temporary folder, removed
    afterwards, when None).
    """
    params, summary, generated = ensure_data(
        data, tickets=tickets, rows=rows, services=services, seed=seed, fmt=fmt
    )
    scratch = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="csi-scale-"))
    try:
        sampler = PeakSampler(interval=interval)
        t0 = time.perf_counter()
        with sampler:
            result = run_cycle(
                params,
                runs_dir=scratch / "runs",
                reports_dir=scratch / "reports",
                to_step=to_step,
                on_progress=sampler.on_progress,
            )
        wall = time.perf_counter() - t0
    finally:
        if workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
    mib = 1 / 2**20
    steps = []
    for entry in result.manifest["steps"][:to_step]:
        n = entry["number"]
        sampled = max(sampler.kernel_peak.get(n, 0), sampler.main_peak.get(n, 0)) * mib
        steps.append(
            {
                "number": n,
                "key": entry["key"],
                "seconds": entry.get("seconds"),
                "peak_rss_mib": round(sampled),
                "manifest_peak_rss_mib": entry.get("peak_rss_mib"),
            }
        )
    between = max(sampler.main_peak.get(None, 0), sampler.kernel_peak.get(None, 0)) * mib
    return {
        "data": str(data),
        "rows": summary["rows"],
        "services": summary["services"],
        "format": summary["format"],
        "generated_seconds": None if generated is None else round(generated, 1),
        "steps": steps,
        "steps_seconds": round(sum(s["seconds"] or 0 for s in steps), 1),
        "wall_seconds": round(wall, 1),
        "outside_steps_peak_rss_mib": round(between),
        "peak_rss_mib": round(
            max(
                [s["peak_rss_mib"] for s in steps]
                + [s["manifest_peak_rss_mib"] or 0 for s in steps]
                + [between]
            )
        ),
        "target_mib": TARGET_MIB,
    }


def report(figures: dict[str, Any]) -> str:
    """The figures as a table, with the target verdict."""
    rows = figures["rows"]
    lines = [
        f"large data: {rows['incidents']:,} tickets, {rows['monitoring']:,} monitoring rows, "
        f"{figures['services']} services ({figures['format']}, {figures['data']})",
    ]
    if figures["generated_seconds"] is not None:
        lines.append(f"generated in {figures['generated_seconds']:.1f} s (not counted below)")
    lines.append(f"{'step':<16}{'seconds':>9}{'peak RSS MiB':>14}{'(manifest)':>12}")
    for s in figures["steps"]:
        recorded = s["manifest_peak_rss_mib"]
        lines.append(
            f"{s['number']} {s['key']:<14}{s['seconds'] or 0:>9.1f}{s['peak_rss_mib']:>14,}"
            f"{'' if recorded is None else f'{recorded:,.0f}':>12}"
        )
    lines.append(f"{'total (steps)':<16}{figures['steps_seconds']:>9.1f}")
    lines.append(
        f"wall {figures['wall_seconds']:.1f} s (steps + report export + bookkeeping); "
        f"outside the steps {figures['outside_steps_peak_rss_mib']:,} MiB"
    )
    peak, target = figures["peak_rss_mib"], figures["target_mib"]
    verdict = "met" if peak <= target else "NOT met"
    lines.append(f"peak RSS per process {peak:,.0f} MiB vs target ≤ {target:,} MiB: {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="large-data folder")
    parser.add_argument("--tickets", type=int, default=TICKETS)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--services", type=int, default=SERVICES)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--workdir", type=Path, help="keep the run folder here")
    parser.add_argument("--interval", type=float, default=0.1, help="RSS sampling seconds")
    parser.add_argument("--to-step", type=int, default=7, help="stop after this step")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    figures = measure(
        data=args.data,
        tickets=args.tickets,
        rows=args.rows,
        services=args.services,
        fmt=args.format,
        workdir=args.workdir,
        interval=args.interval,
        to_step=args.to_step,
    )
    print(report(figures))
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
