"""Time the data preparation the steps rely on: `python benchmarks/bench_data.py`.

Prints, best of ``--repeat`` runs: generating the demo data, and rebuilding the
real UCI ServiceNow event log (141,712 updates) into tickets (read, canonical
table, event log → tickets), each stage on its own. Figures only; no targets are
asserted here. The UCI part is skipped with a note when ``../shared`` is absent.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from csi_helpers.connectors import read_raw
from csi_helpers.demo import generate_demo
from csi_helpers.params import load_params
from csi_helpers.processing.events import tickets_from_events
from csi_helpers.processing.validate import canonical_table

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real"
UCI = REAL / "uci_incident_event_log" / "incident_event_log.csv.gz"
UCI_PARAMS = REPO / "params" / "examples" / "servicenow_uci.yaml"  # how the export is read


def best_of(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    """Fastest wall-clock seconds of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage (best is shown)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="csi-bench-demo-") as folder:
        seconds, _ = best_of(args.repeat, lambda: generate_demo(Path(folder), seed=7))
        rows.append(("demo data: generate_demo (6 files)", seconds, ""))
    if UCI.is_file():
        source = load_params(UCI_PARAMS).sources[0]
        seconds, raw = best_of(args.repeat, lambda: read_raw(source))
        rows.append(("UCI log: read_raw", seconds, f"{len(raw):,} rows"))
        seconds, (events, _) = best_of(args.repeat, lambda: canonical_table(raw, source))
        rows.append(("UCI log: canonical_table", seconds, f"{len(events):,} rows"))
        seconds, tickets = best_of(args.repeat, lambda: tickets_from_events(events))
        rows.append(("UCI log: tickets_from_events", seconds, f"{len(tickets):,} tickets"))
    else:
        print(f"(UCI log not found at {UCI}: skipped)")
    width = max(len(r[0]) for r in rows)
    print(f"{'stage':<{width}}  {'seconds':>8}  size")
    for name, seconds, size in rows:
        print(f"{name:<{width}}  {seconds:8.2f}  {size}")


if __name__ == "__main__":
    main()
