"""A run's HTML reports: exported from its executed step 6 and 7 notebooks (or from the
ones JupyterLab saved, when newer) and recorded in its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from csi_helpers.errors import RunFolderError
from csi_helpers.params import Params, load_params
from csi_helpers.runfolder.hashing import describe_file
from csi_helpers.runfolder.layout import REPORT_STEPS, step
from csi_helpers.runfolder.manifest import read_manifest, step_entry, write_manifest

__all__ = ["export_step_report", "rebuild_reports"]


def export_step_report(
    executed: Path, report_dir: Path, *, params: Params, run_id: str, number: int
) -> Path:
    """The HTML report of step ``number`` (6 or 7) from its executed notebook."""
    from csi_helpers.report.html import export_html

    titles = {6: params.report.title, 7: "Improvement plan"}
    return export_html(
        executed,
        report_dir / REPORT_STEPS[number],
        title=titles[number],
        service=params.service.name,
        period=params.cycle.period,
        run_id=run_id,
        organisation=params.report.organisation,
    )


def rebuild_reports(run_dir: Path, reports_dir: Path) -> list[Path]:
    """Export a run's HTML reports again from its executed step notebooks, or from the
    ones JupyterLab saved when step 6 or 7 was last re-run there and they are newer
    (after a template was edited, or a step re-run in Lab), and record them in the
    run's manifest.

    Raises:
        RunFolderError: ``run_dir`` is no run folder, or has no executed step 6 or 7.
    """
    manifest = read_manifest(run_dir)
    params = load_params(manifest["params"]["path"])
    report_dir = reports_dir / manifest["run_id"]
    paths = []
    for number in REPORT_STEPS:
        executed = _newest_notebook(run_dir, manifest, number)
        if not executed.is_file():
            raise RunFolderError(
                f"{executed}: not found; step {number} of run {manifest['run_id']} has not run: "
                f"`csi run PARAMS --run-id {manifest['run_id']} --from-step {number}`"
            )
        path = export_step_report(
            executed, report_dir, params=params, run_id=manifest["run_id"], number=number
        )
        record = describe_file(path, root=reports_dir) | {"path": str(path)}
        manifest.setdefault("reports", {})[str(number)] = record
        paths.append(path)
    write_manifest(run_dir, manifest)
    return paths


def _newest_notebook(run_dir: Path, manifest: dict[str, Any], number: int) -> Path:
    """Step ``number``'s executed notebook in the run folder, or the one JupyterLab saved
    when the step was last run there and that file is the newer."""
    executed = run_dir / "notebooks" / step(number).notebook
    saved = step_entry(manifest, number).get("lab_notebook")
    if not saved or not Path(saved).is_file():
        return executed
    if not executed.is_file() or Path(saved).stat().st_mtime > executed.stat().st_mtime:
        return Path(saved)
    return executed
