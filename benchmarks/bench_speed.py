"""Scale and speed in one run: `make bench-speed` (or `python benchmarks/bench_speed.py`).

Prints, one after the other and each with its targets:

1. the chain by ``csi run``, by seven papermill CLI calls plus nbconvert CLI
   calls, and in one kernel with in-process export (the floor, for the seven
   import-only notebooks), for the import-only notebooks and for the real demo
   notebooks, with the ratios (:mod:`bench_chain`);
2. the hourly KPI aggregation per service over the large data's 10M monitoring rows
   by the workbook's code, by plain pandas and by a DuckDB SQL floor, with the
   ratios and the largest difference between them (:mod:`bench_aggregation`);
3. the full chain on the large data (1M tickets, 10M monitoring rows, 50 services):
   seconds and peak RSS per step (:mod:`bench_scale`);
4. step 5 (analyse) alone on the demo, per analysis, in fresh processes with the
   notebook's imports excluded as in the chain's warm kernels, against its 4 s target
   (:mod:`bench_step5`).

The large data set is generated once into ``--data`` (default ``/tmp/csi-large``)
and reused. Figures only; no target is asserted. The batch benchmark (20 demo
cycles, serial against two jobs) takes much longer and has its own command,
`make bench-batch`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_aggregation
import bench_chain
import bench_scale
import bench_step5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=bench_scale.DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3, help="timed aggregation runs per way")
    args = parser.parse_args()
    t0 = time.perf_counter()

    print("== 1. The demo chain: csi run against the CLI chain and the one-kernel floor ==")
    print(bench_chain.report(bench_chain.measure()), flush=True)

    # The large-data chain runs before the aggregation: memory is sampled over this
    # process too (it runs the steps' kernels), and the pandas way of the aggregation
    # would leave a gigabyte of this process's memory behind.
    scale = bench_scale.measure(data=args.data)
    print("\n== 2. Hourly KPIs per service over 10M monitoring rows ==")
    monitoring = args.data / "monitoring.parquet"
    print(bench_aggregation.format_report(bench_aggregation.run(monitoring, repeat=args.repeat)))

    print("\n== 3. The full chain on the large data ==", flush=True)
    print(bench_scale.report(scale))

    print("\n== 4. Step 5 on the demo (analyse, warm kernel) ==", flush=True)
    print(
        bench_step5.report(bench_step5.measure(bench_step5.DEFAULT_RUN, bench_step5.DEFAULT_PARAMS))
    )
    print(f"\nall figures in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
