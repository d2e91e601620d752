"""Every file the workbook writes goes through csi_helpers.atomic: whole, durable, usual mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from csi_helpers import atomic


@pytest.fixture
def umask():
    """Set the process umask for a test, and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_the_umask_gives(tmp_path, umask, mask, expected):
    umask(mask)
    assert mode(atomic.write_text(tmp_path / "a.txt", "x")) == expected
    with atomic.atomic_path(tmp_path / "b.parquet") as tmp:
        pd.DataFrame({"a": [1]}).to_parquet(tmp)  # a third party writes the temporary file
    assert mode(tmp_path / "b.parquet") == expected


def test_the_data_and_the_rename_reach_the_disk(tmp_path, monkeypatch):
    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: synced.append(fd) or real(fd))
    atomic.write_json(tmp_path / "a.json", {"a": 1})
    assert len(synced) == 2  # the file before the rename, its folder after


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = atomic.write_text(tmp_path / "report.html", "old")
    with pytest.raises(ZeroDivisionError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half")
        1 / 0  # noqa: B018
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_failed_rename_keeps_the_old_file(tmp_path, monkeypatch):
    target = atomic.write_text(tmp_path / "a.json", "old")

    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        atomic.write_json(target, {"new": True})
    assert target.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_a_pending_file_is_moved_or_discarded(tmp_path):
    kept = atomic.PendingFile(tmp_path / "kept.parquet")
    kept.path.write_bytes(b"PAR1")
    assert kept.commit().read_bytes() == b"PAR1"
    dropped = atomic.PendingFile(tmp_path / "dropped.parquet")
    dropped.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.parquet"]


def test_run_folder_artefacts_follow_the_umask(tmp_path, umask, params_file):
    """Step artefacts (tables, records, figures, the I/O log) used to be 0600 whatever the umask."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from csi_helpers import begin_step

    umask(0o022)
    ctx = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    written = [
        ctx.write_table("t", pd.DataFrame({"a": [1]})),
        ctx.write_json("r", {"a": 1}),
        ctx.save_figure("f", plt.figure()),
        ctx.run_dir / ".csi" / "01.io.json",
    ]
    assert {oct(mode(p)) for p in written} == {oct(0o644)}
