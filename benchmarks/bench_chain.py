"""Time the demo chain per step and in total: `make bench` (or `python benchmarks/bench_chain.py`).

Runs the demo's two cycles into a temporary folder (the demo data is generated
there first, and not timed) and prints, per cycle, each step's seconds from the
manifest, the report export, and the wall-clock total. Figures only; no targets
are asserted here.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from csi_helpers.demo import ensure_demo_data
from csi_helpers.params import load_params
from csi_helpers.runner import run_cycle

REPO = Path(__file__).resolve().parents[1]
CYCLES = ("demo_q2.yaml", "demo.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="csi-bench-"))
    (root / "params").mkdir()
    for name in CYCLES:
        shutil.copy(REPO / "params" / name, root / "params" / name)
    demo = load_params(root / "params" / CYCLES[0]).demo
    ensure_demo_data(demo.directory, seed=demo.seed)

    rows = []
    for name in CYCLES:
        t0 = time.perf_counter()
        result = run_cycle(
            root / "params" / name, runs_dir=root / "runs", reports_dir=root / "reports"
        )
        wall = time.perf_counter() - t0
        steps = {s["key"]: s["seconds"] for s in result.manifest["steps"]}
        rows.append((result.run_id, steps, wall))

    keys = list(rows[0][1])
    print(f"{'run':<20}" + "".join(f"{k:>12}" for k in keys) + f"{'steps':>10}{'wall':>10}")
    for run_id, steps, wall in rows:
        print(
            f"{run_id:<20}"
            + "".join(f"{steps[k]:>11.1f}s" for k in keys)
            + f"{sum(steps.values()):>9.1f}s{wall:>9.1f}s"
        )
    print(f"wall = steps + report export + manifest/hash bookkeeping; folder: {root}")
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
