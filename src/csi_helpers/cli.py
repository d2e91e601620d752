"""The ``csi`` command line: run cycles, check params.

Errors of the :class:`~csi_helpers.errors.CsiError` family are printed as one
message (exit 2 for bad input, 1 for a failed step); ``--debug`` shows the
traceback instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from csi_helpers.errors import CsiError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="csi-workbook: the ITIL 7-step continual service improvement process on your data.",
)
params_app = typer.Typer(no_args_is_help=True, help="Check params files and print their schema.")
app.add_typer(params_app, name="params")

_state = {"debug": False}
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
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
    runs_dir: Annotated[Path, typer.Option(help="Where run folders go.")] = Path("runs"),
    reports_dir: Annotated[Path, typer.Option(help="Where HTML reports go.")] = Path("reports"),
    notebooks: Annotated[
        Path | None,
        typer.Option(help="Folder of your own step notebooks (default: the workbook's)."),
    ] = None,
) -> None:
    """Run the seven step notebooks of one cycle into runs/<run-id>/."""
    from csi_helpers.params import load_params
    from csi_helpers.progress import StepProgress
    from csi_helpers.runner import run_cycle

    label = run_id or load_params(params).default_run_id
    with StepProgress(label) as progress:
        result = run_cycle(
            params,
            run_id=run_id,
            runs_dir=runs_dir,
            reports_dir=reports_dir,
            from_step=from_step,
            to_step=to_step,
            notebooks=notebooks,
            on_progress=progress,
        )
    total = sum(e.get("seconds", 0) for e in result.manifest["steps"])
    err.print(
        f"run {result.run_id}: steps {from_step}–{to_step} done in {total:.1f} s; "
        f"folder {result.run_dir}",
        highlight=False,
    )
    for path in result.reports.values():
        out.print(str(path), highlight=False, soft_wrap=True)


@params_app.command("check")
def params_check(
    files: Annotated[list[Path], typer.Argument(help="Params files to validate.")],
) -> None:
    """Validate params files (schema, dates, paths); exit 2 on the first bad one."""
    from csi_helpers.params import validate_params_file

    for file in files:
        p = validate_params_file(file)
        kpis = len(p.strategy.kpis())
        out.print(
            f"{file}: ok ({p.service.id}, cycle {p.cycle.id} {p.cycle.start}–{p.cycle.end}, "
            f"{len(p.sources)} sources, {kpis} KPIs)",
            highlight=False,
        )


@params_app.command("schema")
def params_schema() -> None:
    """Print the JSON Schema of params files (for editor completion and checks)."""
    from csi_helpers.params import params_json_schema

    sys.stdout.write(json.dumps(params_json_schema(), indent=2) + "\n")


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
        out.print(f"needs: {', '.join(d.fields)}", highlight=False)
        for name, default in d.option_defaults().items():
            out.print(f"option {name} = {default!r}", highlight=False)
        return
    for d in LIBRARY.values():
        options = ", ".join(f"{n}={v!r}" for n, v in d.option_defaults().items())
        out.print(f"{d.id:<32} {d.unit:<8} {d.source_kind:<10} {options}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csi`` console script."""
    try:
        app(args=argv, standalone_mode=False)
    except CsiError as exc:
        if _state["debug"]:
            raise
        err.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("aborted")
        return 130
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
