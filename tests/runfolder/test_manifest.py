"""The manifest: structure, atomic writes, environment record."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from csi_helpers.atomic import write_json as write_json_atomic
from csi_helpers.errors import RunFolderError
from csi_helpers.runfolder.hashing import describe_file, sha256_file
from csi_helpers.runfolder.manifest import (
    environment_info,
    new_manifest,
    read_manifest,
    write_manifest,
)


def test_new_manifest_lists_seven_pending_steps(tmp_path):
    m = new_manifest(run_id="r1", params_path=tmp_path / "p.yaml", params_sha256="abc")
    assert [s["status"] for s in m["steps"]] == ["pending"] * 7
    assert m["steps"][2]["notebook"] == "03_gather_data.ipynb"
    write_manifest(tmp_path, m)
    assert read_manifest(tmp_path)["run_id"] == "r1"


def test_environment_records_dependency_versions_and_python():
    env = environment_info()
    assert env["packages"]["pandas"] == pd.__version__
    assert "papermill" in env["packages"] and env["python"].count(".") == 2
    assert env["workbook"]["version"]


def test_missing_or_corrupt_manifest_is_explained(tmp_path):
    with pytest.raises(RunFolderError, match="no manifest"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(RunFolderError, match="not valid JSON"):
        read_manifest(tmp_path)


def test_atomic_write_leaves_the_old_file_when_serialising_fails(tmp_path):
    path = write_json_atomic(tmp_path / "m.json", {"a": 1})

    class Unserialisable:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_json_atomic(path, {"a": Unserialisable()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_describe_file_counts_parquet_rows(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"x": range(5)}).to_parquet(path)
    assert describe_file(path, root=tmp_path) == {
        "path": "t.parquet",
        "sha256": sha256_file(path),
        "rows": 5,
    }
