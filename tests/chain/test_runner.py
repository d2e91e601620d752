"""The runner: chaining, manifest, failure, resume, kernel isolation (tiny notebooks)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import nbformat
import pytest

from conftest import MINIMAL_PARAMS, tiny_step_notebook
from csi_helpers.chain.params_change import pinned_params
from csi_helpers.chain.runner import run_cycle
from csi_helpers.cli import main
from csi_helpers.errors import ParamsError, RunFolderError, StepFailed
from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.manifest import read_manifest

BROKEN_CELL = 'value = int("not a number")  # planted failure\nprint(value)'


def test_full_chain_records_every_step_and_exports_both_reports(tmp_path, params_file, chain_dir):
    result = run_cycle(
        params_file,
        runs_dir=tmp_path / "runs",
        reports_dir=tmp_path / "reports",
        notebooks=chain_dir(),
    )
    manifest = read_manifest(result.run_dir)
    assert manifest["status"] == "succeeded"
    assert [s["status"] for s in manifest["steps"]] == ["succeeded"] * 7
    for step in manifest["steps"]:
        # step 7 also learns that this run, under the params' own run id, writes the register
        assert step["parameters"] == {
            "run_dir": str(result.run_dir),
            "params_path": str(params_file.resolve()),
        } | ({"write_register": True} if step["number"] == 7 else {})
        assert step["started"] <= step["ended"]
        [out] = step["outputs"]
        assert out["sha256"] == sha256_file(result.run_dir / out["path"]) and out["rows"] is None
        assert (result.run_dir / step["executed_notebook"]).is_file()
    assert manifest["steps"][3]["inputs"][0]["path"] == "gather/out.json"
    assert manifest["params"]["sha256"] == sha256_file(params_file)
    assert set(result.reports) == {6, 7}
    for path in result.reports.values():
        html = path.read_text()
        assert "Web shop" in html and "2026 Q1" in html and str(params_file) not in html
    assert manifest["reports"]["6"]["sha256"] == sha256_file(result.reports[6])


def test_failing_step_stops_the_chain_and_resume_reuses_earlier_steps(
    tmp_path, params_file, chain_dir, capsys
):
    runs = tmp_path / "runs"
    args = [
        "run",
        str(params_file),
        "--runs-dir",
        str(runs),
        "--reports-dir",
        str(tmp_path / "reports"),
        "--to-step",
        "4",
    ]
    code = main([*args, "--notebooks", str(chain_dir(broken={3: BROKEN_CELL}))])
    err = capsys.readouterr().err
    assert code == 1
    executed = runs / "web-q1" / "notebooks" / "03_gather_data.ipynb"
    assert "step 3 (gather) failed in cell" in err
    assert 'value = int("not a number")' in err
    assert "ValueError" in err and str(executed) in err and "--from-step 3" in err
    assert "Traceback" not in err
    nb = nbformat.read(executed, as_version=4)
    assert any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    manifest = read_manifest(runs / "web-q1")
    assert manifest["status"] == "failed"
    assert [s["status"] for s in manifest["steps"][:4]] == [
        "succeeded",
        "succeeded",
        "failed",
        "pending",
    ]
    assert manifest["steps"][2]["error"]["ename"] == "ValueError"

    first = runs / "web-q1" / "strategy" / "out.json"
    before = (first.stat().st_mtime_ns, sha256_file(first))
    result = run_cycle(
        params_file,
        runs_dir=runs,
        reports_dir=tmp_path / "reports",
        notebooks=chain_dir(),
        from_step=3,
        to_step=4,
    )
    manifest = read_manifest(result.run_dir)
    assert [s["status"] for s in manifest["steps"][:4]] == ["succeeded"] * 4
    assert (first.stat().st_mtime_ns, sha256_file(first)) == before


def test_step_6_report_is_kept_when_step_7_fails(tmp_path, params_file, chain_dir):
    """Step 6's report is exported while step 7 runs; step 7 failing does not lose it."""
    with pytest.raises(StepFailed, match=r"step 7 \(implement\) failed"):
        run_cycle(
            params_file,
            runs_dir=tmp_path / "runs",
            reports_dir=tmp_path / "reports",
            notebooks=chain_dir(broken={7: BROKEN_CELL}),
        )
    manifest = read_manifest(tmp_path / "runs" / "web-q1")
    assert manifest["status"] == "failed"
    report = tmp_path / "reports" / "web-q1" / "06_present.html"
    assert set(manifest["reports"]) == {"6"}
    assert manifest["reports"]["6"]["sha256"] == sha256_file(report)
    assert not (tmp_path / "reports" / "web-q1" / "07_implement.html").exists()


def test_resume_refuses_when_earlier_artefacts_changed_or_are_missing(
    tmp_path, params_file, chain_dir
):
    runs = tmp_path / "runs"
    notebooks = chain_dir()
    run_cycle(
        params_file, runs_dir=runs, notebooks=notebooks, to_step=2, reports_dir=tmp_path / "reports"
    )
    out = runs / "web-q1" / "strategy" / "out.json"
    out.write_text(json.dumps({"step": "edited"}))
    with pytest.raises(RunFolderError, match=r"strategy/out\.json \(from step 1\) has changed"):
        run_cycle(params_file, runs_dir=runs, notebooks=notebooks, from_step=2)
    out.unlink()
    with pytest.raises(RunFolderError, match=r"strategy/out\.json \(from step 1\) is missing"):
        run_cycle(params_file, runs_dir=runs, notebooks=notebooks, from_step=2)
    with pytest.raises(RunFolderError, match=r"step 3 \(gather\) is pending"):
        run_cycle(params_file, runs_dir=runs, notebooks=notebooks, from_step=4)


def test_bad_params_leave_no_run_folder(tmp_path, params_file, chain_dir, capsys):
    params_file.write_text(params_file.read_text().replace("end: 2026-03-31", "end: 2025-03-31"))
    with pytest.raises(ParamsError):
        run_cycle(params_file, runs_dir=tmp_path / "runs", notebooks=chain_dir())
    assert main(["run", str(params_file), "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "cycle" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_dry_run_and_write_register_together_exit_2_before_any_run(tmp_path, params_file, capsys):
    args = ["run", str(params_file), "--runs-dir", str(tmp_path / "runs")]
    assert main([*args, "--dry-run", "--write-register"]) == 2
    assert "contradict each other" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_registered_kernels_do_not_matter(tmp_path, params_file, chain_dir, monkeypatch):
    """A machine whose python3 and csi-workbook kernelspecs point at a missing interpreter."""
    data = tmp_path / "jupyter"
    for name in ("python3", "csi-workbook"):
        spec = data / "kernels" / name
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [
                        "/nonexistent/python",
                        "-m",
                        "ipykernel_launcher",
                        "-f",
                        "{connection_file}",
                    ],
                    "display_name": "stale",
                    "language": "python",
                }
            )
        )
    monkeypatch.setenv("JUPYTER_PATH", str(data))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(data))
    result = run_cycle(
        params_file,
        runs_dir=tmp_path / "runs",
        notebooks=chain_dir(),
        to_step=1,
        reports_dir=tmp_path / "reports",
    )
    assert read_manifest(result.run_dir)["steps"][0]["status"] == "succeeded"


def test_kernel_stderr_goes_to_the_run_folder_log(tmp_path, params_file, chain_dir):
    """What the kernel process writes to its stderr (file descriptor 2, not the cell's
    captured ``sys.stderr``) is found in the step's kernel log, and only in that step's."""
    marker = f"csi-stderr-marker-{uuid.uuid4().hex}"
    folder = chain_dir(broken={1: f"import os\nos.write(2, b'{marker}\\n')"})
    result = run_cycle(
        params_file,
        runs_dir=tmp_path / "runs",
        notebooks=folder,
        to_step=2,
        reports_dir=tmp_path / "reports",
    )
    logs = Path(result.run_dir) / ".csi"
    assert marker in (logs / "01.kernel.log").read_text(errors="replace")
    assert marker not in (logs / "02.kernel.log").read_text(errors="replace")


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda t: t.replace("name: Web shop}", "name: Web shop, owner: me}"), "service.owner"),
        (lambda t: t + "analysis: {alpha: often}\n", "analysis.alpha"),
        (
            lambda t: t + "sources:\n  - {name: t, kind: tickets, path: gone.csv}\n",
            "sources[0].path",
        ),
        (lambda t: t.replace("end: 2026-03-31", "end: 2025-12-31"), "cycle"),
    ],
    ids=["unknown key", "wrong type", "missing data file", "dates reversed"],
)
def test_bad_params_exit_2_with_one_message_and_no_run_folder(
    tmp_path, params_file, chain_dir, capsys, edit, named
):
    params_file.write_text(edit(params_file.read_text()))
    code = main(
        [
            "run",
            str(params_file),
            "--runs-dir",
            str(tmp_path / "runs"),
            "--notebooks",
            str(chain_dir()),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and str(params_file) in err and named in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_workbook_errors_show_their_message_not_a_traceback(tmp_path, params_file, chain_dir):
    notebooks = chain_dir(broken={2: 'ctx.read_table("strategy/nothing")'})
    with pytest.raises(StepFailed, match=r"RunFolderError: .*strategy/nothing\.parquet: not found"):
        run_cycle(
            params_file,
            runs_dir=tmp_path / "runs",
            notebooks=notebooks,
            to_step=2,
            reports_dir=tmp_path / "reports",
        )
    nb = nbformat.read(
        tmp_path / "runs" / "web-q1" / "notebooks" / "02_plan_measurement.ipynb", as_version=4
    )
    [error] = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert error.ename == "RunFolderError"
    assert len(error.traceback) == 1 and "run the earlier steps first" in error.traceback[0].lower()


def test_resume_refuses_params_changed_in_settings_earlier_steps_read(
    tmp_path, params_file, chain_dir
):
    """Issue 17: `--from-step 5` after editing the cycle's end ran on, and the report mixed
    both files. Now it names the change; --rerun-from-changed re-runs from the first step
    that reads it; a change only later steps read (the report's title) resumes as asked."""
    runs, reports, notebooks = tmp_path / "runs", tmp_path / "reports", chain_dir()
    run_cycle(params_file, runs_dir=runs, reports_dir=reports, notebooks=notebooks)
    params_file.write_text(params_file.read_text().replace("end: 2026-03-31", "end: 2026-04-30"))
    with pytest.raises(ParamsError) as refused:
        run_cycle(params_file, runs_dir=runs, reports_dir=reports, notebooks=notebooks, from_step=5)
    message = str(refused.value)
    assert "cycle.end: 2026-03-31 → 2026-04-30" in message
    assert "Add --rerun-from-changed to re-run from step 2" in message
    manifest = json.loads((runs / "web-q1" / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"  # the refusal changed nothing

    again = run_cycle(
        params_file,
        runs_dir=runs,
        reports_dir=reports,
        notebooks=notebooks,
        from_step=5,
        rerun_from_changed=True,
    )
    assert again.steps == [2, 3, 4, 5, 6, 7]

    params_file.write_text(params_file.read_text() + "report: {title: Q1 review}\n# a note\n")
    later = run_cycle(
        params_file, runs_dir=runs, reports_dir=reports, notebooks=notebooks, from_step=6
    )
    assert later.steps == [6, 7]


def test_a_calendar_cycle_and_overrides_are_pinned_for_every_step(tmp_path, chain_dir):
    """``csi run web.yaml --set …`` with ``extends:`` and ``cycle: {quarter: …}``: the run
    reads one resolved file in every step (issue 18 point 6), so the notebooks see the
    overrides, and the run id follows the cycle."""
    params = tmp_path / "params"
    params.mkdir()
    (params / "base.yaml").write_text("service: {id: web, name: Web shop}\n")
    child = params / "web.yaml"
    child.write_text("extends: base.yaml\ncycle: {quarter: previous}\n")
    notebooks = chain_dir()
    seen = (
        "from csi_helpers import begin_step\n"
        "ctx = begin_step(1, run_dir=run_dir, params_path=params_path)\n"
        'ctx.write_json("out", {"title": ctx.params.report.title, "cycle": ctx.params.cycle.id,'
        ' "start": str(ctx.params.cycle.start)})\n'
    )
    nbformat.write(tiny_step_notebook(1, body=seen), notebooks / "01_define_strategy.ipynb")
    overrides = ["cycle.quarter=2026q1", "report.title=Q1 review"]
    result = run_cycle(
        child, runs_dir=tmp_path / "runs", reports_dir=tmp_path / "reports",
        notebooks=notebooks, to_step=2, overrides=overrides,
    )  # fmt: skip
    assert result.run_id == "web-2026q1"
    pinned = tmp_path / "runs" / ".params" / "web-2026q1.yaml"
    steps = read_manifest(result.run_dir)["steps"]
    assert [s["parameters"]["params_path"] for s in steps if s["number"] <= 2] == [str(pinned)] * 2
    out = json.loads((result.run_dir / "strategy" / "out.json").read_text())
    assert out == {"title": "Q1 review", "cycle": "2026q1", "start": "2026-01-01"}
    # the same command again writes nothing new: a resume finds the same file and hash
    before = sha256_file(pinned), pinned.stat().st_mtime_ns
    assert pinned_params(child.resolve(), tmp_path / "runs", overrides=overrides) == pinned
    assert (sha256_file(pinned), pinned.stat().st_mtime_ns) == before
    # a file that means what it says is read as it is
    plain = params / "plain.yaml"
    plain.write_text(MINIMAL_PARAMS)
    assert pinned_params(plain, tmp_path / "runs") == plain
    # the same command with --resume carries on with the steps not done, on the same file
    again = run_cycle(
        child, runs_dir=tmp_path / "runs", reports_dir=tmp_path / "reports",
        notebooks=notebooks, overrides=overrides, resume=True,
    )  # fmt: skip
    assert again.steps == [3, 4, 5, 6, 7] and again.run_id == "web-2026q1"
    # a changed base is a changed params file: the resume names the setting
    (params / "base.yaml").write_text("service: {id: web, name: Web shop 2}\n")
    with pytest.raises(ParamsError, match=r"service.name: Web shop → Web shop 2"):
        run_cycle(
            child, runs_dir=tmp_path / "runs", reports_dir=tmp_path / "reports",
            notebooks=notebooks, overrides=overrides, from_step=3,
        )  # fmt: skip
