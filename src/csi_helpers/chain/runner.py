"""Run the seven step notebooks of one cycle with papermill.

Each step runs in a fresh kernel of this interpreter (see
:mod:`csi_helpers.chain.kernels.spec`), receives only simple parameters (the run
folder and the params file; step 7 also whether it writes the CSI register) and
exchanges data with the other steps through files in the run folder. The manifest
is updated after every step, so a failure leaves an exact record; ``from_step``
resumes after a fix once the earlier steps' artefacts are shown unchanged.

The chain does not wait for kernels (see :mod:`csi_helpers.chain.kernels.pool`): a
zygote process imports once the libraries the steps share, each step's kernel
is forked from it (on Linux; elsewhere started as usual), the next step's
kernel is started and warmed with that step's own imports while the current
step runs, and a finished step's kernel is killed in the background. No
kernel is left running when :func:`run_cycle` returns or raises. Each step's
entry in the manifest records its kernel's peak memory (``peak_rss_mib``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csi_helpers.chain.guard import keep_last_good, run_lock
from csi_helpers.chain.kernels.pool import KernelPool, kernel_pool, peak_rss_mib
from csi_helpers.chain.kernels.spec import KERNEL_NAME, ProjectKernelManager
from csi_helpers.chain.kernels.warmup import notebook_imports, step_warm_modules
from csi_helpers.chain.kernels.zygote import Zygote
from csi_helpers.chain.params_change import params_for_run
from csi_helpers.chain.reports import export_step_report, rebuild_reports
from csi_helpers.chain.resume import start_step
from csi_helpers.chain.run_folder import CycleRun, ProgressHook, check_run_id, prepare_run
from csi_helpers.errors import Interrupted, UsageError, step_failed
from csi_helpers.runfolder.current import set_current_run
from csi_helpers.runfolder.hashing import describe_file
from csi_helpers.runfolder.layout import REPORT_STEPS, STEPS, Step, io_log_path
from csi_helpers.runfolder.manifest import read_manifest, step_entry, utc_now, write_manifest
from csi_helpers.runfolder.paths import notebooks_dir
from csi_helpers.runfolder.recording import runner_entry

#: The step that writes the CSI register, and gets ``write_register`` injected.
REGISTER_STEP = 7

__all__ = ["RunResult", "export_step_report", "rebuild_reports", "run_cycle", "skip_iri_grammars"]

# papermill, pandas and nbconvert are imported where used, so the kernel zygote starts
# importing for the steps before this process imports them.

STEP_TIMEOUT_S = 1800  # one cell may run at most this long before the step fails


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    reports: dict[int, Path] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)  # the steps this run ran


def skip_iri_grammars() -> None:
    """Keep jsonschema from compiling its IRI grammars in this process (2-5 s per process).

    nbformat imports jsonschema, which imports the optional IRI format checker
    ``rfc3987_syntax`` when it is installed (jupyter-events requires it); version
    1.1.0 compiles 38 grammars at import (python-jsonschema/jsonschema#1392, #1521).
    Notebook validation never checks the ``iri`` format, so a process that runs
    notebooks marks the module absent before jsonschema is first imported; jsonschema
    then leaves that one checker out. Called by :func:`run_cycle`; a no-op once
    jsonschema is loaded.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


def run_cycle(
    params_path: str | Path,
    *,
    run_id: str | None = None,
    runs_dir: str | Path = "runs",
    reports_dir: str | Path = "reports",
    from_step: int = 1,
    to_step: int = 7,
    notebooks: str | Path | None = None,
    on_progress: ProgressHook | None = None,
    prestart: bool = True,
    zygote: Zygote | None = None,
    write_register: bool | None = None,
    rerun_from_changed: bool = False,
    resume: bool = False,
    overrides: Sequence[str] = (),
) -> RunResult:
    """Run steps ``from_step`` to ``to_step`` of the cycle a params file describes.

    Args:
        params_path: the cycle's params file.
        run_id: name of the run folder; defaults to the params' ``run_id`` or
            ``<service id>-<cycle id>``. A full run (``from_step=1``) replaces an
            existing folder of that name and its reports only when it succeeds
            (:func:`~csi_helpers.chain.guard.keep_last_good`); a second run of the same
            id while one runs is refused (:func:`~csi_helpers.chain.guard.run_lock`).
        runs_dir: where run folders live.
        reports_dir: where ``<run id>/06_present.html`` and ``07_implement.html`` go.
        from_step: first step to run; later than 1 resumes an earlier run.
        to_step: last step to run.
        notebooks: folder of the step notebooks (default: the params file's workbook's).
        on_progress: progress hook for a display.
        prestart: fork kernels from a zygote and start and warm each step's
            kernel while the previous step runs (False: start a plain kernel
            when each step begins; slower, one kernel at a time).
        zygote: a running zygote (:func:`~csi_helpers.chain.kernels.pool.start_zygote`)
            to fork this cycle's kernels from, kept running afterwards: a batch worker
            keeps one for all its cycles. By default the run starts its own and stops it.
        write_register: whether step 7 writes to the CSI register. By default it does
            for a run under the params' own run id (a real cycle) and not under any
            other (a trial run id), where it shows what it would write; False is
            ``--dry-run``, True ``--write-register``.
        rerun_from_changed: when resuming, start at the first step reading a changed
            setting (:func:`~csi_helpers.chain.params_change.resume_step`), not refuse.
        resume: re-run exactly the steps that are not done (stale, failed, pending:
            :func:`~csi_helpers.runfolder.status.step_states`), from the first of them,
            and rebuild the reports; with every step done, only the reports. Refused
            for a run made from another params file.
        overrides: ``key.path=value`` settings over the params file (``--set``); see
            :func:`~csi_helpers.chain.params_change.pinned_params` for what is read then.

    Returns:
        The run id, folder, report paths and final manifest.

    Raises:
        ParamsError: the params file is invalid (nothing is created), or a resume follows
            a change of settings earlier steps read.
        RunFolderError: resuming is impossible (nothing is changed), or another run of
            the run id is running (``RunLocked``, names it).
        StepFailed: a step raised; its executed notebook stays in the run folder.
    """
    if not 1 <= from_step <= to_step <= len(STEPS):
        raise UsageError(
            f"--from-step {from_step} / --to-step {to_step}: need 1 ≤ from ≤ to ≤ {len(STEPS)}"
        )
    skip_iri_grammars()
    nb_dir = (Path(notebooks) if notebooks else notebooks_dir(params_path)).resolve()
    runs_dir, reports_dir = Path(runs_dir), Path(reports_dir)
    if run_id:
        check_run_id(run_id)
    params_path, params, given = params_for_run(
        Path(params_path), runs_dir, overrides=overrides, run_id=run_id,
        against_data=from_step == 1 and not resume,
    )  # fmt: skip
    run_id = run_id or params.default_run_id
    check_run_id(run_id)
    run_dir = (runs_dir / run_id).resolve()
    with run_lock(runs_dir, run_id):
        from_step = start_step(run_dir, params_path, from_step, resume, rerun_from_changed)
        if not from_step:  # a resume that finds every step done: the reports only
            return _reports_only(run_dir, reports_dir)
        selected = list(STEPS[from_step - 1 : to_step])
        with (
            keep_last_good(run_dir, (reports_dir / run_id).resolve(), full=from_step == 1),
            kernel_pool(selected, nb_dir, prestart=prestart, zygote=zygote) as pool,
        ):
            run = prepare_run(
                params_path,
                run_id=run_id,
                runs_dir=runs_dir,
                reports_dir=reports_dir,
                nb_dir=nb_dir,
                selected=selected,
                params=params,
            )
            set_current_run(run.run_dir, params_path)
            run.on_progress, run.prestart, run.given = on_progress, prestart, given
            own_id = run.run_id == run.params.default_run_id
            run.write_register = own_id if write_register is None else write_register
            return _run_steps(run, pool)


def _reports_only(run_dir: Path, reports_dir: Path) -> RunResult:
    """A resume that finds every step done: the reports exported again, no step run."""
    manifest = read_manifest(run_dir)
    result = RunResult(run_id=manifest["run_id"], run_dir=run_dir, manifest=manifest)
    result.reports = dict(
        zip(sorted(REPORT_STEPS), rebuild_reports(run_dir, reports_dir), strict=True)
    )
    result.manifest = read_manifest(run_dir)  # with the reports just recorded
    return result


def _run_steps(run: CycleRun, pool: KernelPool) -> RunResult:
    """Run the steps in order, each in its kernel, the next one's started meanwhile."""
    selected = run.steps
    result = RunResult(
        run_id=run.run_id,
        run_dir=run.run_dir,
        manifest=run.manifest,
        steps=[s.number for s in selected],
    )
    upcoming = _start_kernel(pool, run, selected[0], warm=False)
    if any(s.number in REPORT_STEPS for s in selected):  # nbconvert loads while steps run
        args = ("csi_helpers.report.html",)
        threading.Thread(target=_import_quietly, args=args, daemon=True).start()
    exports: dict[int, concurrent.futures.Future[tuple[Path, dict[str, Any]]]] = {}
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="csi-export") as exporter:
        try:
            for i, s in enumerate(selected):
                kernel = upcoming or _start_kernel(pool, run, s, warm=False)
                upcoming = None
                if run.prestart and i + 1 < len(selected):
                    upcoming = _start_kernel(pool, run, selected[i + 1], warm=True)
                _run_step(run, s, kernel, pool)
                if s.number in REPORT_STEPS:  # exported while the next step runs
                    exports[s.number] = exporter.submit(_export_report, run, s)
        except BaseException as exc:  # a later step failed: keep the reports already exported
            for number, future in exports.items():
                with contextlib.suppress(Exception):  # the step's failure is the news
                    _record_report(result, run.manifest, number, *future.result())
            if isinstance(exc, Interrupted | KeyboardInterrupt):
                _mark_interrupted(run.manifest)
            with contextlib.suppress(OSError):  # a full disk: the first error is the news
                write_manifest(run.run_dir, run.manifest)
            raise
    for number, future in exports.items():
        _record_report(result, run.manifest, number, *future.result())
    done = all(e["status"] == "succeeded" for e in run.manifest["steps"])
    run.manifest["status"] = "succeeded" if done else "partial"
    write_manifest(run.run_dir, run.manifest)
    return result


def _mark_interrupted(manifest: dict[str, Any]) -> None:
    """The run and the step that was running when a signal stopped them: interrupted."""
    manifest["status"] = "interrupted"
    for entry in manifest["steps"]:
        if entry.get("status") == "running":
            entry["status"] = "interrupted"
    manifest["updated"] = utc_now()


def _start_kernel(
    pool: KernelPool, run: CycleRun, s: Step, *, warm: bool
) -> concurrent.futures.Future[ProjectKernelManager]:
    """Start step ``s``'s kernel; ``warm`` also imports what the step will need.

    The fork waits only for the notebook's own imports; the libraries its helpers import
    inside functions (found by reading their source) are warmed in the kernel, or come
    from the zygote if it has them by then.
    """
    notebook = run.notebook(s)
    return pool.start(
        cwd=run.notebooks,
        stderr_log=run.run_dir / ".csi" / f"{s.number:02d}.kernel.log",
        needs=notebook_imports(notebook),
        warm=warm,
        also=step_warm_modules(notebook) if warm else (),
    )


def _run_step(
    run: CycleRun,
    s: Step,
    kernel: concurrent.futures.Future[ProjectKernelManager],
    pool: KernelPool,
) -> None:
    entry = step_entry(run.manifest, s.number)
    output = run.executed(s)
    output.parent.mkdir(parents=True, exist_ok=True)
    parameters: dict[str, Any] = {"run_dir": str(run.run_dir), "params_path": str(run.params_path)}
    if s.number == REGISTER_STEP:
        parameters["write_register"] = run.write_register
    entry.update(status="running", started=utc_now(), parameters=parameters, **runner_entry())
    entry["params_sha256"] = run.manifest["params"]["sha256"]
    write_manifest(run.run_dir, run.manifest)
    run.progress(s, "running", 0.0)
    t0 = time.perf_counter()
    km: ProjectKernelManager | None = None
    entry["peak_rss_mib"] = None
    try:
        km = kernel.result()
        error = _execute(run.notebook(s), output, parameters, km)
    except Interrupted:  # a signal stops the run, not the step: no step failure to report
        raise
    except Exception as exc:  # kernel did not start or died, timeout, unreadable notebook
        error = {"cell": None, "cell_first_line": "", "ename": type(exc).__name__}
        error["evalue"] = str(exc)
        if isinstance(exc, OSError) and exc.strerror:  # a full disk: say where
            error["evalue"] = f"{exc.strerror.lower()}: {exc.filename or output}"
    finally:
        if km is not None:
            entry["peak_rss_mib"] = peak_rss_mib(km)
            pool.shutdown(km)
    seconds = round(time.perf_counter() - t0, 2)
    entry.update(ended=utc_now(), seconds=seconds, executed_notebook=_rel(output, run.run_dir))
    entry.update(_io_record(run.run_dir, s.number))
    if error is not None:
        entry.update(status="failed", error=error)
        run.manifest["status"] = "failed"
        with contextlib.suppress(OSError):  # a full disk: the step's error is the news
            write_manifest(run.run_dir, run.manifest)
        run.progress(s, "failed", seconds)
        raise step_failed(_failure_message(run, s, error, output), error["ename"])
    entry["status"] = "succeeded"
    write_manifest(run.run_dir, run.manifest)
    run.progress(s, "succeeded", seconds)


def _execute(
    notebook: Path, output: Path, parameters: dict[str, Any], km: ProjectKernelManager
) -> dict[str, Any] | None:
    """Run a notebook with papermill on the kernel ``km``; the failing cell's record, if any."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from csi_helpers.chain.kernels.engine import ENGINE_NAME, register_engine

    register_engine()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            engine_name=ENGINE_NAME,
            km=km,
            kernel_name=KERNEL_NAME,
            progress_bar=False,  # no cwd=: the kernel already runs in its folder; no chdir here
            execution_timeout=STEP_TIMEOUT_S,
        )
    except PapermillExecutionError as exc:
        first_line = next((ln for ln in exc.source.splitlines() if ln.strip()), "")
        return {
            "cell": exc.exec_count,
            "cell_first_line": first_line.strip(),
            "ename": exc.ename,
            "evalue": exc.evalue,
        }
    return None


def _import_quietly(module: str) -> None:
    with contextlib.suppress(Exception):  # the export imports it again and reports failures
        importlib.import_module(module)


def _io_record(run_dir: Path, number: int) -> dict[str, Any]:
    import json

    path = io_log_path(run_dir, number)
    if not path.is_file():
        return {"inputs": [], "outputs": [], "warnings": []}
    log = json.loads(path.read_text(encoding="utf-8"))
    return {k: log.get(k, []) for k in ("inputs", "outputs", "warnings")}


def _export_report(run: CycleRun, s: Step) -> tuple[Path, dict[str, Any]]:
    """Export step ``s``'s executed notebook as its HTML report; the path and its record."""
    path = export_step_report(
        run.executed(s), run.report_dir, params=run.params, run_id=run.run_id, number=s.number
    )
    return path, describe_file(path, root=run.report_dir.parent) | {"path": str(path)}


def _record_report(
    result: RunResult, manifest: dict[str, Any], number: int, path: Path, record: dict[str, Any]
) -> None:
    result.reports[number] = path
    manifest["reports"][str(number)] = record


def _failure_message(run: CycleRun, s: Step, error: dict[str, Any], output: Path) -> str:
    cell = f" in cell {error['cell']}" if error.get("cell") else ""
    first = f": `{error['cell_first_line']}`" if error.get("cell_first_line") else ""
    return (
        f"step {s.number} ({s.key}) failed{cell}{first}\n"
        f"  {error['ename']}: {error['evalue']}\n"
        f"  executed notebook: {output}\n"
        f"  after fixing, resume with: csi run {run.given or run.params_path} "
        f"--run-id {run.run_id} --from-step {s.number}"
    )


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
