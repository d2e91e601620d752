"""The demo generator: determinism, idempotence, file shapes, and every planted truth."""

from __future__ import annotations

import doctest
import importlib
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csi_helpers.demo as demo
from csi_helpers.demo import (
    DEFAULT_SEED,
    DEMO_FILES,
    PlantedTruths,
    ensure_demo_data,
    generate_demo,
    planted_truths,
)
from csi_helpers.errors import DataError

CYCLE2 = pd.Timestamp("2026-07-01", tz="UTC")
DATA_END = pd.Timestamp("2026-10-01", tz="UTC")
COLUMNS = {
    "monitoring": [
        "timestamp", "service", "requests", "capacity_rph", "utilisation",
        "latency_p95_ms", "error_rate",
    ],
    "campaigns": ["campaign_id", "name", "channel", "start", "end", "audience_size"],
    "outages": [
        "outage_id", "service", "start", "end", "duration_min", "cause", "incident_number",
    ],
    "incidents": [
        "number", "state", "priority", "category", "subcategory", "assignment_group",
        "short_description", "contact_type", "opened_at", "resolved_at", "closed_at",
        "reassignment_count", "reopen_count", "made_sla", "caused_by",
    ],
    "csat": ["survey_id", "incident_number", "sent_at", "responded_at", "score"],
    "changes": [
        "number", "type", "short_description", "assignment_group", "planned_start",
        "planned_end", "actual_start", "actual_end", "outcome",
    ],
}  # fmt: skip
TARGET_HOURS = {"1 - Critical": 4, "2 - High": 8, "3 - Moderate": 24, "4 - Low": 72}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    generate_demo(directory)
    return directory


@pytest.fixture(scope="module")
def truths() -> PlantedTruths:
    return planted_truths()


def _read(directory: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(directory / DEMO_FILES[name], keep_default_na=False, na_values=[""])


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


@pytest.fixture(scope="module")
def monitoring(demo_dir: Path) -> pd.DataFrame:
    frame = _read(demo_dir, "monitoring")
    return frame.assign(timestamp=_utc(frame["timestamp"]))


@pytest.fixture(scope="module")
def outages(demo_dir: Path) -> pd.DataFrame:
    frame = _read(demo_dir, "outages")
    return frame.assign(start=_utc(frame["start"]), end=_utc(frame["end"]))


@pytest.fixture(scope="module")
def incidents(demo_dir: Path) -> pd.DataFrame:
    frame = _read(demo_dir, "incidents")
    times = {c: _utc(frame[c]) for c in ("opened_at", "resolved_at", "closed_at")}
    return frame.assign(**times)


# --- determinism and idempotence ---------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_other_seed_differs(
    demo_dir: Path, tmp_path: Path
) -> None:
    again = generate_demo(tmp_path / "again")
    other = generate_demo(tmp_path / "other", seed=DEFAULT_SEED + 1)
    for name, path in again.items():
        assert path.read_bytes() == (demo_dir / DEMO_FILES[name]).read_bytes(), name
    assert other["monitoring"].read_bytes() != again["monitoring"].read_bytes()
    assert other["incidents"].read_bytes() != again["incidents"].read_bytes()


def test_ensure_regenerates_a_deleted_file_and_a_changed_seed(tmp_path: Path) -> None:
    paths = ensure_demo_data(tmp_path)
    original = paths["incidents"].read_bytes()
    paths["incidents"].unlink()
    assert ensure_demo_data(tmp_path)["incidents"].read_bytes() == original
    other = ensure_demo_data(tmp_path, seed=DEFAULT_SEED + 1)
    assert json.loads(other["truths"].read_text())["seed"] == DEFAULT_SEED + 1


def test_ensure_leaves_a_complete_folder_untouched(tmp_path: Path) -> None:
    paths = ensure_demo_data(tmp_path)
    before = {name: path.stat().st_mtime_ns for name, path in paths.items()}
    time.sleep(0.01)
    again = ensure_demo_data(tmp_path)
    assert again == paths
    assert {name: path.stat().st_mtime_ns for name, path in again.items()} == before


def test_interrupted_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    paths = generate_demo(tmp_path)
    original = paths["monitoring"].read_bytes()

    def fail(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("csi_helpers.atomic.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        generate_demo(tmp_path, seed=DEFAULT_SEED + 1)
    monkeypatch.undo()
    assert paths["monitoring"].read_bytes() == original
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    # the marker was withdrawn first, so the next ensure redoes the folder
    ensure_demo_data(tmp_path, seed=DEFAULT_SEED + 1)
    assert json.loads(paths["truths"].read_text())["seed"] == DEFAULT_SEED + 1


def test_bad_seed_and_directory_raise_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="seed"):
        planted_truths(seed=-1)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="a_file"):
        generate_demo(blocker)


# --- file shapes -------------------------------------------------------------------------


def documented() -> dict[str, str]:
    """The truth table of the csi_helpers.demo docstring: {truth: value as written}."""
    cells = [re.split(r"\s{2,}", line.strip()) for line in (demo.__doc__ or "").splitlines()]
    return {cell[0]: cell[1] for cell in cells if len(cell) >= 3}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_columns_and_row_counts(demo_dir: Path, name: str) -> None:
    """Row counts against the documented table, not against the truths the generator
    computes from the same frames it writes (which a lost row would change alike)."""
    frame = _read(demo_dir, name)
    assert list(frame.columns) == COLUMNS[name]
    table = {key: int(value) for key, value in documented().items() if value.isdigit()}
    expected = {
        "monitoring": table["hours_cycle1"] + table["hours_cycle2"],
        "campaigns": table["campaigns_cycle1"] + table["campaigns_cycle2"],
        "outages": table["outages_cycle1"] + table["outages_cycle2"],
        "incidents": table["incidents_total"],
        "csat": table["csat_surveys"],
        "changes": table["changes_total"],
    }[name]
    assert len(frame) == expected


def test_truths_json_is_planted_truths(demo_dir: Path, truths: PlantedTruths) -> None:
    assert json.loads((demo_dir / DEMO_FILES["truths"]).read_text()) == truths.to_dict()


def test_docstring_table_matches_the_truths(truths: PlantedTruths) -> None:
    rows = documented()
    for key, value in truths.to_dict().items():
        assert key in rows, f"{key} missing from the csi_helpers.demo docstring table"
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            assert rows[key] == str(value), key


# --- planted truths, recovered from the files ---------------------------------------------


def test_capacity_doubles_at_cycle_two(monitoring: pd.DataFrame, truths: PlantedTruths) -> None:
    before = monitoring.loc[monitoring["timestamp"] < CYCLE2, "capacity_rph"].unique()
    after = monitoring.loc[monitoring["timestamp"] >= CYCLE2, "capacity_rph"].unique()
    assert before.tolist() == [truths.capacity_cycle1_rph]
    assert after.tolist() == [2 * truths.capacity_cycle1_rph]
    ratio = monitoring["requests"] / monitoring["capacity_rph"]
    assert np.allclose(ratio, monitoring["utilisation"], atol=5e-5)


def test_cycle_two_has_half_the_downtime(outages: pd.DataFrame, truths: PlantedTruths) -> None:
    minutes = outages.groupby(outages["start"] >= CYCLE2)["duration_min"].sum()
    ratio = minutes[True] / minutes[False]
    assert abs(ratio - 0.5) <= 0.005
    assert ratio == pytest.approx(truths.outage_minutes_ratio, abs=1e-3)
    span = (outages["end"] - outages["start"]).dt.total_seconds() / 60
    assert np.allclose(span, outages["duration_min"], atol=0.05)
    assert 100 * (1 - minutes[False] / (2184 * 60)) == pytest.approx(
        truths.availability_pct_cycle1, abs=1e-3
    )


def test_campaign_uplift_recovered(
    monitoring: pd.DataFrame, demo_dir: Path, truths: PlantedTruths
) -> None:
    campaigns = _read(demo_dir, "campaigns")
    ts = monitoring["timestamp"]
    active = np.zeros(len(ts), dtype=bool)
    for start, end in zip(_utc(campaigns["start"]), _utc(campaigns["end"]), strict=True):
        active |= ((ts >= start) & (ts < end)).to_numpy()
    cells = pd.DataFrame(
        {
            "week": (ts - pd.Timestamp("2026-03-30", tz="UTC")).dt.days // 7,
            "slot": ts.dt.day_of_week * 24 + ts.dt.hour,
            "requests": monitoring["requests"],
            "active": active,
        }
    )
    grid = cells.pivot(index="week", columns="slot", values="requests")
    on = cells.pivot(index="week", columns="slot", values="active").fillna(False).astype(bool)
    # same weekday-hour, non-campaign weeks within four weeks either side
    baseline = grid.mask(on).rolling(9, center=True, min_periods=1).mean()
    uplift = grid[on].sum().sum() / baseline[on].sum().sum() - 1
    assert uplift == pytest.approx(truths.campaign_uplift, abs=0.05)


def test_latency_and_errors_hinge_at_the_threshold(
    monitoring: pd.DataFrame, truths: PlantedTruths
) -> None:
    low = monitoring[monitoring["utilisation"] < 0.7]
    high = monitoring[monitoring["utilisation"] > 0.9]
    assert len(high) >= 5
    assert low["latency_p95_ms"].median() == pytest.approx(truths.latency_base_ms, rel=0.03)
    assert high["latency_p95_ms"].median() > 2 * truths.latency_base_ms
    assert low["error_rate"].median() == pytest.approx(truths.error_rate_base, rel=0.1)
    assert high["error_rate"].median() > 5 * truths.error_rate_base


def test_friday_evening_is_the_weekly_peak(monitoring: pd.DataFrame) -> None:
    ts = monitoring["timestamp"]
    means = monitoring.groupby([ts.dt.day_of_week, ts.dt.hour])["requests"].mean()
    top = set(means.sort_values(ascending=False).index[:5])
    assert top == {(4, hour) for hour in range(18, 23)}


def test_outage_starts_concentrate_in_the_evening(
    outages: pd.DataFrame, truths: PlantedTruths
) -> None:
    hour = outages["start"].dt.hour
    evening = (hour >= 17) & (hour < 23)
    share = outages.loc[evening, "duration_min"].sum() / outages["duration_min"].sum()
    assert share == pytest.approx(truths.outage_minutes_share_peak_window, abs=1e-3)
    assert share > 0.6 and evening.mean() > 0.5


def test_sla_flags_agree_with_priority_targets(incidents: pd.DataFrame) -> None:
    end = incidents["resolved_at"].fillna(DATA_END)
    hours = (end - incidents["opened_at"]).dt.total_seconds() / 3600
    expected = hours <= incidents["priority"].map(TARGET_HOURS)
    assert (incidents["made_sla"] == expected).all()
    still_open = incidents["resolved_at"].isna()
    assert 1 <= still_open.sum() <= 30
    assert set(incidents.loc[still_open, "state"]) <= {"New", "In Progress"}
    assert set(incidents.loc[~still_open, "state"]) <= {"Resolved", "Closed"}


def test_every_outage_has_its_incident(outages: pd.DataFrame, incidents: pd.DataFrame) -> None:
    tickets = incidents.set_index("number").loc[outages["incident_number"]]
    assert outages["incident_number"].is_unique
    assert (tickets["category"] == "Availability").all()
    assert set(tickets["priority"]) <= {"1 - Critical", "2 - High"}
    lag = tickets["opened_at"].to_numpy() - outages["start"].to_numpy()
    assert (lag > pd.Timedelta(0)).all() and (lag < pd.Timedelta(minutes=10)).all()
    assert (incidents["category"] == "Availability").sum() == len(outages)


def test_one_group_holds_most_breaches(incidents: pd.DataFrame, truths: PlantedTruths) -> None:
    breaches = incidents.loc[~incidents["made_sla"], "assignment_group"].value_counts(
        normalize=True
    )
    worst = breaches.index[0]
    assert worst == truths.worst_sla_group == "Web Platform"
    ticket_share = (incidents["assignment_group"] == worst).mean()
    assert breaches.iloc[0] > ticket_share + 0.15
    assert 0.07 <= (incidents["reassignment_count"] > 0).mean() <= 0.13
    assert 0.02 <= (incidents["reopen_count"] > 0).mean() <= 0.06


def test_campaigns_are_staggered_in_cycle_two(demo_dir: Path, truths: PlantedTruths) -> None:
    campaigns = _read(demo_dir, "campaigns")
    start, end = _utc(campaigns["start"]), _utc(campaigns["end"])
    late = start >= pd.Timestamp(truths.campaigns_staggered_from, tz="UTC")
    assert set(start[late].dt.day_of_week) <= {1, 2} and (start[late].dt.hour < 12).all()
    assert (start.iloc[1:].to_numpy() >= end.iloc[:-1].to_numpy()).all()  # no overlaps
    assert (end[late] - start[late] == pd.Timedelta(hours=48)).all()  # ends by Friday morning
    early_friday = (~late) & (start.dt.day_of_week == 4) & (start.dt.hour == 17)
    assert early_friday.sum() == truths.campaigns_friday_evening_cycle1 >= 3


def test_csat_responses_and_scores(demo_dir: Path, incidents: pd.DataFrame) -> None:
    csat = _read(demo_dir, "csat")
    answered = csat["score"].notna()
    assert 0.25 <= answered.mean() <= 0.35
    assert csat.loc[answered, "score"].between(1, 5).all()
    assert (csat["responded_at"].notna() == answered).all()
    made = csat["incident_number"].map(incidents.set_index("number")["made_sla"])
    scores = csat.loc[answered, "score"].groupby(made[answered]).mean()
    assert scores[True] > scores[False] + 0.8


def test_changes_include_the_capacity_upgrade(demo_dir: Path, truths: PlantedTruths) -> None:
    changes = _read(demo_dir, "changes").set_index("number")
    upgrade = changes.loc[truths.capacity_upgrade_change]
    assert upgrade["type"] == "Normal" and upgrade["outcome"] == "Successful"
    assert pd.Timestamp(upgrade["actual_end"]) <= pd.Timestamp("2026-07-01")
    months = pd.to_datetime(changes["planned_start"]).dt.to_period("M").value_counts()
    assert months.between(10, 21).all()


@pytest.mark.parametrize(
    "module",
    [
        "__init__",
        "build",
        "changes",
        "io",
        "monitoring",
        "outages",
        "scenario",
        "surveys",
        "tickets",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    name = "csi_helpers.demo" if module == "__init__" else f"csi_helpers.demo.{module}"
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
