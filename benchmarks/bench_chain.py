"""Time the demo chain three ways, side by side: `python benchmarks/bench_chain.py`.

In one run, on the same notebooks and demo data (generated into a temporary
folder first, not timed), wall-clock seconds of:

1. ``csi run``: the command line, as a subprocess (one cycle by default, the
   baseline cycle ``demo_q2.yaml``; ``--cycles both`` adds ``demo.yaml``, which
   compares with it);
2. the CLI chain: the same seven notebooks as seven ``papermill`` CLI calls plus
   two ``jupyter nbconvert --to html --no-input`` calls;
3. the floor: seven notebooks holding only the steps' import statements, run in
   ONE kernel, with the two reports exported in-process.

and the ratios csi/CLI (target ≤ 0.4) and csi/floor (target ≤ 1.5). Two
reference rows, not targets, show where the time goes (skip them with
``--no-reference``): the same seven notebooks in one process with a fresh kernel
started per step and nothing ahead (``run_cycle(prestart=False)``, the runner
before kernels were started ahead), and the seven real notebooks in one shared
kernel (what a chain costs without fresh kernels; not allowed for real runs).

Figures only; nothing is asserted. Call :func:`measure` for the numbers.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill
from nbformat.v4 import new_code_cell, new_notebook

from csi_helpers.demo import ensure_demo_data
from csi_helpers.kernel import KERNEL_NAME
from csi_helpers.kernel_engine import ENGINE_NAME
from csi_helpers.kernel_pool import KernelPool
from csi_helpers.manifest import read_manifest
from csi_helpers.params import load_params
from csi_helpers.paths import notebooks_dir
from csi_helpers.report import export_html
from csi_helpers.runner import run_cycle
from csi_helpers.steps import REPORT_STEPS, STEPS

REPO = Path(__file__).resolve().parents[1]
CYCLES = {"one": ("demo_q2.yaml",), "both": ("demo_q2.yaml", "demo.yaml")}
STEP_FIELDS = ("number", "key", "seconds", "peak_rss_mib")
TARGET_VS_CLI = 0.4
TARGET_VS_FLOOR = 1.5
BIN = Path(sys.executable).parent


@dataclass
class ChainFigures:
    """Wall-clock seconds of each way of running the chain (None: not measured)."""

    cycles: tuple[str, ...]
    csi_run: float
    cli_chain: float
    floor: float
    fresh_kernels: float | None = None
    shared_kernel: float | None = None
    csi_steps: list[dict[str, Any]] = field(default_factory=list)
    """Per step of the ``csi run`` cycles: run, step, seconds, peak_rss_mib (manifest)."""

    @property
    def csi_vs_cli(self) -> float:
        return self.csi_run / self.cli_chain

    @property
    def csi_vs_floor(self) -> float:
        return self.csi_run / self.floor


def prepare(root: Path, cycles: tuple[str, ...]) -> list[Path]:
    """Copy the demo params into ``root/params`` and generate their data (untimed)."""
    (root / "params").mkdir(parents=True)
    paths = []
    for name in cycles:
        shutil.copy(REPO / "params" / name, root / "params" / name)
        paths.append(root / "params" / name)
    demo = load_params(paths[0]).demo
    ensure_demo_data(demo.directory, seed=demo.seed)
    return paths


def call(cmd: list[str]) -> None:
    """Run a command; on failure raise with the end of its stderr."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed:\n{done.stderr[-3000:]}")


def timed(label: str, work: Callable[[], object]) -> float:
    """Seconds ``work`` takes; noted on stderr as it ends."""
    t0 = time.perf_counter()
    work()
    seconds = time.perf_counter() - t0
    print(f"  {label}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def run_csi(params: list[Path], out: Path) -> None:
    """``csi run`` per cycle, as an operator types it."""
    for path in params:
        call(
            [
                str(BIN / "csi"),
                "run",
                str(path),
                "--runs-dir",
                str(out / "runs"),
                "--reports-dir",
                str(out / "reports"),
            ]
        )


def run_cli_chain(params: list[Path], out: Path) -> None:
    """Seven ``papermill`` calls and two ``jupyter nbconvert`` calls per cycle."""
    nb_dir = notebooks_dir()
    for path in params:
        run_dir = out / "runs" / load_params(path).default_run_id
        (run_dir / "notebooks").mkdir(parents=True)
        for s in STEPS:
            call(
                [
                    str(BIN / "papermill"),
                    str(nb_dir / s.notebook),
                    str(run_dir / "notebooks" / s.notebook),
                    "-p",
                    "run_dir",
                    str(run_dir),
                    "-p",
                    "params_path",
                    str(path),
                    "-k",
                    KERNEL_NAME,
                    "--cwd",
                    str(nb_dir),
                    "--no-progress-bar",
                ],
            )
        for number in REPORT_STEPS:
            call(
                [
                    str(BIN / "jupyter"),
                    "nbconvert",
                    "--to",
                    "html",
                    "--no-input",
                    "--output-dir",
                    str(out / "reports" / run_dir.name),
                    str(run_dir / "notebooks" / STEPS[number - 1].notebook),
                ],
            )


def import_only_notebooks(folder: Path) -> Path:
    """Seven notebooks holding only the import statements of the step notebooks."""
    folder.mkdir(parents=True)
    for s in STEPS:
        nb = nbformat.read(notebooks_dir() / s.notebook, as_version=4)
        lines = []
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Import | ast.ImportFrom):
                    lines.append(ast.unparse(node))
        out = new_notebook(cells=[new_code_cell("\n".join(lines))])
        out.metadata = nb.metadata
        nbformat.write(out, folder / s.notebook)
    return folder


def run_in_one_kernel(
    notebooks: Path, params: list[Path], out: Path, *, parameters: bool = True
) -> None:
    """Every cycle's seven notebooks in ONE kernel, reports exported in-process."""
    with KernelPool() as pool:
        km = pool.start(cwd=notebooks, stderr_log=out / "kernel.log").result()
        for path in params:
            run_id = load_params(path).default_run_id
            run_dir = out / "runs" / run_id
            for s in STEPS:
                target = run_dir / "notebooks" / s.notebook
                target.parent.mkdir(parents=True, exist_ok=True)
                papermill.execute_notebook(
                    str(notebooks / s.notebook),
                    str(target),
                    parameters={"run_dir": str(run_dir), "params_path": str(path)}
                    if parameters
                    else None,
                    engine_name=ENGINE_NAME,
                    km=km,
                    kernel_name=KERNEL_NAME,
                    progress_bar=False,
                    cwd=str(notebooks),
                )
                if s.number in REPORT_STEPS:
                    export_html(
                        target,
                        out / "reports" / run_id / REPORT_STEPS[s.number],
                        title=s.title,
                        service="bench",
                        period="bench",
                        run_id=run_id,
                    )


def run_fresh_kernels(params: list[Path], out: Path) -> None:
    """The runner with a fresh kernel started when each step begins (nothing ahead)."""
    for path in params:
        run_cycle(path, runs_dir=out / "runs", reports_dir=out / "reports", prestart=False)


def measure(*, cycles: str = "one", reference: bool = True) -> ChainFigures:
    """Run every variant once on fresh demo data; return the seconds."""
    root = Path(tempfile.mkdtemp(prefix="csi-bench-chain-"))
    try:
        params = prepare(root, CYCLES[cycles])
        floor_nbs = import_only_notebooks(root / "floor-notebooks")
        figures = ChainFigures(
            cycles=CYCLES[cycles],
            csi_run=timed("csi run", lambda: run_csi(params, root / "csi")),
            cli_chain=timed("CLI chain", lambda: run_cli_chain(params, root / "cli")),
            floor=timed(
                "floor",
                lambda: run_in_one_kernel(floor_nbs, params, root / "floor", parameters=False),
            ),
        )
        for path in params:
            manifest = read_manifest(root / "csi" / "runs" / load_params(path).default_run_id)
            figures.csi_steps += [
                {"run": manifest["run_id"], **{k: e.get(k) for k in STEP_FIELDS}}
                for e in manifest["steps"]
            ]
        if reference:
            figures.fresh_kernels = timed(
                "fresh kernels", lambda: run_fresh_kernels(params, root / "fresh")
            )
            figures.shared_kernel = timed(
                "shared kernel",
                lambda: run_in_one_kernel(notebooks_dir(), params, root / "shared"),
            )
        return figures
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(figures: ChainFigures) -> str:
    """The figures as a small table with the ratios and their targets."""
    rows = [
        ("csi run (CLI; fresh kernel per step, forked, warmed ahead)", figures.csi_run),
        ("CLI chain: 7 papermill + 2 nbconvert calls", figures.cli_chain),
        ("floor: imports only, one kernel, in-process export", figures.floor),
    ]
    if figures.fresh_kernels is not None:
        rows.append(("ref: run_cycle(prestart=False), plain kernels", figures.fresh_kernels))
    if figures.shared_kernel is not None:
        rows.append(("ref: real notebooks in one shared kernel", figures.shared_kernel))
    lines = [f"demo chain, cycles: {', '.join(figures.cycles)}"]
    lines += [f"  {label:<55}{seconds:>8.1f} s" for label, seconds in rows]
    for name, ratio, target in (
        ("csi / CLI chain", figures.csi_vs_cli, TARGET_VS_CLI),
        ("csi / floor", figures.csi_vs_floor, TARGET_VS_FLOOR),
    ):
        verdict = "met" if ratio <= target else "NOT met"
        lines.append(f"  {name:<55}{ratio:>8.2f}   target ≤ {target} ({verdict})")
    if figures.csi_steps:
        lines.append("  csi run per step (manifest; seconds include waiting for the kernel)")
        for e in figures.csi_steps:
            label = f"{e['run']} {e['number']} {e['key']}"
            lines.append(f"    {label:<53}{e['seconds']:>8.1f} s {e['peak_rss_mib']:>8.0f} MiB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", choices=sorted(CYCLES), default="one")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference rows")
    args = parser.parse_args()
    print(report(measure(cycles=args.cycles, reference=not args.no_reference)))


if __name__ == "__main__":
    main()
