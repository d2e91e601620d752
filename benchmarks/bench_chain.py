"""Time the chain of seven steps several ways, side by side: `python benchmarks/bench_chain.py`.

On the demo data (generated into a temporary folder first, not timed), two
workloads, each run three ways, wall-clock seconds:

* workloads: the seven notebooks holding only the steps' import statements
  (what the issue's targets were set on: "seven notebooks with the usual
  imports"), and the workbook's real step notebooks (the demo chain);
* ways: ``csi run`` (the command line, as a subprocess); the CLI chain (seven
  ``papermill`` CLI calls plus two ``jupyter nbconvert --to html --no-input``
  calls); and all seven notebooks in ONE kernel with the reports exported
  in-process. One kernel on the import-only notebooks is the floor; on the real
  notebooks it is what the chain would cost without fresh kernels (not allowed
  for real runs: a step must never see another step's variables).

Then the ratios with their targets: csi/CLI (≤ 0.4) and csi/one kernel (≤ 1.5),
for both workloads, plus the real chain against the import-only floor, which
holds none of the steps' own work (reading, checking, aggregating, the
analyses' permutations and bootstraps, the charts). Per step of the real
``csi run``: seconds and peak RSS from its manifest. ``--reference`` adds the
runner with a plain kernel started as each step begins (``prestart=False``).

One cycle by default (``demo_q2.yaml``); ``--cycles both`` adds ``demo.yaml``,
which compares with it. Figures only; nothing is asserted. Call
:func:`measure` for the numbers.
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

from csi_helpers.chain.kernels.engine import ENGINE_NAME, register_engine
from csi_helpers.chain.kernels.pool import KernelPool
from csi_helpers.chain.kernels.spec import KERNEL_NAME
from csi_helpers.chain.runner import run_cycle
from csi_helpers.demo import ensure_demo_data
from csi_helpers.params import load_params
from csi_helpers.report.html import export_html
from csi_helpers.runfolder.layout import REPORT_STEPS, STEPS
from csi_helpers.runfolder.manifest import read_manifest
from csi_helpers.runfolder.paths import notebooks_dir

REPO = Path(__file__).resolve().parents[1]
CYCLES = {"one": ("demo_q2.yaml",), "both": ("demo_q2.yaml", "demo.yaml")}
STEP_FIELDS = ("number", "key", "seconds", "peak_rss_mib")
TARGET_VS_CLI = 0.4
TARGET_VS_FLOOR = 1.5
BIN = Path(sys.executable).parent


WORKLOADS = ("import-only notebooks", "demo notebooks")


@dataclass
class Workload:
    """Wall-clock seconds of one workload run three ways."""

    csi_run: float
    cli_chain: float
    one_kernel: float

    @property
    def csi_vs_cli(self) -> float:
        return self.csi_run / self.cli_chain

    @property
    def csi_vs_one_kernel(self) -> float:
        return self.csi_run / self.one_kernel


@dataclass
class ChainFigures:
    """The two workloads' figures (keys of :data:`WORKLOADS`) and the real run's steps."""

    cycles: tuple[str, ...]
    workloads: dict[str, Workload]
    plain_kernels: float | None = None
    """``run_cycle(prestart=False)`` on the real notebooks (``--reference``)."""
    csi_steps: list[dict[str, Any]] = field(default_factory=list)
    """Per step of the real ``csi run`` cycles: run, step, seconds, peak_rss_mib (manifest)."""

    @property
    def floor(self) -> float:
        return self.workloads[WORKLOADS[0]].one_kernel

    @property
    def demo_vs_floor(self) -> float:
        return self.workloads[WORKLOADS[1]].csi_run / self.floor


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


def timed(label: str, work: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """Seconds ``work(*args, **kwargs)`` takes; noted on stderr as it ends."""
    t0 = time.perf_counter()
    work(*args, **kwargs)
    seconds = time.perf_counter() - t0
    print(f"  {label}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def run_csi(params: list[Path], out: Path, notebooks: Path | None = None) -> None:
    """``csi run`` per cycle, as an operator types it (of other notebooks if given)."""
    own = ["--notebooks", str(notebooks)] if notebooks else []
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
                *own,
            ]
        )


def run_cli_chain(params: list[Path], out: Path, notebooks: Path) -> None:
    """Seven ``papermill`` calls and two ``jupyter nbconvert`` calls per cycle."""
    nb_dir = notebooks
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
    """Every cycle's seven notebooks in ONE kernel, reports exported in-process.

    ``parameters=False`` for the import-only notebooks, which have no parameters cell.
    """
    register_engine()
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


def measure(*, cycles: str = "one", reference: bool = False) -> ChainFigures:
    """Run both workloads three ways on fresh demo data; return the seconds."""
    root = Path(tempfile.mkdtemp(prefix="csi-bench-chain-"))
    try:
        params = prepare(root, CYCLES[cycles])
        notebooks = {
            WORKLOADS[0]: import_only_notebooks(root / "import-only"),
            WORKLOADS[1]: notebooks_dir(),
        }
        figures = ChainFigures(cycles=CYCLES[cycles], workloads={})
        for n, (name, folder) in enumerate(notebooks.items()):
            out = root / f"w{n}"
            figures.workloads[name] = Workload(
                csi_run=timed(f"{name}: csi run", run_csi, params, out / "csi", folder),
                cli_chain=timed(f"{name}: CLI chain", run_cli_chain, params, out / "cli", folder),
                one_kernel=timed(
                    f"{name}: one kernel",
                    run_in_one_kernel,
                    folder,
                    params,
                    out / "one",
                    parameters=n > 0,
                ),
            )
        real = root / "w1" / "csi" / "runs"
        for path in params:
            manifest = read_manifest(real / load_params(path).default_run_id)
            figures.csi_steps += [
                {"run": manifest["run_id"], **{k: e.get(k) for k in STEP_FIELDS}}
                for e in manifest["steps"]
            ]
        if reference:
            figures.plain_kernels = timed(
                "plain kernels", run_fresh_kernels, params, root / "plain"
            )
        return figures
    finally:
        shutil.rmtree(root, ignore_errors=True)


def report(figures: ChainFigures) -> str:
    """The figures as a small table with the ratios and their targets."""
    a, b = (figures.workloads[w] for w in WORKLOADS)
    lines = [
        f"chain of the seven steps, cycles: {', '.join(figures.cycles)}",
        f"{'':<52}{'import-only':>11}{'demo':>12}",
        f"{'':<52}{'notebooks':>11}{'notebooks':>12}",
    ]

    def row(label: str, x: float, y: float, ratio: bool = False) -> str:
        if ratio:
            return f"  {label:<50}{x:>11.2f}  {y:>8.2f}"
        return f"  {label:<50}{x:>11.1f} s{y:>8.1f} s"

    lines += [
        row("csi run (fresh kernel per step, forked, ahead)", a.csi_run, b.csi_run),
        row("CLI chain: 7 papermill + 2 nbconvert calls", a.cli_chain, b.cli_chain),
        row("one kernel, in-process export (import-only: floor)", a.one_kernel, b.one_kernel),
    ]
    if figures.plain_kernels is not None:
        lines.append(
            f"  {'ref: run_cycle(prestart=False), plain kernels':<50}{'':>13}"
            f"{figures.plain_kernels:>8.1f} s"
        )
    for label, x, y, target in (
        ("csi / CLI chain", a.csi_vs_cli, b.csi_vs_cli, TARGET_VS_CLI),
        ("csi / one kernel", a.csi_vs_one_kernel, b.csi_vs_one_kernel, TARGET_VS_FLOOR),
    ):
        verdict = "/".join("met" if r <= target else "NOT met" for r in (x, y))
        lines.append(row(label, x, y, ratio=True) + f"    target ≤ {target} ({verdict})")
    lines.append(
        f"  {'demo csi run / import-only floor':<50}{'':>13}{figures.demo_vs_floor:>8.2f}"
        f"    target ≤ {TARGET_VS_FLOOR} "
        f"({'met' if figures.demo_vs_floor <= TARGET_VS_FLOOR else 'NOT met'}; "
        "the floor holds none of the steps' own work)"
    )
    if figures.csi_steps:
        lines.append("  demo csi run per step (manifest; seconds include waiting for the kernel)")
        for e in figures.csi_steps:
            label = f"{e['run']} {e['number']} {e['key']}"
            lines.append(f"    {label:<48}{e['seconds']:>8.1f} s {e['peak_rss_mib']:>8.0f} MiB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", choices=sorted(CYCLES), default="one")
    parser.add_argument(
        "--reference", action="store_true", help="add the runner with plain kernels"
    )
    args = parser.parse_args()
    print(report(measure(cycles=args.cycles, reference=args.reference)))


if __name__ == "__main__":
    main()
