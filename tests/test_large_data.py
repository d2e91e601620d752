"""Large data: the generator keeps the demo's scenario; chunked steps 3-4 equal whole-table ones."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csi_helpers.connectors.files import read_raw, read_raw_chunks
from csi_helpers.connectors.text import iso_text
from csi_helpers.demo import scenario as sc
from csi_helpers.params import Source, validate_params_file
from csi_helpers.processing.ledger import Ledger, ledger_entry
from csi_helpers.processing.validate import canonical_chunks, canonical_table
from csi_helpers.runfolder.context import begin_step
from csi_helpers.runfolder.parquet import ParquetSink, iter_table
from csi_helpers.steps.gather import snapshot_sources
from csi_helpers.steps.process import build_tables

REPO = Path(__file__).resolve().parents[1]
CYCLE2 = pd.Timestamp("2026-07-01", tz="UTC")
SIZES = {"tickets": 2_000, "rows": 3 * 9_000, "services": 3}


def _generator():
    """benchmarks/generate_large.py as a module (benchmarks/ is not a package)."""
    path = REPO / "benchmarks" / "generate_large.py"
    spec = importlib.util.spec_from_file_location("generate_large", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_large", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _generator()


@pytest.fixture(scope="module")
def large(tmp_path_factory, gen) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("large")
    return folder, gen.generate_large(folder, seed=11, **SIZES)


@pytest.fixture(scope="module")
def monitoring(large) -> pd.DataFrame:
    return pd.read_parquet(large[0] / "monitoring.parquet")


@pytest.fixture(scope="module")
def incidents(large) -> pd.DataFrame:
    return pd.read_parquet(large[0] / "incidents.parquet")


# ------------------------------------------------------------------ the generator
def test_sizes_columns_and_services_are_as_asked(large, gen, monitoring, incidents):
    _, summary = large
    assert monitoring.columns.tolist() == [
        "timestamp",
        "service",
        "requests",
        "capacity_rph",
        "utilisation",
        "latency_p95_ms",
        "error_rate",
    ]  # fmt: skip  (the demo's monitoring.csv)
    assert len(monitoring) == SIZES["rows"] and len(incidents) == SIZES["tickets"]
    services = gen.service_ids(SIZES["services"])
    assert monitoring["service"].value_counts().to_dict() == dict.fromkeys(services, 9_000)
    assert set(incidents["service"]) == set(services)
    assert incidents["number"].is_unique
    for frame, column in ((monitoring, "timestamp"), (incidents, "opened_at")):
        assert frame[column].min() >= pd.Timestamp("2026-04-01", tz="UTC")
        assert frame[column].max() < pd.Timestamp("2026-10-01", tz="UTC")
    assert summary["rows"]["monitoring"] == SIZES["rows"]


def test_records_link_across_files(large, incidents):
    folder, _ = large
    outages = pd.read_parquet(folder / "outages.parquet")
    csat = pd.read_parquet(folder / "csat.parquet")
    changes = pd.read_parquet(folder / "changes.parquet")
    numbers = set(incidents["number"])
    assert outages["incident_number"].isin(numbers).all()
    assert csat["incident_number"].isin(numbers).all() and csat["survey_id"].is_unique
    caused = incidents.loc[incidents["caused_by"] != "", "caused_by"]
    assert len(caused) and caused.isin(set(changes["number"])).all()
    assert changes["number"].is_unique and outages["outage_id"].is_unique
    # an outage's ticket belongs to the outage's service
    owner = incidents.set_index("number")["service"]
    assert (outages["incident_number"].map(owner) == outages["service"]).all()


def test_planted_effects_hold_per_service(monitoring, incidents, large):
    folder, _ = large
    hot = monitoring["utilisation"] > sc.UTILISATION_THRESHOLD
    cycle2 = monitoring["timestamp"] >= CYCLE2
    assert hot[~cycle2].sum() > 0 and hot[cycle2].sum() == 0  # capacity doubled in cycle 2
    latency = monitoring.groupby(hot)["latency_p95_ms"].mean()
    assert latency[True] > 1.5 * latency[False]  # the latency hinge above 75 %
    assert monitoring.loc[~hot, "latency_p95_ms"].median() == pytest.approx(
        sc.LATENCY_BASE_MS, rel=0.02
    )
    capacity = monitoring.groupby(["service", cycle2])["capacity_rph"].first().unstack()
    assert (capacity[True] / capacity[False]).round(3).eq(2.0).all()
    # the busiest weekday-hour of traffic is in the Friday evening peak, for every service
    for _, frame in monitoring.groupby("service"):
        when = frame["timestamp"]
        busiest = frame.groupby([when.dt.day_of_week, when.dt.hour])["utilisation"].mean().idxmax()
        assert busiest[0] == 4 and 18 <= busiest[1] <= 22
    outages = pd.read_parquet(folder / "outages.parquet")
    minutes = outages.groupby(["service", outages["start"] >= CYCLE2])["duration_min"].sum()
    assert (minutes.unstack()[True] / minutes.unstack()[False]).round(2).eq(0.5).all()
    breaches = incidents.loc[~incidents["made_sla"], "assignment_group"].value_counts()
    assert breaches.index[0] == sc.SLOW_GROUP
    csat = pd.read_parquet(folder / "csat.parquet")
    made = csat["incident_number"].map(incidents.set_index("number")["made_sla"])
    scores = csat.groupby(made)["score"].mean()
    assert scores[True] > scores[False] + 0.8


def test_params_file_is_valid_and_points_at_the_files(large):
    folder, summary = large
    params = validate_params_file(folder / summary["params"])
    assert {s.name for s in params.sources} == {
        "incidents", "monitoring", "outages", "campaigns", "csat", "changes",
    }  # fmt: skip
    assert all(s.path.is_file() and s.path.parent == folder for s in params.sources)
    assert (params.cycle.start.isoformat(), params.cycle.end.isoformat()) == (
        "2026-04-01",
        "2026-09-30",
    )
    assert params.previous_run is None and params.demo is None


def test_same_seed_same_files_and_csv_format(tmp_path, gen, large):
    folder, _ = large
    again = tmp_path / "again"
    gen.generate_large(again, seed=11, **SIZES)
    for name in ("monitoring.parquet", "incidents.parquet", "csat.parquet", "large.yaml"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    text = tmp_path / "csv"
    gen.generate_large(text, seed=11, fmt="csv", **SIZES)
    source = Source(name="m", kind="monitoring", path=text / "monitoring.csv.gz")
    raw = read_raw(source)
    assert raw["timestamp"].iloc[0] == "2026-04-01T00:00:00Z"  # the demo's text formats
    typed = pd.read_parquet(folder / "monitoring.parquet")
    assert raw["requests"].astype(int).tolist() == typed["requests"].tolist()
    assert validate_params_file(text / "large.yaml").sources[0].timestamp_format is not None


def test_sizes_must_leave_every_service_samples(gen, tmp_path):
    with pytest.raises(ValueError, match="rows >= 24 per service"):
        gen.generate_large(tmp_path, tickets=10, rows=40, services=2)


# ------------------------------------------------------------------ chunked = whole
def _tickets_csv(path: Path) -> None:
    """43 rows with problems spread over the chunks (of 7 rows in the tests)."""
    rows = []
    for i in range(43):
        ticket, opened, resolved, count = f"INC{i:03d}", f"2026-01-{1 + i % 28:02d} 10:00", "", "1"
        if i in (3, 30):
            opened = "not a date"  # unparseable, chunks 1 and 5
        if i == 9:
            ticket = ""  # missing key, chunk 2
        if i in (16, 38):
            ticket = "INC002"  # duplicates of a row kept in chunk 1
        if i == 17:
            ticket = "INC003"  # the first INC003 was quarantined: this one is kept
        if i == 20:
            resolved = "2025-12-01 10:00"  # resolved before opened
        if i in (25, 41):
            count = "-2"  # out of range
        if i == 33:
            ticket = "INC003"  # a duplicate of the row kept in chunk 3
        rows.append(f"{ticket},{opened},{resolved},{count}")
    path.write_text("number,opened_at,resolved_at,reassignment_count\n" + "\n".join(rows) + "\n")


def _events_csv(path: Path) -> None:
    """An event log with unknown states spread over chunks; two of them tie on rows."""
    states = ["New", "Limbo", "Resolved", "Parked", "In Progress", "Parked", "Limbo", "Odd"]
    lines = [
        f"INC{i // 3:03d},2026-01-05 {8 + i % 10:02d}:00,{i},{states[i % len(states)]}"
        for i in range(40)
    ]
    path.write_text("number,sys_updated_on,seq,incident_state\n" + "\n".join(lines) + "\n")


def _whole_and_chunked(source: Source, chunk_rows: int):
    raw = read_raw(source)
    table, quarantine = canonical_table(raw, source)
    ledger = Ledger(source)
    tables, quarantines = [], []
    for chunk, part, rejected in canonical_chunks(
        read_raw_chunks(source, chunk_rows=chunk_rows), source
    ):
        ledger.add(chunk, rejected)
        tables.append(part)
        quarantines.append(rejected)
    return (table, quarantine, ledger_entry(source, raw, quarantine)), (
        tables,
        quarantines,
        ledger.rows(),
    )


def _write(path: Path, frames: list[pd.DataFrame]) -> bytes:
    with ParquetSink(path, lazy=True) as sink:
        for frame in frames:
            if len(frame) or frame is frames[0]:
                sink.write(frame)
    return path.read_bytes() if path.exists() else b""


@pytest.mark.parametrize("kind", ["tickets", "ticket_events"])
def test_chunked_canonical_table_is_the_whole_table_byte_for_byte(tmp_path, kind):
    path = tmp_path / f"{kind}.csv"
    if kind == "tickets":
        _tickets_csv(path)
        source = Source(name="t", kind=kind, path=path, columns={"ticket_id": "number"})
    else:
        _events_csv(path)
        source = Source(
            name="t",
            kind=kind,
            path=path,
            columns={"ticket_id": "number", "updated_at": "sys_updated_on", "sequence": "seq",
                     "state": "incident_state"},
        )  # fmt: skip
    (table, quarantine, ledger), (tables, quarantines, chunk_ledger) = _whole_and_chunked(
        source, chunk_rows=7
    )
    assert len(tables) >= 6  # the file spans several chunks
    chunks_with_quarantine = [i for i, q in enumerate(quarantines) if len(q)]
    if kind == "tickets":
        assert len(chunks_with_quarantine) >= 4
        assert quarantine["reason"].str.startswith("duplicate ticket_id").sum() == 3
        assert "INC003" in set(table["ticket_id"])
    else:
        assert [r["level"] for r in ledger] == [None, "warning"]
        assert "'Limbo'" in ledger[-1]["example"]
    table.to_parquet(tmp_path / "whole.parquet", index=False)
    assert _write(tmp_path / "chunked.parquet", tables) == (tmp_path / "whole.parquet").read_bytes()
    if len(quarantine):
        quarantine.to_parquet(tmp_path / "q_whole.parquet", index=False)
        assert (
            _write(tmp_path / "q_chunked.parquet", [q for q in quarantines if len(q)])
            == (tmp_path / "q_whole.parquet").read_bytes()
        )
    assert chunk_ledger == ledger
    pd.DataFrame(ledger).to_parquet(tmp_path / "l1.parquet", index=False)
    pd.DataFrame(chunk_ledger).to_parquet(tmp_path / "l2.parquet", index=False)
    assert (tmp_path / "l1.parquet").read_bytes() == (tmp_path / "l2.parquet").read_bytes()


PARAMS = """\
service: {id: web, name: Web}
cycle: {id: jan, start: 2026-01-01, end: 2026-01-31}
sources:
  - {name: tickets, kind: tickets, path: tickets.csv, columns: {ticket_id: number}}
  - {name: monitoring, kind: monitoring, path: monitoring.parquet}
"""


def _steps_3_and_4(folder: Path, name: str, chunk_rows: int) -> Path:
    run = folder / name
    params = folder / "p.yaml"
    begin_step(1, run_dir=run, params_path=params)
    snapshot_sources(begin_step(3, run_dir=run, params_path=params), chunk_rows=chunk_rows)
    build_tables(begin_step(4, run_dir=run, params_path=params), chunk_rows=chunk_rows)
    return run


def test_steps_3_and_4_write_the_same_files_in_chunks(tmp_path):
    _tickets_csv(tmp_path / "tickets.csv")
    rng = np.random.default_rng(3)
    n = 50
    monitoring = pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-01-01", periods=n, freq="79s", tz="UTC", unit="s"),
            "service": rng.choice(["a", "b"], n),
            "requests": rng.integers(0, 500, n),
            "utilisation": rng.random(n).round(4),
            "error_rate": np.where(np.arange(n) % 11 == 5, 1.5, 0.01),  # out of range, 5 chunks
        }
    )
    monitoring.to_parquet(tmp_path / "monitoring.parquet", index=False)
    (tmp_path / "p.yaml").write_text(PARAMS)
    whole = _steps_3_and_4(tmp_path, "whole", chunk_rows=1_000_000)
    chunked = _steps_3_and_4(tmp_path, "chunked", chunk_rows=6)
    files = sorted(p.relative_to(whole) for p in (whole / "gather/raw").rglob("*.parquet"))
    files += sorted(p.relative_to(whole) for p in (whole / "process").rglob("*.parquet"))
    assert {str(f) for f in files} >= {
        "gather/raw/tickets.parquet",
        "gather/raw/monitoring.parquet",
        "process/tables/tickets.parquet",
        "process/tables/monitoring.parquet",
        "process/quarantine/tickets.parquet",
        "process/quarantine/monitoring.parquet",
        "process/ledger.parquet",
    }
    for rel in files:
        assert (chunked / rel).read_bytes() == (whole / rel).read_bytes(), rel
    # and they are what the whole-table functions give
    params = validate_params_file(tmp_path / "p.yaml")
    for source in params.sources:
        raw = pd.read_parquet(whole / f"gather/raw/{source.name}.parquet")
        pd.testing.assert_frame_equal(raw, read_raw(source))
        table, quarantine = canonical_table(raw, source)
        pd.testing.assert_frame_equal(
            table, pd.read_parquet(chunked / f"process/tables/{source.name}.parquet")
        )
        pd.testing.assert_frame_equal(
            quarantine, pd.read_parquet(chunked / f"process/quarantine/{source.name}.parquet")
        )
    ledger = pd.read_parquet(chunked / "process/ledger.parquet")
    assert ledger.loc[ledger["reason"].isna(), "rows_in"].tolist() == [43, n]
    assert ledger.loc[ledger["source"] == "monitoring", "rows"].sum() == 5
    io_log = json.loads((chunked / ".csi/04.io.json").read_text())
    assert "gather/raw/monitoring.parquet" in {i["path"] for i in io_log["inputs"]}
    assert "process/tables/monitoring.parquet" in {o["path"] for o in io_log["outputs"]}


def test_parquet_chunks_are_read_raw_in_pieces(tmp_path):
    path = tmp_path / "m.parquet"
    frame = pd.DataFrame(
        {
            "at": pd.date_range("2026-03-29", periods=30, freq="37min", tz="Europe/Amsterdam"),
            "n": np.arange(30),
            "x": np.linspace(0, 1e-5, 30),
        }
    )
    frame.loc[4, "at"] = pd.NaT
    frame.to_parquet(path, index=False)
    source = Source(name="m", kind="monitoring", path=path)
    chunks = list(read_raw_chunks(source, chunk_rows=8))
    assert [len(c) for c in chunks] == [8, 8, 8, 6]
    pd.testing.assert_frame_equal(pd.concat(chunks), read_raw(source))
    header_only = tmp_path / "h.csv"
    header_only.write_text("a,b\n")
    (empty,) = read_raw_chunks(Source(name="h", kind="tickets", path=header_only), chunk_rows=5)
    assert empty.columns.tolist() == ["a", "b"] and empty.empty


def test_iso_text_is_isoformat_for_every_unit_and_zone():
    rng = np.random.default_rng(5)
    seconds = pd.Series(pd.to_datetime(rng.integers(-2e9, 4e9, 3_000), unit="s"))
    for unit, step in (("s", 0), ("ms", 10**6), ("us", 10**3), ("ns", 1)):
        values = seconds + pd.to_timedelta(rng.integers(0, 10**9 // max(step, 1), 3_000) * step)
        values = values.astype(f"datetime64[{unit}]").mask(rng.random(3_000) < 0.05)
        values.iloc[0] = pd.Timestamp("2026-01-01 10:00:00")  # a whole second next to fractions
        for zone in (None, "UTC", "Europe/Amsterdam", "Asia/Kolkata", "America/St_Johns"):
            stamps = values if zone is None else values.dt.tz_localize("UTC").dt.tz_convert(zone)
            expected = stamps.map(lambda v: v.isoformat() if pd.notna(v) else pd.NA)
            pd.testing.assert_series_equal(iso_text(stamps), expected.astype("string"))


def test_iter_table_chunks_keep_dtypes_and_row_numbers(tmp_path):
    frame = pd.DataFrame({"a": ["x", None, "z"], "b": [1.0, None, 2.5]}).astype(
        {"a": "string", "b": "Float64"}
    )
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    chunks = list(iter_table(tmp_path / "t.parquet", chunk_rows=2))
    assert [c.index.tolist() for c in chunks] == [[0, 1], [2]]
    pd.testing.assert_frame_equal(pd.concat(chunks), pd.read_parquet(tmp_path / "t.parquet"))
    with (
        pytest.raises(ValueError, match="columns differ"),
        ParquetSink(tmp_path / "x.parquet") as s,
    ):
        s.write(frame)
        s.write(frame.astype({"b": "float64"}))
    assert not list(tmp_path.glob("*x.parquet*"))  # nothing half-written is left


# ------------------------------------------------------------------ step 5 samples
@pytest.fixture(scope="module")
def processed_large(large, tmp_path_factory):
    """Steps 3 and 4 on the small generated data, in process; the step-5 context."""
    folder, summary = large
    run = tmp_path_factory.mktemp("run") / "estate"
    params = folder / summary["params"]
    begin_step(1, run_dir=run, params_path=params)
    snapshot_sources(begin_step(3, run_dir=run, params_path=params))
    build_tables(begin_step(4, run_dir=run, params_path=params))
    return run, params


def _inputs(card: pd.DataFrame):
    from csi_helpers.steps.analyse import Inputs

    empty = pd.DataFrame()
    return Inputs(card=card, daily=empty, hourly=empty, history=empty)


def test_large_cycles_fit_the_capacity_knee_on_a_stated_sample(processed_large, monkeypatch):
    from csi_helpers.steps import analyse
    from csi_helpers.steps.analyse import tables

    run, params = processed_large
    monkeypatch.setattr(tables, "SAMPLE_ROWS", 5_000)  # the limit the step passes on
    ctx = begin_step(5, run_dir=run, params_path=params)
    card = pd.DataFrame({"kpi": ["latency_p95"], "status": ["red"]})
    found = {f.metric: f for f in analyse.analyse_capacity(ctx, _inputs(card))}
    latency = found["p95 latency"]
    assert latency.is_finding
    assert latency.evidence["sample"] == {
        "rows": 5_000, "of": SIZES["rows"], "unit": "monitoring samples", "seed": 0,
        "how": "uniform",
    }  # fmt: skip
    assert latency.evidence["n_points"] == 5_000
    assert "uniform random sample of 5,000 of the cycle's 27,000 monitoring samples" in (
        latency.statement
    )
    assert "sample of 5,000" in latency.method
    assert latency.evidence["threshold"] == pytest.approx(sc.UTILISATION_THRESHOLD, abs=0.03)


def test_large_cycles_model_breach_drivers_on_a_stated_sample(processed_large, monkeypatch):
    from csi_helpers.steps import analyse
    from csi_helpers.steps.analyse import tables

    run, params = processed_large
    card = pd.DataFrame({"kpi": ["sla_compliance"], "status": ["red"]})
    ctx = begin_step(5, run_dir=run, params_path=params)
    whole = [f for f in analyse.analyse_drivers(ctx, _inputs(card)) if f.kind == "drivers"]
    assert whole and "sample" not in whole[0].evidence  # 2,000 tickets: all of them
    monkeypatch.setattr(tables, "SAMPLE_ROWS", 1_200)
    ctx = begin_step(5, run_dir=run, params_path=params)
    found = analyse.analyse_drivers(ctx, _inputs(card))
    model = next(f for f in found if f.evidence.get("analysis", f.kind) in ("drivers",))
    assert model.evidence["sample"]["rows"] == 1_200
    assert model.evidence["sample"]["of"] == SIZES["tickets"]
    assert model.evidence["n_tickets"] == 1_200
    assert "sample of 1,200 of the cycle's 2,000 tickets" in model.statement
    pareto = [f for f in found if f.kind == "concentration"]
    assert pareto and all("sample" not in f.evidence for f in pareto)  # counts use every ticket
