"""Pauses of the UCI ServiceNow audit log, counted straight from the raw file.

An oracle for :func:`csi_helpers.processing.events.pauses_from_events` that shares no code
with the package: the gzip'd CSV is read with the standard library, each incident's
updates are put in history order (update time, then ``sys_mod_count``, then file order)
and every run of updates in one paused state is one pause, from its first update to the
next update in another state. Every incident of this export ends Closed, so no pause is
still open at the end.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from datetime import datetime
from itertools import groupby
from pathlib import Path

PAUSED = (
    "Awaiting User Info",
    "Awaiting Problem",
    "Awaiting Vendor",
    "Awaiting Evidence",
    "On Hold",
)


def uci_pauses(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Per paused state: how many pauses, and their total length in minutes."""
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        rows = [
            (
                r["number"],
                datetime.strptime(r["sys_updated_at"], "%d/%m/%Y %H:%M"),
                int(r["sys_mod_count"]),
                i,
                r["incident_state"],
            )
            for i, r in enumerate(csv.DictReader(handle))
        ]
    rows.sort()
    count: Counter[str] = Counter()
    minutes: Counter[str] = Counter()
    for _, updates in groupby(rows, key=lambda r: r[0]):
        history = list(updates)
        runs = [list(run) for _, run in groupby(history, key=lambda r: r[4])]
        for k, run in enumerate(runs):
            state = run[0][4]
            if state not in PAUSED:
                continue
            assert k + 1 < len(runs), f"{run[0][0]}: pause open at its last update"
            count[state] += 1
            minutes[state] += int((runs[k + 1][0][1] - run[0][1]).total_seconds() // 60)
    return count, minutes
