"""The ``csi`` command line: run cycles and batches, export reports, list KPIs;
``csi params`` lives in :mod:`csi_helpers.cli.params`, ``csi register`` in
:mod:`csi_helpers.cli.register`, ``csi status`` and ``csi use`` in :mod:`csi_helpers.cli.runs`.

Errors of the :class:`~csi_helpers.errors.CsiError` family are printed as one
message with the exit code of their kind (see :mod:`csi_helpers.errors`); ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Annotated

import typer

from csi_helpers.cli import runs, workbook
from csi_helpers.cli.common import err, out
from csi_helpers.cli.common import state as _state
from csi_helpers.cli.params import params_app
from csi_helpers.cli.register import register_app
from csi_helpers.errors import CsiError, UsageError

__all__ = ["app", "main", "params_app"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="csi-workbook: the ITIL 7-step continual service improvement process on your data.",
)
app.add_typer(params_app, name="params")
app.command("init")(workbook.init)
app.command("status")(runs.status)
app.command("use")(runs.use)
app.add_typer(register_app, name="register")


def _show_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("csi-workbook")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "0.0.0 (not installed)"
        out.print(f"csi-workbook {number}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def run(
    params: Annotated[Path, typer.Argument(help="The cycle's params file, e.g. params/demo.yaml.")],
    run_id: Annotated[
        str | None, typer.Option(help="Run folder name (default: from params).")
    ] = None,
    from_step: Annotated[int, typer.Option(min=1, max=7, help="Resume at this step.")] = 1,
    to_step: Annotated[int, typer.Option(min=1, max=7, help="Stop after this step.")] = 7,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Re-run exactly the steps that are not done (stale, failed, pending: see "
            "`csi status RUN`) and rebuild the reports.",
        ),
    ] = False,
    rerun_from_changed: Annotated[
        bool,
        typer.Option(
            "--rerun-from-changed",
            help="With --from-step: when the params changed since the run was made, re-run "
            "from the first step that reads a changed setting instead of refusing.",
        ),
    ] = False,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    reports_dir: Annotated[Path, typer.Option(help="Where HTML reports go.")] = Path("reports"),
    notebooks: Annotated[
        Path | None,
        typer.Option(help="Folder of your own step notebooks (default: the workbook's)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Leave the CSI register as it is; step 7 shows what it would write.",
        ),
    ] = False,
    write_register: Annotated[
        bool,
        typer.Option(
            "--write-register",
            help="Let step 7 write the CSI register under a --run-id other than the "
            "params' own (by default only the params' own run id writes it).",
        ),
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a setting of the params file, e.g. --set cycle.quarter=2026q2 or "
            "--set report.title='Q2 review'; repeat for more.",
        ),
    ] = None,
) -> None:
    """Run the seven step notebooks of one cycle into runs/<run-id>/."""
    from csi_helpers.chain.progress import StepProgress
    from csi_helpers.chain.runner import run_cycle
    from csi_helpers.chain.signals import stop_on_signals

    if resume and from_step != 1:
        raise UsageError("--resume finds the steps to re-run itself; leave out --from-step")
    if dry_run and write_register:
        raise UsageError("--dry-run and --write-register contradict each other; pass one of them")
    # run_cycle validates the params once its kernels have started to import
    with stop_on_signals(), StepProgress(run_id or str(params)) as progress:
        result = run_cycle(
            params,
            run_id=run_id,
            runs_dir=runs_dir,
            reports_dir=reports_dir,
            from_step=from_step,
            to_step=to_step,
            notebooks=notebooks,
            on_progress=progress,
            write_register=False if dry_run else (True if write_register else None),
            rerun_from_changed=rerun_from_changed,
            resume=resume,
            overrides=set_ or (),
        )
    if result.steps:
        total = sum(
            e.get("seconds", 0) for e in result.manifest["steps"] if e["number"] in result.steps
        )
        ran = f"steps {result.steps[0]}–{result.steps[-1]} done in {total:.1f} s"
    else:
        ran = "every step done already; reports rebuilt"
    err.print(f"run {result.run_id}: {ran}; folder {result.run_dir}", highlight=False)
    for path in result.reports.values():
        out.print(str(path), highlight=False, soft_wrap=True)


@app.command()
def batch(
    params: Annotated[
        list[Path], typer.Argument(help="The cycles' params files, e.g. params/*.yaml.")
    ],
    jobs: Annotated[
        int | None,
        typer.Option(min=1, help="Cycles run at a time on this machine (default: its CPUs)."),
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    reports_dir: Annotated[Path, typer.Option(help="Where HTML reports go.")] = Path("reports"),
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on the Dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786; its "
            "workers must see the same files at the same paths."
        ),
    ] = None,
    notebooks: Annotated[
        Path | None,
        typer.Option(help="Folder of your own step notebooks (default: the workbook's)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Leave the CSI register as it is; each cycle's step 7 shows what it would write.",
        ),
    ] = False,
) -> None:
    """Run many cycles in parallel, each into its own run folder; exit code = failed + skipped.

    A file whose previous_run is another file's run id waits for that run and is
    skipped if it fails. Writes reports/batch.html (links to every report) and
    reports/batch.json.
    """
    from csi_helpers.chain.batch.index import summary_lines, write_batch_index
    from csi_helpers.chain.batch.jobs import JobResult, Workspace
    from csi_helpers.chain.batch.plan import plan_batch
    from csi_helpers.chain.batch.run import default_jobs, run_batch
    from csi_helpers.chain.signals import stop_on_signals
    from csi_helpers.errors import BatchIncomplete

    planned = plan_batch(params)
    if scheduler and jobs is not None:
        err.print("note: --jobs is ignored with --scheduler (the cluster's workers decide)")
    max_jobs = jobs or default_jobs()

    def progress(result: JobResult, done: int, total: int) -> None:
        shown = "" if result.seconds is None else f" in {result.seconds:.1f} s"
        reason = f": {result.reason}" if result.reason else ""
        err.print(
            f"[{done}/{total}] {result.run_id} {result.status}{shown}{reason}",
            highlight=False,
            markup=False,
        )

    with stop_on_signals():
        result = run_batch(
            planned,
            Workspace.at(
                runs_dir, reports_dir, notebooks, write_register=False if dry_run else None
            ),
            max_jobs=max_jobs,
            scheduler=scheduler,
            on_progress=progress,
        )
    index, summary = write_batch_index(result, reports_dir)
    for line in summary_lines(result):
        out.print(line, highlight=False, markup=False)
    err.print(f"index {index}\nsummary {summary}", highlight=False, markup=False)
    if result.exit_code:
        failed, skipped = result.count("failed"), result.count("skipped")
        raise BatchIncomplete(
            f"{failed} failed and {skipped} skipped of {len(result.results)} runs; "
            f"reasons above and in {index}"
        )


@app.command("report")
def report(
    run_id: Annotated[
        str, typer.Argument(help="The run whose reports to print, e.g. shopfront-2026q3.")
    ],
    html: Annotated[
        bool,
        typer.Option(
            "--html",
            help="Export the HTML reports again from the run's executed notebooks "
            "(after editing a template, or re-running step 6 or 7 in JupyterLab).",
        ),
    ] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Print the HTML reports to A4 PDF.")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
    reports_dir: Annotated[Path, typer.Option(help="Where HTML reports are.")] = Path("reports"),
) -> None:
    """List a run's HTML reports, export them again (--html), or print them to PDF beside
    them (--pdf, needs Chromium)."""
    from csi_helpers.errors import DataError
    from csi_helpers.report.html import export_pdf
    from csi_helpers.runfolder.layout import REPORT_STEPS

    if html:
        from csi_helpers.chain.reports import rebuild_reports

        rebuild_reports(runs_dir / run_id, reports_dir)
    folder = reports_dir / run_id
    pages = [folder / name for name in REPORT_STEPS.values()]
    found = [page for page in pages if page.is_file()]
    if not found:
        raise DataError(
            f"{folder}: no reports of run {run_id!r} ({', '.join(REPORT_STEPS.values())}); "
            f"run `csi run PARAMS --run-id {run_id}` first, or pass --reports-dir"
        )
    for page in found:
        out.print(str(export_pdf(page) if pdf else page), highlight=False, soft_wrap=True)


@app.command("kpis")
def kpis_list(
    kpi: Annotated[str | None, typer.Argument(help="Show one KPI in full.")] = None,
) -> None:
    """List the KPI library: id, unit, source kind and options (defaults), or one KPI's formula."""
    from csi_helpers.kpis import LIBRARY, get_definition

    if kpi:
        d = get_definition(kpi)
        out.print(
            f"{d.id}: {d.name} ({d.unit}), from {d.source_kind}; {d.better} is better",
            highlight=False,
        )
        out.print(d.formula, highlight=False)
        out.print(d.revision_note or f"revision {d.revision} of this formula", highlight=False)
        out.print(f"needs: {', '.join(d.fields)}", highlight=False)
        for name, default in d.option_defaults().items():
            out.print(f"option {name} = {default!r}", highlight=False)
        return
    for d in LIBRARY.values():
        options = ", ".join(f"{n}={v!r}" for n, v in d.option_defaults().items())
        out.print(f"{d.id:<32} {d.unit:<8} {d.source_kind:<10} {options}", highlight=False)


# --------------------------------------------------------------------------- csi register


def system_error(exc: OSError) -> str:
    """What the machine refused, where, and what to do: one line for the analyst.

    Example (the line folded here):
        >>> import errno
        >>> print(system_error(OSError(errno.ENOSPC, "No space left on device", "runs/x.json")))
        ... # doctest: +NORMALIZE_WHITESPACE
        runs/x.json: no space left on device; free some space (or point --runs-dir and
        --reports-dir elsewhere) and run again
    """
    where = exc.filename or "a file"
    if exc.filename2:
        where = f"{exc.filename} → {exc.filename2}"
    what = (exc.strerror or type(exc).__name__).lower()
    hint = {
        errno.ENOSPC: "free some space (or point --runs-dir and --reports-dir elsewhere)",
        errno.EDQUOT: "free some space (or point --runs-dir and --reports-dir elsewhere)",
        errno.EROFS: "the folder is read-only: use a writable --runs-dir and --reports-dir",
        errno.EACCES: "check the folder's permissions, or use another --runs-dir/--reports-dir",
        errno.EPERM: "check the folder's permissions, or use another --runs-dir/--reports-dir",
    }.get(exc.errno or 0, "check the path")
    return f"{where}: {what}; {hint} and run again"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csi`` console script."""
    try:
        app(args=argv, standalone_mode=False, prog_name="csi")
    except CsiError as exc:
        if _state["debug"]:
            raise
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("error: interrupted (Ctrl-C)")
        return 130
    except OSError as exc:  # the machine: a full disk, a read-only folder
        if _state["debug"]:
            raise
        err.print(f"error: {system_error(exc)}", highlight=False, markup=False, soft_wrap=True)
        return 1
    except Exception as exc:  # usage errors of the command line (typer's click)
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        if _state["debug"]:
            raise
        command = getattr(getattr(exc, "ctx", None), "command_path", "csi")
        err.print(
            f"error: {exc.format_message()} (see `{command} --help`)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        return 2 if exc.exit_code in (1, 2) else exc.exit_code
    return 0
