"""Bad params and bad command lines end in one message and exit 2, never a traceback
or a hang (issue 17 point 3)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from csi_helpers.cli import main
from csi_helpers.errors import ParamsError
from csi_helpers.params import load_params
from csi_helpers.params.loading import MAX_VALUES
from csi_helpers.params.settings import MAX_RESAMPLES

GOOD = "service: {id: web, name: Web shop}\ncycle: {id: q1, label: Q1, start: 2026-01-01, end: 2026-03-31}\n"  # noqa: E501


def run_cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    with CliRunner().isolation() as (stdout, stderr, _):
        code = main(list(args))
        return code, stdout.getvalue().decode(), stderr.getvalue().decode()


def check(path: Path) -> tuple[int, str]:
    code, _out, err = run_cli("params", "check", str(path))
    assert "Traceback" not in err
    return code, err


def test_a_binary_or_latin1_file_names_the_file_the_line_and_the_fix(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(
        GOOD.encode() + "report: {organisation: Société Générale}\n".encode("latin-1")
    )
    code, err = check(latin)
    assert code == 2 and f"{latin}, line 3: not UTF-8 text (byte 0xe9)" in err
    assert "save it again" in err
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(128, 256)))
    code, err = check(binary)
    assert code == 2 and f"{binary}, line 1: not UTF-8 text" in err


def test_an_impossible_date_is_named_with_its_line(tmp_path):
    path = tmp_path / "date.yaml"
    path.write_text(GOOD.replace("end: 2026-03-31", "end: 2026-06-31"))
    code, err = check(path)
    assert code == 2 and "'2026-06-31' is not a date (day is out of range for month)" in err
    assert "line 2" in err


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 12):  # 9 ** 12 values once expanded
        name, inner = chr(97 + level), chr(96 + level)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{inner}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    code, err = check(path)
    assert time.perf_counter() - start < 5
    assert code == 2 and f"expands to more than {MAX_VALUES:,} values" in err


@pytest.mark.parametrize("key", ["bootstrap", "permutations"])
def test_resampling_counts_have_a_ceiling(tmp_path, key):
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + f"analysis: {{{key}: 1000000000000}}\n")
    with pytest.raises(ParamsError, match=rf"analysis\.{key}.*{MAX_RESAMPLES}|{MAX_RESAMPLES:,}"):
        load_params(path)
    path.write_text(GOOD + f"analysis: {{{key}: {MAX_RESAMPLES}}}\n")
    assert getattr(load_params(path).analysis, key) == MAX_RESAMPLES


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["rnu"], "No such command 'rnu'. Did you mean 'run'? (see `csi --help`)"),
        (["run", "--jbos", "x"], "No such option: --jbos (see `csi run --help`)"),
        (["run"], "Missing argument 'params'."),
    ],
)
def test_a_typo_in_the_command_line_is_one_line_and_exit_2(args, says):
    code, _out, err = run_cli(*args)
    assert code == 2 and "Traceback" not in err
    assert err.strip() == f"error: {says}" or says in err
    assert len(err.strip().splitlines()) == 1


def test_version():
    from importlib.metadata import version

    code, out, _err = run_cli("--version")
    assert code == 0 and out.strip() == f"csi-workbook {version('csi-workbook')}"
