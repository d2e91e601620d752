"""JupyterLab and the chain agree (issue 19): a step re-run outside ``csi run`` is part of
the run, what it made stale is re-run by ``--resume``, and notebooks opened with their
defaults work on the current run (slow: real step notebooks on a small workspace)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from workspace import csi

from csi_helpers.chain.kernels.spec import kernel_manager_class
from csi_helpers.runfolder.layout import STEPS

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EDIT = (
    "values = process.kpi_values(ctx, plan, ledger)\n"
    'values.loc[values["kpi_id"] == "mttr", "value"] = 99.0  # an analyst\'s edit\n'
    "ctx.write_table(catalogue.KPI_VALUES, values)\n"
    "values"
)


def _run_as_lab(notebook: nbformat.NotebookNode, folder: Path) -> None:
    """Execute a notebook as JupyterLab runs it: its folder as working folder, the
    default parameters, a kernel told the notebook's session (``JPY_SESSION_NAME``)."""
    NotebookClient(
        notebook,
        timeout=600,
        kernel_manager_class=kernel_manager_class(),
        resources={"metadata": {"path": str(folder)}},
    ).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors


def _manifest(ws: Path) -> dict:
    return json.loads((ws / "runs" / "shop-wk10" / "manifest.json").read_text())


def test_a_step_edited_in_lab_makes_the_later_ones_stale_and_resume_re_runs_them(
    workspace, monkeypatch
):
    folder = workspace / "notebooks"
    folder.mkdir()
    notebook = nbformat.read(REPO / "notebooks" / STEPS[3].notebook, as_version=4)
    [cell] = [c for c in notebook.cells if c.source.startswith("values = process.kpi_values")]
    cell.source = EDIT
    nbformat.write(notebook, folder / STEPS[3].notebook)
    monkeypatch.setenv("JPY_SESSION_NAME", str(folder / STEPS[3].notebook))
    before = _manifest(workspace)
    _run_as_lab(notebook, folder)

    entry = _manifest(workspace)["steps"][3]
    assert entry["by"] == "lab" and entry["status"] == "succeeded"
    assert entry["lab_notebook"] == str(folder / STEPS[3].notebook)
    assert any(o["path"] == "process/kpi_values.parquet" for o in entry["outputs"])

    status = csi(["status", "shop-wk10"], cwd=workspace)
    lines = status.stdout.splitlines()
    assert [line.split()[2] for line in lines] == ["done"] * 4 + ["stale"] * 3, status.stdout
    assert "process/kpi_values.parquet changed since it ran" in lines[4]
    assert "step 5 is stale" in lines[5]
    assert "--resume" in status.stderr

    reports = workspace / "reports" / "shop-wk10"
    stamps = {p.name: p.stat().st_mtime_ns for p in reports.glob("*.html")}
    resumed = csi(["run", "params.yaml", "--resume"], cwd=workspace)
    assert resumed.returncode == 0, resumed.stderr
    assert "steps 5–7 done" in resumed.stderr
    after = _manifest(workspace)
    for n in (1, 2, 3):
        assert after["steps"][n - 1]["ended"] == before["steps"][n - 1]["ended"]  # reused
    assert after["steps"][3]["by"] == "lab"  # step 4 as Lab left it
    assert all(after["steps"][n - 1]["by"] == "csi" for n in (5, 6, 7))
    assert all(p.stat().st_mtime_ns > stamps[p.name] for p in reports.glob("*.html"))
    again = csi(["status", "shop-wk10"], cwd=workspace)
    assert [line.split()[2] for line in again.stdout.splitlines()] == ["done"] * 7


def test_notebooks_opened_with_their_defaults_work_on_the_current_run(workspace, monkeypatch):
    """After `csi use RUN`, each step notebook, untouched, runs against that run."""
    other = workspace / "runs" / "shop-wk10-copy"
    shutil.copytree(workspace / "runs" / "shop-wk10", other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["run_id"] = "shop-wk10-copy"
    (other / "manifest.json").write_text(json.dumps(manifest))
    used = csi(["use", "shop-wk10-copy"], cwd=workspace)
    assert used.returncode == 0 and "current run" in used.stdout, used.stderr
    folder = workspace / "notebooks"
    folder.mkdir()
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    original = _manifest(workspace)
    for step in STEPS:
        notebook = nbformat.read(REPO / "notebooks" / step.notebook, as_version=4)
        _run_as_lab(notebook, folder)
        if step.number in (6, 7):  # the last cell says how to update the HTML report
            last = json.dumps(notebook.cells[-1].outputs)
            assert "csi report shop-wk10-copy --html" in last and "--resume" in last, last
    copied = json.loads((other / "manifest.json").read_text())
    assert [e["by"] for e in copied["steps"]] == ["papermill"] * 7  # nbclient, not Lab
    assert [e["status"] for e in copied["steps"]] == ["succeeded"] * 7
    assert _manifest(workspace)["steps"] == original["steps"]  # the other run untouched
