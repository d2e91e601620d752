"""Time and measure step 3's snapshot of a large XES event log: `python benchmarks/bench_xes.py`.

Writes a ticket event log of ``--events`` events (``--per-trace`` per ticket,
six attributes each, a priority and an assignment group per trace) as XES into a
temporary folder, gzip-compressed with ``--gzip``, then copies it into a
snapshot Parquet as step 3 does (:func:`csi_helpers.connectors.files.read_raw_chunks`
into a :class:`~csi_helpers.runfolder.parquet.ParquetSink`). Prints the seconds
of the snapshot and the process's peak resident memory before and after it
(Linux ``ru_maxrss``). Figures only; no targets are asserted here.
"""

from __future__ import annotations

import argparse
import gzip
import resource
import tempfile
import time
from pathlib import Path

STATES = ("New", "In Progress", "Awaiting User Info", "In Progress", "Resolved", "Closed")


def write_log(path: Path, *, events: int, per_trace: int, compress: bool) -> None:
    """An XES log of ``events`` events, streamed to disk."""
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n')
        for n in range(0, events, per_trace):
            ticket = n // per_trace
            out.write(
                f'<trace><string key="concept:name" value="INC{ticket:07d}"/>'
                f'<string key="priority" value="{1 + ticket % 4}"/>\n'
            )
            for k in range(min(per_trace, events - n)):
                minute = ticket * 7 + k * 45
                day, hour = 1 + minute // 1440 % 28, minute // 60 % 24
                stamp = f"2026-01-{day:02d}T{hour:02d}:{minute % 60:02d}"
                out.write(
                    f'  <event><string key="concept:name" value="{STATES[k % len(STATES)]}"/>'
                    f'<date key="time:timestamp" value="{stamp}:00.000+00:00"/>'
                    f'<string key="org:resource" value="agent{(ticket + k) % 50}"/>'
                    f'<string key="org:group" value="group{ticket % 9}"/>'
                    f'<string key="lifecycle:transition" value="complete"/>'
                    f'<int key="seq" value="{k}"/></event>\n'
                )
            out.write("</trace>\n")
        out.write("</log>\n")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--per-trace", type=int, default=6)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()

    from csi_helpers.connectors.files import read_raw_chunks
    from csi_helpers.params import Source
    from csi_helpers.runfolder.parquet import CHUNK_ROWS, ParquetSink

    folder = Path(tempfile.mkdtemp(prefix="bench-xes-"))
    path = folder / ("log.xes.gz" if args.gzip else "log.xes")
    write_log(path, events=args.events, per_trace=args.per_trace, compress=args.gzip)
    source = Source(name="log", kind="ticket_events", path=path)
    before = peak_mb()
    start = time.perf_counter()
    with ParquetSink(folder / "raw.parquet") as sink:
        for chunk in read_raw_chunks(source, chunk_rows=CHUNK_ROWS):
            sink.write(chunk)
    seconds = time.perf_counter() - start
    print(
        f"{sink.rows:,} events, {path.stat().st_size / 1e6:.1f} MB {path.name}: "
        f"snapshot in {seconds:.1f} s; peak RSS {before:.0f} MB before, {peak_mb():.0f} MB after"
    )


if __name__ == "__main__":
    main()
