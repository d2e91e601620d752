"""The run folder: step context, logged reads and writes, previous runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from csi_helpers.errors import RunFolderError
from csi_helpers.runfolder.context import begin_step
from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.layout import io_log_path


def test_step_one_creates_the_run_folder(tmp_path, params_file):
    ctx = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    assert ctx.run_dir.is_dir() and ctx.out_dir == ctx.run_dir / "strategy"


def test_later_step_without_run_folder_says_which_command_creates_it(tmp_path, params_file):
    with pytest.raises(RunFolderError, match="does not exist; create it with `make run`"):
        begin_step(4, run_dir=tmp_path / "missing", params_path=params_file)
    assert not (tmp_path / "missing").exists()


def test_reads_and_writes_are_logged_with_hash_and_rows(tmp_path, params_file):
    run = tmp_path / "run"
    first = begin_step(1, run_dir=run, params_path=params_file)
    path = first.write_table("kpis", pd.DataFrame({"kpi": ["a", "b", "c"]}))
    second = begin_step(2, run_dir=run, params_path=params_file)
    assert second.read_table("strategy/kpis")["kpi"].tolist() == ["a", "b", "c"]
    second.write_json("plan", [{"kpi": "a"}])
    log = json.loads(io_log_path(run, 2).read_text())
    assert log["inputs"] == [
        {"path": "strategy/kpis.parquet", "sha256": sha256_file(path), "rows": 3}
    ]
    assert log["outputs"][0]["path"] == "measurement/plan.json"
    assert log["outputs"][0]["rows"] == 1


def test_rerunning_a_step_clears_its_stale_artefacts(tmp_path, params_file):
    ctx = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    stale = ctx.write_json("old", {})
    begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    assert not stale.exists()


def test_missing_input_names_the_file_and_what_to_do(tmp_path, params_file):
    begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    ctx = begin_step(2, run_dir=tmp_path / "run", params_path=params_file)
    with pytest.raises(RunFolderError, match=r"strategy/kpis\.parquet: not found; step 2 needs"):
        ctx.read_table("strategy/kpis")


def test_previous_run_missing_is_a_warning_not_an_error(tmp_path, params_file):
    params_file.write_text(params_file.read_text() + "previous_run: web-q0\n")
    ctx = begin_step(1, run_dir=tmp_path / "runs" / "web-q1", params_path=params_file)
    assert ctx.previous_run() is None
    assert "previous cycle 'web-q0' is not available" in ctx.warnings[0]


def test_later_steps_see_earlier_warnings(tmp_path, params_file):
    first = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    first.warn("objective 'o2' has no KPI")
    sixth = begin_step(6, run_dir=tmp_path / "run", params_path=params_file)
    assert sixth.earlier_warnings().to_dict("records") == [
        {"step": "1 strategy", "warning": "objective 'o2' has no KPI"}
    ]


def test_absent_tables_and_figures_are_skipped_with_a_warning(tmp_path, params_file):
    ctx = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    assert ctx.write_table("weekday_hour", None) is None
    assert ctx.save_figure("heatmap", None) is None
    assert ctx.outputs == {}
    assert ctx.warnings == [
        "table 'weekday_hour' not written: the data it needs is not configured",
        "figure 'heatmap' not drawn: the data it needs is not configured",
    ]


def test_a_figure_is_saved_shown_as_saved_and_closed(tmp_path, params_file, monkeypatch):
    """In a kernel the notebook shows the very PNG written to the run folder; the figure
    is then closed, so the inline backend does not draw it a second time."""
    import IPython
    import IPython.display
    import matplotlib.pyplot as plt

    ctx = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    fig, ax = plt.subplots()
    ax.plot([1, 3, 2])
    fig.tight_layout()
    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: True)  # as inside a kernel
    monkeypatch.setattr(IPython.display, "display", lambda image: shown.append(image.data))

    path = ctx.save_figure("line", fig)

    png = path.read_bytes()
    assert png.startswith(b"\x89PNG") and shown == [png]
    assert not plt.fignum_exists(fig.number)
    assert path == ctx.out_dir / "figures" / "line.png"


def test_figures_are_saved_with_fast_compression(tmp_path, params_file):
    """The PNG's zlib stream says it was written at the fastest level (FLEVEL 0), not 6."""
    import matplotlib.pyplot as plt

    ctx = begin_step(1, run_dir=tmp_path / "run", params_path=params_file)
    fig, ax = plt.subplots()
    ax.plot([1, 3, 2])
    png = ctx.save_figure("line", fig).read_bytes()
    idat = png.index(b"IDAT") + 4  # the first image chunk's data: a zlib stream
    assert png[idat] & 0x0F == 8  # deflate
    assert png[idat + 1] >> 6 == 0  # FLEVEL 0: compression level 0 or 1
