"""File hashes against hashlib, on files larger than any block the code reads in.

Every other hash test compares ``sha256_file`` with itself; here the oracle is
``hashlib.sha256`` over the whole file at once, and the files are 3 MiB and a few
bytes, so a hash of the first block (1 MiB) or of any whole number of blocks differs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from csi_helpers.errors import RunFolderError
from csi_helpers.runfolder.hashing import describe_file, sha256_file
from csi_helpers.runfolder.layout import STEPS
from csi_helpers.runfolder.manifest import new_manifest, write_manifest

MIB = 1 << 20
SIZE = 3 * MIB + 7  # past every block boundary, and not a multiple of one
LATE = 2 * MIB + 12_345  # a byte past the second MiB


def big_file(path: Path, *, seed: int = 0) -> Path:
    path.write_bytes(np.random.default_rng(seed).bytes(SIZE))
    return path


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def hashlib_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("chunk", [None, 4096, 1000, SIZE + 1])
def test_sha256_file_equals_hashlib_on_a_file_past_every_block(tmp_path, chunk):
    path = big_file(tmp_path / "big.bin")
    kw = {} if chunk is None else {"chunk": chunk}
    assert sha256_file(path, **kw) == hashlib_sha256(path)


def test_a_byte_changed_past_two_mib_changes_the_hash(tmp_path):
    path = big_file(tmp_path / "big.bin")
    before = sha256_file(path)
    flip_byte(path, LATE)
    after = sha256_file(path)
    assert after != before
    assert after == hashlib_sha256(path)
    flip_byte(path, SIZE - 1)  # the very last byte, in the short last block
    assert sha256_file(path) not in (before, after)
    assert sha256_file(path) == hashlib_sha256(path)


def test_empty_and_tiny_files_match_hashlib(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()
    assert sha256_file(empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    tiny = tmp_path / "abc"
    tiny.write_bytes(b"abc")  # FIPS 180-2's example
    assert sha256_file(tiny) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_manifest_entry_of_a_big_file_carries_hashlib_digest(tmp_path):
    path = big_file(tmp_path / "big.bin")
    assert describe_file(path, root=tmp_path) == {
        "path": "big.bin",
        "sha256": hashlib_sha256(path),
        "rows": None,
    }


def test_resume_notices_a_change_past_two_mib_in_an_earlier_output(tmp_path):
    """Provenance and resume: the manifest holds hashlib's digest of a 3 MiB output; a
    byte changed past 2 MiB must stop a resume at step 2 (and an untouched file must not)."""
    from csi_helpers.chain.run_folder import check_resumable

    run = tmp_path / "run"
    out = run / STEPS[0].key / "big.bin"
    out.parent.mkdir(parents=True)
    big_file(out)
    manifest = new_manifest(run_id="r", params_path=tmp_path / "p.yaml", params_sha256="0" * 64)
    manifest["steps"][0]["status"] = "succeeded"
    manifest["steps"][0]["outputs"] = [
        {"path": f"{STEPS[0].key}/big.bin", "sha256": hashlib_sha256(out), "rows": None}
    ]
    write_manifest(run, manifest)
    assert check_resumable(run, 2)["run_id"] == "r"
    flip_byte(out, LATE)
    with pytest.raises(RunFolderError, match=r"big\.bin \(from step 1\) has changed"):
        check_resumable(run, 2)


def test_io_log_of_a_step_hashes_a_big_source_whole(tmp_path, params_file):
    """A source export read by a step is logged with hashlib's digest of all its bytes."""
    from csi_helpers.runfolder.context import begin_step
    from csi_helpers.runfolder.layout import io_log_path

    source = big_file(tmp_path / "export.bin", seed=1)
    ctx = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    ctx.log_input(source)
    ctx.write_json("out", {})
    [entry] = json.loads(io_log_path(tmp_path / "run", 1).read_text())["inputs"]
    assert entry["sha256"] == hashlib_sha256(source)


def test_row_counts_of_tables_and_lists_and_none_for_anything_else(tmp_path):
    """Rows come from the Parquet footer (written here by pyarrow with 1,234 rows) and from
    a JSON list's length; a JSON object, a broken JSON file, a folder named like one and
    any other file have no row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from csi_helpers.runfolder.hashing import row_count

    pq.write_table(pa.table({"x": list(range(1234))}), tmp_path / "t.parquet")
    (tmp_path / "list.json").write_text(json.dumps([{"a": 1}, {"a": 2}, {"a": 3}]))
    (tmp_path / "object.json").write_text(json.dumps({"a": [1, 2]}))
    (tmp_path / "broken.json").write_text("[1, 2")
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "notes.txt").write_text("[1, 2, 3]")
    (tmp_path / "table.csv").write_text("[1, 2, 3]")  # a suffix that sorts before .json
    counts = {
        name: row_count(tmp_path / name)
        for name in (
            "t.parquet",
            "list.json",
            "object.json",
            "broken.json",
            "folder.json",
            "notes.txt",
            "table.csv",
        )
    }
    assert counts == {
        "t.parquet": 1234,
        "list.json": 3,
        "object.json": None,
        "broken.json": None,
        "folder.json": None,
        "notes.txt": None,
        "table.csv": None,
    }
    entry = describe_file(tmp_path / "t.parquet", root=tmp_path)
    assert entry == {
        "path": "t.parquet",
        "sha256": hashlib_sha256(tmp_path / "t.parquet"),
        "rows": 1234,
    }
