"""Generate the large data set: `python benchmarks/generate_large.py OUT [--tickets N ...]`.

The demo's ShopFront scenario (:mod:`csi_helpers.demo`) run for many services at
once: by default 1,000,000 tickets and 10,000,000 monitoring samples over 50
services and the demo's two quarters (2026-04-01 to 2026-09-30 UTC). Every
service is a copy of ShopFront at its own scale (volume and capacity times a
lognormal factor of mean 1), drawn from its own child stream of the seed, so the
planted effects hold per service: the campaign uplift, the Friday-evening peak,
the latency and error hinges above 75 % utilisation, the capacity doubling on
2026-07-01 and the halved outage minutes of cycle 2, Web Platform's slow
resolution and the lower satisfaction after a breach.

What differs from the demo, to reach the sizes:

- monitoring is sampled ``services x samples`` times instead of hourly: each
  service gets ``rows // services`` samples (the first ``rows % services``
  one more) spread evenly over the span, on whole seconds (about every 79 s
  at the default sizes); ``requests`` counts the requests of one sample's
  interval and ``utilisation`` is their hourly rate over ``capacity_rph``;
- customer tickets come from each service's hourly traffic at one ticket per
  ``requests_per_ticket`` requests, set so that slightly more than ``tickets``
  are drawn; customer tickets are then thinned at random (a thinned Poisson
  process is still Poisson) to exactly ``tickets`` in all;
- every record carries its ``service`` and is numbered across services
  (INC, CHG, OUT, SRV numbers unique over the whole set).

Written into OUT: ``monitoring``, ``incidents``, ``outages``, ``changes``,
``csat`` (Parquet with typed columns, or gzip CSV in the demo's text formats with
``--format csv``), ``campaigns.csv``, ``large.yaml`` (params for one cycle over
the whole span, the demo's strategy, its register inside OUT) and
``summary.json`` (sizes, seed and the realised figures the tests check). The same
arguments give the same files. Memory stays at one service's samples plus the
tickets.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from csi_helpers.demo import scenario as sc
from csi_helpers.demo.changes import draw_changes
from csi_helpers.demo.io import formatted
from csi_helpers.demo.monitoring import (
    campaign_hours,
    draw_campaigns,
    expected_requests,
    service_health,
)
from csi_helpers.demo.outages import draw_outages
from csi_helpers.demo.surveys import draw_surveys
from csi_helpers.demo.tickets import draw_incidents

REPO = Path(__file__).resolve().parents[1]
DEMO_PARAMS = REPO / "params" / "demo.yaml"

TICKETS = 1_000_000
ROWS = 10_000_000
SERVICES = 50
SCALE_SIGMA = 0.5  # lognormal spread of the services' sizes (normalised to mean 1)
SPAN_S = int((sc.DATA_END - sc.CYCLE1_START).total_seconds())
HOURS = SPAN_S // 3600
FILES = ("monitoring", "incidents", "outages", "changes", "csat")
# canonical column: column in the files (as in params/demo.yaml)
COLUMNS = {
    "incidents": {"ticket_id": "number"},
    "monitoring": {"capacity": "capacity_rph"},
    "outages": {"ticket_id": "incident_number"},
    "campaigns": {"event_id": "campaign_id"},
    "csat": {"ticket_id": "incident_number"},
    "changes": {"change_id": "number"},
}
KINDS = {
    "incidents": "tickets",
    "monitoring": "monitoring",
    "outages": "downtime",
    "campaigns": "calendar",
    "csat": "survey",
    "changes": "changes",
}
MONITORING_COLUMNS = [
    "timestamp", "service", "requests", "capacity_rph", "utilisation",
    "latency_p95_ms", "error_rate",
]  # fmt: skip
INCIDENT_COLUMNS = [
    "number", "service", "state", "priority", "category", "subcategory", "assignment_group",
    "short_description", "contact_type", "opened_at", "resolved_at", "closed_at",
    "reassignment_count", "reopen_count", "made_sla", "caused_by",
]  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    """What to generate."""

    tickets: int = TICKETS
    rows: int = ROWS
    services: int = SERVICES
    seed: int = sc.DEFAULT_SEED

    def __post_init__(self) -> None:
        if self.services < 1 or self.rows < self.services * 24 or self.tickets < 1:
            raise ValueError(
                f"need services >= 1, rows >= 24 per service and tickets >= 1; got {self}"
            )

    def samples(self, service: int) -> int:
        """Monitoring samples of one service (the first ``rows % services`` get one more)."""
        return self.rows // self.services + (service < self.rows % self.services)


def service_ids(count: int) -> list[str]:
    """``shopfront`` first (the demo's service), then ``svc-002`` ...

    Example:
        >>> service_ids(3)
        ['shopfront', 'svc-002', 'svc-003']
    """
    return [sc.SERVICE_ID] + [f"svc-{i + 1:03d}" for i in range(1, count)]


def _hour_index() -> pd.DatetimeIndex:
    return sc.hourly_index()


def _sample_times(n: int) -> np.ndarray:
    """Whole-second offsets from the start of cycle 1 of ``n`` evenly spread samples."""
    return (np.arange(n, dtype=np.int64) * SPAN_S) // n


def _service_samples(
    n: int, scale: float, campaigns: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One service's monitoring samples and its hourly load (for outages and tickets)."""
    offsets = _sample_times(n)
    times = pd.DatetimeIndex(sc.CYCLE1_START.to_datetime64() + offsets.astype("m8[s]"))
    interval_h = SPAN_S / n / 3600
    uplift = np.where(campaign_hours(times, campaigns), 1.0 + sc.CAMPAIGN_UPLIFT, 1.0)
    sigma = sc.NOISE_SIGMA
    noise = rng.lognormal(-(sigma**2) / 2, sigma, size=n)
    rate = expected_requests(times) * scale * uplift * noise  # requests per hour
    requests = np.rint(rate * interval_h).astype(np.int64)
    cycle2 = times >= sc.CYCLE2_START
    capacity = np.rint(
        np.where(cycle2, sc.CAPACITY_CYCLE2_RPH, sc.CAPACITY_CYCLE1_RPH) * scale
    ).astype(np.int64)
    load = pd.DataFrame(
        {
            "timestamp": times,
            "requests": requests,
            "capacity_rph": capacity,
            "utilisation": np.round(requests / interval_h / capacity, 4),
        }
    )
    samples = service_health(load, rng)
    hour = offsets // 3600
    hourly_requests = np.bincount(hour, weights=requests, minlength=HOURS)
    hourly_capacity = np.rint(
        np.where(_hour_index() >= sc.CYCLE2_START, sc.CAPACITY_CYCLE2_RPH, sc.CAPACITY_CYCLE1_RPH)
        * scale
    )
    hourly = pd.DataFrame(
        {
            "timestamp": _hour_index(),
            "requests": hourly_requests,
            "utilisation": np.round(hourly_requests / hourly_capacity, 4),
        }
    )
    return samples, hourly


def _requests_per_ticket(sizes: Sizes, scales: np.ndarray, campaigns: pd.DataFrame) -> float:
    """Requests per customer ticket so that a little more than ``tickets`` are drawn."""
    hours = _hour_index()
    uplift = np.where(campaign_hours(hours, campaigns), 1.0 + sc.CAMPAIGN_UPLIFT, 1.0)
    expected = float((expected_requests(hours) * uplift).sum()) * float(scales.sum())
    margin = 1.01 + 6.0 / math.sqrt(sizes.tickets)  # six standard deviations of a Poisson draw
    return expected / (sizes.tickets * margin)


def _renumber(frame: pd.DataFrame, column: str, fmt: str, first: int) -> dict[tuple, str]:
    """Number rows in their order; return ``(service, old number) → new number``."""
    new = [fmt.format(first + i) for i in range(len(frame))]
    mapping = dict(zip(zip(frame["service"], frame[column], strict=True), new, strict=True))
    frame[column] = new
    return mapping


def _relink(frame: pd.DataFrame, column: str, mapping: dict[tuple, str]) -> pd.Series:
    keys = zip(frame["service"], frame[column], strict=True)
    return pd.Series([mapping.get(k, "") for k in keys], index=frame.index, dtype=object)


def build(sizes: Sizes, *, write_monitoring) -> dict[str, Any]:
    """Draw every service; hand each one's samples to ``write_monitoring``; return the rest."""
    root = np.random.default_rng(sizes.seed)
    streams = root.spawn(3 + sizes.services)
    campaigns = draw_campaigns(streams[0])
    raw = streams[1].lognormal(0.0, SCALE_SIGMA, size=sizes.services)
    scales = raw / raw.mean()
    thinning = streams[2]
    rpt = _requests_per_ticket(sizes, scales, campaigns)
    incidents, outages, changes, services = [], [], [], service_ids(sizes.services)
    for i, service in enumerate(services):
        rng = streams[3 + i]
        samples, hourly = _service_samples(sizes.samples(i), scales[i], campaigns, rng)
        write_monitoring(samples.assign(service=service)[MONITORING_COLUMNS])
        down = draw_outages(hourly, rng).assign(service=service)
        chg = draw_changes(rng).assign(service=service)
        inc, down = draw_incidents(hourly, down, chg, rng, requests_per_ticket=rpt)
        incidents.append(inc.assign(service=service))
        outages.append(down)
        changes.append(chg)
    inc = pd.concat(incidents, ignore_index=True)
    customer = ((inc["category"] != "Availability") & (inc["caused_by"] == "")).to_numpy()
    surplus = len(inc) - sizes.tickets
    if surplus > 0:
        drop = thinning.choice(np.flatnonzero(customer), size=surplus, replace=False)
        inc = inc.drop(index=drop)
    inc = inc.sort_values(["opened_at", "service"], kind="stable", ignore_index=True)
    chg = pd.concat(changes, ignore_index=True).sort_values(
        ["planned_start", "service", "short_description"], kind="stable", ignore_index=True
    )
    change_numbers = _renumber(chg, "number", "CHG{:07d}", 30001)
    inc["caused_by"] = _relink(inc, "caused_by", change_numbers)
    ticket_numbers = _renumber(inc, "number", "INC{:07d}", 10001)
    down = pd.concat(outages, ignore_index=True).sort_values(
        ["start", "service"], kind="stable", ignore_index=True
    )
    down["outage_id"] = [f"OUT-{i + 1:05d}" for i in range(len(down))]
    down["incident_number"] = _relink(down, "incident_number", ticket_numbers)
    surveys = []
    for i, service in enumerate(services):  # after the thinning: surveys of kept tickets only
        mine = inc[inc["service"] == service]
        surveys.append(draw_surveys(mine, streams[3 + i]))
    csat = pd.concat(surveys, ignore_index=True).sort_values(
        ["sent_at", "incident_number"], kind="stable", ignore_index=True
    )
    csat["survey_id"] = [f"SRV{i + 1:07d}" for i in range(len(csat))]
    return {
        "incidents": inc,
        "outages": down,
        "changes": chg,
        "csat": csat,
        "campaigns": campaigns,
        "scales": dict(zip(services, np.round(scales, 6).tolist(), strict=True)),
        "requests_per_ticket": round(rpt, 3),
    }


# ------------------------------------------------------------------ writing
def _typed(name: str, frame: pd.DataFrame) -> pa.Table:
    """A table with timestamps in UTC (seconds) and the file's columns in order."""
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC").dt.as_unit("s")
    if name == "csat":
        frame["score"] = frame["score"].astype("float64")
    return pa.Table.from_pandas(frame, preserve_index=False)


def _text(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The demo's text formats (ISO Z, ServiceNow timestamps, fixed decimals)."""
    if name in ("incidents", "changes"):
        service = frame["service"]
        return formatted(name, frame).assign(service=service)
    return formatted(name, frame)


class _Writer:
    """Append frames of one file, Parquet or gzip CSV, header once."""

    def __init__(self, path: Path, name: str, fmt: str) -> None:
        self.path, self.name, self.fmt = path, name, fmt
        self._parquet: pq.ParquetWriter | None = None
        self._csv = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "parquet":
            table = _typed(self.name, frame)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema)
            self._parquet.write_table(table)
        else:
            import gzip

            if self._csv is None:
                self._csv = gzip.open(self.path, "wt", encoding="utf-8", newline="")  # noqa: SIM115
            text = _text(self.name, frame)
            self._csv.write(text.to_csv(index=False, header=self.rows == 0, lineterminator="\n"))
        self.rows += len(frame)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()


def file_name(name: str, fmt: str) -> str:
    """``monitoring.parquet`` or ``monitoring.csv.gz``; campaigns are always CSV."""
    if name == "campaigns":
        return "campaigns.csv"
    return f"{name}.parquet" if fmt == "parquet" else f"{name}.csv.gz"


def generate_large(
    out: str | Path,
    *,
    tickets: int = TICKETS,
    rows: int = ROWS,
    services: int = SERVICES,
    seed: int = sc.DEFAULT_SEED,
    fmt: str = "parquet",
) -> dict[str, Any]:
    """Write the large data set and its params into ``out``; return the summary.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     summary = generate_large(tmp, tickets=300, rows=3 * 2000, services=3)
        ...     summary["rows"]["monitoring"], summary["rows"]["incidents"]
        (6000, 300)
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, got {fmt!r}")
    sizes = Sizes(tickets=tickets, rows=rows, services=services, seed=seed)
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    monitoring = _Writer(root / file_name("monitoring", fmt), "monitoring", fmt)
    stats = _MonitoringStats()

    def write_monitoring(frame: pd.DataFrame) -> None:
        stats.add(frame)
        monitoring.write(frame)

    try:
        tables = build(sizes, write_monitoring=write_monitoring)
    finally:
        monitoring.close()
    row_counts = {"monitoring": monitoring.rows}
    for name in ("incidents", "outages", "changes", "csat"):
        frame = tables[name][_file_columns(name, tables[name])]
        writer = _Writer(root / file_name(name, fmt), name, fmt)
        writer.write(frame)
        writer.close()
        row_counts[name] = len(frame)
    campaigns = formatted("campaigns", tables["campaigns"])
    campaigns.to_csv(root / file_name("campaigns", fmt), index=False, lineterminator="\n")
    row_counts["campaigns"] = len(campaigns)
    params = write_params(root, sizes, fmt)
    summary = {
        "seed": seed,
        "format": fmt,
        "services": services,
        "rows": row_counts,
        "sample_interval_s": round(SPAN_S / (rows // services), 3),
        "requests_per_ticket": tables["requests_per_ticket"],
        "scales": tables["scales"],
        "params": params.name,
        "seconds": round(time.perf_counter() - t0, 1),
        "realised": stats.realised() | _ticket_truths(tables),
    }
    (root / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _file_columns(name: str, frame: pd.DataFrame) -> list[str]:
    if name == "incidents":
        return INCIDENT_COLUMNS
    if name == "outages":
        return [
            "outage_id", "service", "start", "end", "duration_min", "cause", "incident_number",
        ]  # fmt: skip
    if name == "changes":
        return [c for c in frame.columns if c != "service"] + ["service"]
    return list(frame.columns)


class _MonitoringStats:
    """Per-cycle figures of the samples, gathered service by service."""

    def __init__(self) -> None:
        self.hot = {1: 0, 2: 0}
        self.samples = {1: 0, 2: 0}
        self.latency = {"below": [0.0, 0], "above": [0.0, 0]}
        self.capacity_ratio: list[float] = []

    def add(self, frame: pd.DataFrame) -> None:
        cycle = sc.cycle_of(frame["timestamp"])
        hot = frame["utilisation"].to_numpy() > sc.UTILISATION_THRESHOLD
        latency = frame["latency_p95_ms"].to_numpy()
        for c in (1, 2):
            self.hot[c] += int((hot & (cycle == c)).sum())
            self.samples[c] += int((cycle == c).sum())
        self.latency["above"][0] += float(latency[hot].sum())
        self.latency["above"][1] += int(hot.sum())
        self.latency["below"][0] += float(latency[~hot].sum())
        self.latency["below"][1] += int((~hot).sum())
        capacity = frame["capacity_rph"].to_numpy()
        self.capacity_ratio.append(float(capacity[cycle == 2][0] / capacity[cycle == 1][0]))

    def realised(self) -> dict[str, Any]:
        mean = {k: (s / n if n else None) for k, (s, n) in self.latency.items()}
        return {
            "samples_cycle1": self.samples[1],
            "samples_cycle2": self.samples[2],
            "samples_above_threshold_cycle1": self.hot[1],
            "samples_above_threshold_cycle2": self.hot[2],
            "mean_latency_ms_below_threshold": mean["below"],
            "mean_latency_ms_above_threshold": mean["above"],
            "capacity_ratio_min": min(self.capacity_ratio),
            "capacity_ratio_max": max(self.capacity_ratio),
        }


def _ticket_truths(tables: dict[str, Any]) -> dict[str, Any]:
    inc, down, csat = tables["incidents"], tables["outages"], tables["csat"]
    down_cycle = sc.cycle_of(down["start"])
    minutes = down.groupby([down["service"], down_cycle])["duration_min"].sum().unstack()
    breaches = inc.loc[~inc["made_sla"], "assignment_group"].value_counts()
    made = csat["incident_number"].map(inc.set_index("number")["made_sla"]).astype(bool)
    answered = csat["score"].notna()
    return {
        "outage_minutes_ratio_min": round(float((minutes[2] / minutes[1]).min()), 4),
        "outage_minutes_ratio_max": round(float((minutes[2] / minutes[1]).max()), 4),
        "worst_sla_group": str(breaches.index[0]),
        "sla_compliance": round(float(inc["made_sla"].mean()), 4),
        "csat_mean_score_sla_met": round(float(csat.loc[answered & made, "score"].mean()), 4),
        "csat_mean_score_sla_breached": round(float(csat.loc[answered & ~made, "score"].mean()), 4),
        "incidents_caused_by_changes": int((inc["caused_by"] != "").sum()),
    }


def write_params(root: Path, sizes: Sizes, fmt: str) -> Path:
    """``large.yaml``: the demo's strategy over one cycle spanning both quarters.

    Paths are relative to the file; the register lives in ``registers/`` beside it.
    Volume targets (incidents, backlog) are scaled by the ticket count.
    """
    params = yaml.safe_load(DEMO_PARAMS.read_text(encoding="utf-8"))
    params.pop("demo", None)
    params.pop("previous_run", None)
    params["service"] = {
        "id": "estate",
        "name": f"Web estate ({sizes.services} services)",
        "timezone": "UTC",
    }
    params["cycle"] = {
        "id": "2026q2q3",
        "label": "2026 Q2-Q3",
        "start": "2026-04-01",
        "end": "2026-09-30",
    }
    params["sources"] = []
    for name in ("incidents", "monitoring", "outages", "campaigns", "csat", "changes"):
        source: dict[str, Any] = {
            "name": name,
            "kind": KINDS[name],
            "path": file_name(name, fmt),
            "columns": COLUMNS[name],
        }
        if fmt == "csv" and name in ("incidents", "csat", "changes"):
            source["timestamp_format"] = "%Y-%m-%d %H:%M:%S"
        params["sources"].append(source)
    ratio = sizes.tickets / 2721  # the demo's ticket count
    for objective in params["strategy"]["objectives"]:
        for csf in objective["csfs"]:
            for kpi in csf["kpis"]:
                if kpi["kpi"] in ("incident_volume", "backlog"):
                    kpi["target"] = round(kpi["target"] * ratio)
                    kpi["amber"] = round(kpi["amber"] * ratio)
    params["register"] = {"directory": "registers"}
    path = root / "large.yaml"
    header = (
        f"# Large-data cycle written by benchmarks/generate_large.py: {sizes.tickets:,} tickets,\n"
        f"# {sizes.rows:,} monitoring samples, {sizes.services} services, seed {sizes.seed}.\n"
    )
    body = yaml.safe_dump(params, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write into (created if missing)")
    parser.add_argument("--tickets", type=int, default=TICKETS, help="tickets in all")
    parser.add_argument("--rows", type=int, default=ROWS, help="monitoring samples in all")
    parser.add_argument("--services", type=int, default=SERVICES, help="services")
    parser.add_argument("--seed", type=int, default=sc.DEFAULT_SEED, help="random seed")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    args = parser.parse_args(argv)
    summary = generate_large(
        args.out,
        tickets=args.tickets,
        rows=args.rows,
        services=args.services,
        seed=args.seed,
        fmt=args.format,
    )
    print(json.dumps({k: summary[k] for k in ("rows", "sample_interval_s", "seconds")}))
    print(f"params: {args.out / summary['params']}")


if __name__ == "__main__":
    main()
