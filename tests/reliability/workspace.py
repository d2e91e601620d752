"""A small service's workspace for the reliability corpus: exports, params, a good run.

Two weeks of an online shop: tickets, hourly monitoring and two outages, written as
the exports a team would have. Every case of the corpus starts from a copy of it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

START, END = pd.Timestamp("2026-03-02"), pd.Timestamp("2026-03-15")

PARAMS = """\
service: {id: shop, name: Online shop, timezone: Europe/Amsterdam}
cycle: {id: wk10, label: 2026 weeks 10-11, start: 2026-03-02, end: 2026-03-15}
sources:
  - {name: tickets, kind: tickets, path: data/tickets.csv}
  - {name: monitoring, kind: monitoring, path: data/monitoring.csv}
  - {name: outages, kind: downtime, path: data/outages.csv}
strategy:
  objectives:
    - id: o1
      statement: Customers can shop without interruption
      csfs:
        - id: c1
          statement: The shop is up and fast
          kpis:
            - {id: availability, kpi: availability, target: 99.5, amber: 99, direction: higher}
            - {id: latency, kpi: latency_p95, target: 400, amber: 600, direction: lower}
            - {id: peak, kpi: peak_utilisation, target: 75, amber: 90, direction: lower}
        - id: c2
          statement: Incidents are resolved fast
          kpis:
            - {id: mttr, kpi: mean_time_to_resolve, target: 24, amber: 48, direction: lower}
analysis: {bootstrap: 200, permutations: 99, seed: 1}
register: {directory: registers}
"""


def tickets(rng: np.random.Generator) -> pd.DataFrame:
    opened = START + pd.to_timedelta(np.sort(rng.uniform(0, 13 * 24, 60)), unit="h")
    hours = rng.lognormal(2.5, 0.8, len(opened))
    return pd.DataFrame(
        {
            "ticket_id": [f"INC{1000 + i}" for i in range(len(opened))],
            "opened_at": opened.strftime("%Y-%m-%d %H:%M"),
            "resolved_at": (opened + pd.to_timedelta(hours, unit="h")).strftime("%Y-%m-%d %H:%M"),
            "priority": rng.choice(["1 - Critical", "2 - High", "3 - Moderate"], len(opened)),
            "category": rng.choice(["network", "checkout", "login"], len(opened)),
        }
    )


def monitoring(rng: np.random.Generator) -> pd.DataFrame:
    hours = pd.date_range(START, END, freq="h", inclusive="left")
    daily = np.clip(np.sin((hours.hour.to_numpy() - 6) / 24 * 2 * np.pi), 0, None)
    load = 400 + 300 * daily + rng.normal(0, 20, len(hours))
    return pd.DataFrame(
        {
            "timestamp": hours.strftime("%Y-%m-%d %H:%M"),
            "requests": load.round(),
            "capacity": 1000,
            "utilisation": (load / 1000).round(3),
            "latency_p95_ms": (
                200 + 150 * (load / 1000) ** 4 + rng.normal(0, 10, len(hours))
            ).round(1),
        }
    )


OUTAGES = "start,end\n2026-03-04 20:00,2026-03-04 20:45\n2026-03-11 19:30,2026-03-11 20:00\n"


def write_workspace(root: Path) -> Path:
    """Write the exports and the params file under ``root``; return the params file."""
    rng = np.random.default_rng(7)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    tickets(rng).to_csv(data / "tickets.csv", index=False)
    monitoring(rng).to_csv(data / "monitoring.csv", index=False)
    (data / "outages.csv").write_text(OUTAGES)
    params = root / "params.yaml"
    params.write_text(PARAMS)
    return params


def csi(argv: list[str], *, cwd: Path, wrap: tuple[str, ...] = (), env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:  # fmt: skip
    """``csi ARGV`` in a fresh process, as an operator runs it."""
    command = [*wrap, sys.executable, "-m", "csi_helpers.cli", *argv]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
