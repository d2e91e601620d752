"""Params: the typed schema, its messages, paths, dates and environment references."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from csi_helpers.cli import main
from csi_helpers.errors import ParamsError
from csi_helpers.params import expand_env, load_params, params_json_schema, validate_params_file

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


BASE = """\
service: {id: web, name: Web}
cycle: {id: q1, start: 2026-01-01, end: 2026-03-31}
"""


@pytest.mark.parametrize("name", ["demo.yaml", "demo_q2.yaml"])
def test_bundled_params_are_valid(name):
    params = validate_params_file(REPO / "params" / name)
    assert params.service.id == "shopfront"
    assert len(params.strategy.kpis()) >= 5


def test_dates_are_parsed_and_cycle_counts_days(tmp_path):
    params = load_params(write(tmp_path, BASE))
    assert params.cycle.start.isoformat() == "2026-01-01"
    assert params.cycle.days == 90
    assert params.default_run_id == "web-q1"


def test_unknown_key_names_path_line_and_suggestion(tmp_path):
    path = write(tmp_path, BASE.replace("name: Web}", "name: Web, timezon: UTC}"))
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    assert str(path) in message
    assert "service.timezon (line 1): unknown key; did you mean 'timezone'?" in message


def test_nested_unknown_key_in_a_list(tmp_path):
    text = BASE + "sources:\n  - name: t\n    kind: tickets\n    path: t.csv\n    colums: {}\n"
    with pytest.raises(ParamsError, match=r"sources\[0\]\.colums \(line 7\).*'columns'"):
        load_params(write(tmp_path, text))


def test_wrong_type_is_named(tmp_path):
    text = BASE + "analysis: {bootstrap: many}\n"
    with pytest.raises(ParamsError, match=r"analysis\.bootstrap .*valid integer.*'many'"):
        load_params(write(tmp_path, text))


def test_cycle_ending_before_it_starts(tmp_path):
    text = BASE.replace("end: 2026-03-31", "end: 2025-12-31")
    with pytest.raises(ParamsError, match=r"cycle .*ends \(2025-12-31\) before it starts"):
        load_params(write(tmp_path, text))


def test_unknown_kpi_gets_did_you_mean(tmp_path):
    text = BASE + (
        "strategy:\n  objectives:\n    - id: o1\n      statement: s\n      csfs:\n"
        "        - id: c1\n          statement: s\n          kpis:\n"
        "            - {id: k, kpi: mean_time_to_reslove, target: 1, direction: lower}\n"
    )
    with pytest.raises(ParamsError, match="did you mean 'mean_time_to_resolve'"):
        load_params(write(tmp_path, text))


def test_amber_on_the_wrong_side_of_the_target(tmp_path):
    text = BASE + (
        "strategy:\n  objectives:\n    - id: o1\n      statement: s\n      csfs:\n"
        "        - id: c1\n          statement: s\n          kpis:\n"
        "            - {id: k, kpi: availability, target: 99.9, amber: 99.95, direction: higher}\n"
    )
    with pytest.raises(ParamsError, match=r"amber 99\.95 must lie below the target 99\.9"):
        load_params(write(tmp_path, text))


def test_relative_paths_resolve_against_the_params_file(tmp_path, monkeypatch):
    folder = tmp_path / "params"
    folder.mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("number\n")
    path = folder / "p.yaml"
    path.write_text(BASE + "sources:\n  - {name: t, kind: tickets, path: ../data/t.csv}\n")
    monkeypatch.chdir(tmp_path / "data")  # the working directory must not matter
    params = validate_params_file(path)
    assert params.sources[0].path == (tmp_path / "data" / "t.csv")


def test_missing_data_file_is_named(tmp_path):
    path = write(tmp_path, BASE + "sources:\n  - {name: t, kind: tickets, path: nope.csv}\n")
    with pytest.raises(ParamsError, match=r"sources\[0\]\.path: file not found: .*nope\.csv"):
        validate_params_file(path)


def test_files_the_demo_generates_count_as_present(tmp_path):
    text = (
        BASE + "demo: {directory: demo}\nsources:\n  - {name: t, kind: tickets, path: demo/i.csv}\n"
    )
    assert validate_params_file(write(tmp_path, text)).demo is not None


def test_environment_references_stay_unexpanded_until_used(tmp_path, monkeypatch):
    monkeypatch.setenv("CSI_TEST_SECRET", "canary-7f3a")
    path = write(tmp_path, BASE + "report: {organisation: 'db ${CSI_TEST_SECRET}'}\n")
    params = load_params(path)
    assert params.report.organisation == "db ${CSI_TEST_SECRET}"
    assert "canary-7f3a" not in params.model_dump_json()
    assert expand_env(params.report.organisation) == "db canary-7f3a"


def test_unset_environment_variable_is_named(monkeypatch):
    monkeypatch.delenv("CSI_TEST_UNSET", raising=False)
    with pytest.raises(ParamsError, match="CSI_TEST_UNSET is not set"):
        expand_env("${CSI_TEST_UNSET}", key="sources[0].url")


def test_json_schema_describes_the_sections():
    schema = params_json_schema()
    assert {"service", "cycle", "sources", "strategy"} <= set(schema["properties"])
    assert schema["$defs"]["Service"]["additionalProperties"] is False


def test_cli_check_exits_2_with_one_message(tmp_path, capsys):
    path = write(tmp_path, BASE.replace("id: q1", "id: q1, colour: red"))
    assert main(["params", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(path) in err and "cycle.colour" in err
    assert "Traceback" not in err


def test_cli_check_accepts_the_demo(capsys):
    assert main(["params", "check", str(REPO / "params" / "demo.yaml")]) == 0
    assert "ok" in capsys.readouterr().out


def test_cli_schema_prints_json(capsys):
    assert main(["params", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "csi-workbook params"


KPI_ENTRY = """\
strategy:
  objectives:
    - id: o1
      statement: s
      csfs:
        - id: c1
          statement: s
          kpis:
            - {entry}
"""


def with_kpi(entry: str, extra: str = "") -> str:
    return BASE + extra + KPI_ENTRY.format(entry=entry)


def test_unknown_kpi_option_gets_did_you_mean(tmp_path):
    text = with_kpi(
        "{id: k, kpi: mean_time_to_resolve, target: 1, direction: lower, "
        "options: {resolutoin: closed_at}}"
    )
    with pytest.raises(ParamsError, match=r"no option 'resolutoin'; did you mean 'resolution'"):
        load_params(write(tmp_path, text))


def test_kpi_option_of_the_wrong_value_is_named(tmp_path):
    text = with_kpi(
        "{id: k, kpi: mean_time_to_resolve, target: 1, direction: lower, "
        "options: {resolution: fixed_at}}"
    )
    with pytest.raises(ParamsError, match=r"option resolution: Input should be 'resolved_at'"):
        load_params(write(tmp_path, text))


def test_calendar_must_be_defined(tmp_path):
    text = with_kpi(
        "{id: k, kpi: mean_time_to_resolve, target: 1, direction: lower, calendar: servicedesk}",
        extra="calendars:\n  service-desk: {timezone: Europe/Amsterdam}\n",
    )
    with pytest.raises(ParamsError, match=r"calendar 'servicedesk' .*did you mean 'service-desk'"):
        load_params(write(tmp_path, text))


def test_calendar_becomes_a_service_calendar(tmp_path):
    text = with_kpi(
        "{id: k, kpi: mean_time_to_resolve, target: 1, direction: lower, calendar: desk}",
        extra="calendars:\n  desk: {timezone: Europe/Amsterdam, days: [mon, tue], "
        "start: '09:00', end: '17:00', holidays: [2026-01-05]}\n",
    )
    params = load_params(write(tmp_path, text))
    calendar = params.calendar("desk")
    assert calendar.kind == "business_hours" and calendar.weekdays == (0, 1)
    assert calendar.holidays[0].isoformat() == "2026-01-05"
    monday = pd.Timestamp("2026-01-12 08:00", tz="UTC")  # 09:00 in Amsterdam
    hours = calendar.elapsed_hours(pd.Series([monday]), pd.Series([monday + pd.Timedelta("1D")]))
    assert hours.iloc[0] == pytest.approx(8.0)  # Mon 09–17; Tue 09:00 Amsterdam is the end
    assert params.calendar("24x7").kind == "24x7"


def test_business_day_must_end_after_it_starts(tmp_path):
    text = BASE + "calendars:\n  desk: {start: '18:00', end: '08:00'}\n"
    with pytest.raises(ParamsError, match=r"calendars\.desk .*ends \(08:00:00\) before it starts"):
        load_params(write(tmp_path, text))


def test_scope_keeps_only_its_values(tmp_path):
    text = with_kpi(
        "{id: k, kpi: incident_volume, target: 1, direction: lower, "
        "scope: {priority: ['1 - Critical']}}"
    )
    kpi = load_params(write(tmp_path, text)).strategy.kpis()[0][2]
    assert kpi.scope.filters() == {"priority": ["1 - Critical"]}
