"""Params built from more than one file (issue 18 point 6): ``extends:`` a base, ``--set``
overrides, calendar cycles worked out from the day of the run, and the previous run
derived from the cycle."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jsonschema
import pytest
import yaml

from csi_helpers.errors import ParamsError
from csi_helpers.params import load_params, params_json_schema
from csi_helpers.params.compose import merged, with_overrides
from csi_helpers.params.cycles import calendar_cycle, previous_cycle_id
from csi_helpers.params.loading import resolved_params_text

SERVICE = "service: {id: web, name: Web shop}\n"
DATED = "cycle: {id: 2026q3, start: 2026-07-01, end: 2026-09-30}\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- extends


def test_a_file_extends_a_base_and_wins_where_both_set_a_key(tmp_path):
    write(
        tmp_path / "base.yaml",
        SERVICE + DATED + "report: {title: Base title, organisation: Acme}\n"
        "sources:\n  - {name: tickets, kind: tickets, path: data/tickets.csv}\n",
    )
    child = write(
        tmp_path / "services" / "web.yaml",
        "extends: ../base.yaml\nreport: {title: Web shop review}\n",
    )
    p = load_params(child)
    assert (p.report.title, p.report.organisation) == ("Web shop review", "Acme")
    # the base's relative path is relative to the base's folder, not the child's
    assert p.sources[0].path == tmp_path / "data" / "tickets.csv"
    assert p.cycle.id == "2026q3"


def test_lists_and_the_cycle_of_a_later_file_replace_the_base_whole():
    base = {"sources": [{"name": "a"}, {"name": "b"}], "cycle": {"id": "x", "start": 1},
            "report": {"title": "T", "organisation": "O"}}  # fmt: skip
    later = {"sources": [{"name": "c"}], "cycle": {"quarter": "previous"}, "report": {"title": "U"}}
    out = merged(base, later)
    assert out["sources"] == [{"name": "c"}]
    assert out["cycle"] == {"quarter": "previous"}
    assert out["report"] == {"title": "U", "organisation": "O"}
    assert base["sources"] == [{"name": "a"}, {"name": "b"}]  # the base is not changed


def test_a_chain_of_bases_merges_in_order(tmp_path):
    write(tmp_path / "org.yaml", SERVICE + DATED + "report: {organisation: Acme, title: Org}\n")
    write(tmp_path / "team.yaml", "extends: org.yaml\nreport: {title: Team}\n")
    child = write(tmp_path / "web.yaml", "extends: team.yaml\nanalysis: {alpha: 0.01}\n")
    p = load_params(child)
    assert (p.report.organisation, p.report.title, p.analysis.alpha) == ("Acme", "Team", 0.01)


def test_a_base_that_is_missing_or_goes_round_in_a_circle_is_named(tmp_path):
    child = write(tmp_path / "web.yaml", "extends: bsae.yaml\n" + SERVICE + DATED)
    with pytest.raises(ParamsError, match=r"web.yaml: extends: bsae.yaml: no such file"):
        load_params(child)
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ParamsError, match=r"circle.*a.yaml → b.yaml → a.yaml"):
        load_params(tmp_path / "a.yaml")


# ----------------------------------------------------------------------------- --set


def test_overrides_set_nested_keys_list_items_and_yaml_values():
    data = {"cycle": {"id": "2026q3"}, "sources": [{"name": "t", "path": "a.csv"}]}
    out = with_overrides(
        data, ["cycle.id=2026q4", "sources.0.path=b.csv", "analysis.alpha=0.01", "x.y=[1, 2]"]
    )
    assert out["cycle"] == {"id": "2026q4"}
    assert out["sources"][0]["path"] == "b.csv"
    assert out["analysis"]["alpha"] == 0.01  # a number, as YAML reads it
    assert out["x"]["y"] == [1, 2]
    assert data["cycle"]["id"] == "2026q3"  # the input is not changed


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("cycle", r"write key.path=value"),
        ("=2026q4", r"write key.path=value"),
        ("sources.3.path=x", r"sources is a list of 1; name an item by its index 0 to 0"),
        ("cycle.id.more=x", r"cycle.id holds a single value"),
    ],
)
def test_a_bad_override_says_what_to_write(item, message):
    with pytest.raises(ParamsError, match=message):
        with_overrides({"cycle": {"id": "q"}, "sources": [{"name": "t"}]}, [item])


def test_an_override_wins_over_the_file_and_a_calendar_cycle_replaces_its_dates(tmp_path):
    path = write(tmp_path / "p.yaml", SERVICE + DATED)
    p = load_params(path, overrides=["cycle.quarter=2026q1", "report.title=Q1 review"])
    assert (p.cycle.id, p.cycle.start, p.cycle.end) == (
        "2026q1",
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert p.report.title == "Q1 review"


# ----------------------------------------------------------------------------- cycles


@pytest.mark.parametrize(
    ("cycle", "today", "expected"),
    [
        ({"quarter": "previous"}, date(2026, 1, 15), "2025q4 | 2025 Q4 | 2025-10-01 | 2025-12-31"),
        ({"quarter": "current"}, date(2026, 5, 31), "2026q2 | 2026 Q2 | 2026-04-01 | 2026-06-30"),
        ({"quarter": "2026q3"}, date(2020, 1, 1), "2026q3 | 2026 Q3 | 2026-07-01 | 2026-09-30"),
        ({"month": "previous"}, date(2024, 3, 1), "2024-02 | February 2024 | 2024-02-01 | 2024-02-29"),  # noqa: E501
        ({"month": "previous"}, date(2026, 1, 31), "2025-12 | December 2025 | 2025-12-01 | 2025-12-31"),  # noqa: E501
        ({"month": "2026-07", "id": "jul", "label": "July"}, date(2026, 1, 1), "jul | July | 2026-07-01 | 2026-07-31"),  # noqa: E501
    ],
)  # fmt: skip
def test_a_calendar_cycle_gets_its_id_label_and_dates(cycle, today, expected):
    got = calendar_cycle(cycle, today=today)
    assert " | ".join(str(got[k]) for k in ("id", "label", "start", "end")) == expected


@pytest.mark.parametrize(
    ("cycle", "message"),
    [
        ({"quarter": "last"}, r"'last' is not a quarter; write previous, current or a quarter"),
        ({"month": "2026-13"}, r"'2026-13' is not a month"),
        ({"quarter": "previous", "start": "2026-01-01"}, r"remove start"),
    ],
)
def test_a_calendar_cycle_that_cannot_be_read_says_what_to_write(tmp_path, cycle, message):
    path = write(tmp_path / "p.yaml", SERVICE + yaml.safe_dump({"cycle": cycle}))
    with pytest.raises(ParamsError, match=message):
        load_params(path, today=date(2026, 12, 5))


def test_the_previous_cycle_and_run_are_worked_out_for_calendar_cycles_only(tmp_path):
    assert previous_cycle_id("2026q1", date(2026, 1, 1), date(2026, 3, 31)) == "2025q4"
    assert previous_cycle_id("2026-03", date(2026, 3, 1), date(2026, 3, 31)) == "2026-02"
    assert previous_cycle_id("2026q1", date(2026, 1, 1), date(2026, 2, 28)) is None  # odd dates
    assert previous_cycle_id("spring", date(2026, 3, 1), date(2026, 5, 31)) is None

    path = write(tmp_path / "p.yaml", SERVICE + "cycle: {quarter: previous}\n")
    p = load_params(path, today=date(2026, 10, 2))
    assert (p.previous_run_id, p.previous_run_derived) == ("web-2026q2", True)
    written = load_params(path, overrides=["previous_run=web-old"], today=date(2026, 10, 2))
    assert (written.previous_run_id, written.previous_run_derived) == ("web-old", False)
    own_id = load_params(path, overrides=["run_id=trial"], today=date(2026, 10, 2))
    assert own_id.previous_run_id is None  # a run id of its own: no way to guess the one before


# ----------------------------------------------------------------------------- pinning


def test_the_resolved_text_means_the_same_params_from_any_folder(tmp_path):
    write(
        tmp_path / "base.yaml",
        SERVICE + "demo: {directory: ../data/demo}\n"
        "sources:\n  - {name: tickets, kind: tickets, path: ../data/tickets.csv}\n",
    )
    child = write(
        tmp_path / "svc" / "web.yaml", "extends: ../base.yaml\ncycle: {month: previous}\n"
    )
    today = date(2026, 12, 5)
    text = resolved_params_text(child, overrides=["report.title=X"], today=today)
    elsewhere = write(tmp_path / "far" / "away" / "pinned.yaml", text)
    pinned, original = (
        load_params(elsewhere),
        load_params(child, overrides=["report.title=X"], today=today),
    )
    assert pinned == original
    assert pinned.register_settings.directory == tmp_path / "registers"  # the child's default
    assert "extends" not in yaml.safe_load(text) and "quarter" not in text


def test_a_file_that_means_what_it_says_is_not_pinned(tmp_path):
    assert resolved_params_text(write(tmp_path / "p.yaml", SERVICE + DATED)) is None


def test_an_editor_accepts_a_calendar_cycle_and_extends_but_not_a_mixed_up_cycle():
    validator = jsonschema.Draft202012Validator(params_json_schema())
    ok = {
        "extends": "base.yaml",
        "service": {"id": "web", "name": "Web"},
        "cycle": {"quarter": "previous"},
    }
    assert list(validator.iter_errors(ok)) == []
    both = {**ok, "cycle": {"quarter": "previous", "month": "previous"}}
    assert list(validator.iter_errors(both))
