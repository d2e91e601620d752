"""``csi params``: check params files against the data they name, list the canonical
columns of a kind of source, print the JSON Schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from csi_helpers.cli.common import out
from csi_helpers.errors import ParamsError, UsageError

__all__ = ["params_app"]

params_app = typer.Typer(no_args_is_help=True, help="Check params files and print their schema.")


@params_app.command("check")
def params_check(
    files: Annotated[list[Path], typer.Argument(help="Params files to validate.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override a setting, as `csi run --set`."),
    ] = None,
) -> None:
    """Validate params files (schema, dates, paths) and check them against the exports they
    name (columns, states, values, the cycle); exit 2 on the first bad one."""
    from csi_helpers.onboarding import check_against_data
    from csi_helpers.params import validate_params_file

    for file in files:
        p = validate_params_file(file, overrides=set_ or ())
        problems = check_against_data(p)
        if problems:
            raise ParamsError(
                f"{file}: {len(problems)} problem(s) with the data it names:\n"
                + "\n".join(f"  - {line}" for line in problems)
            )
        kpis = len(p.strategy.kpis())
        out.print(
            f"{file}: ok ({p.service.id}, cycle {p.cycle.id} {p.cycle.start}–{p.cycle.end}, "
            f"{len(p.sources)} sources, {kpis} KPIs)",
            highlight=False,
        )


@params_app.command("columns")
def params_columns(
    kind: Annotated[str, typer.Argument(help="A kind of source: tickets, ticket_events, ...")],
) -> None:
    """The canonical columns of a kind of source: what each means, its type, whether a row
    needs it, and the KPIs of the library that read it (map an export's columns onto them
    with `columns:`)."""
    from csi_helpers.kpis import LIBRARY
    from csi_helpers.tables.canonical import CANONICAL, KEYS
    from csi_helpers.tables.meanings import meaning

    if kind not in CANONICAL:
        raise UsageError(f"{kind!r}: not a kind of source; kinds: {', '.join(CANONICAL)}")
    for name, column_type in CANONICAL[kind].items():
        feeds = {kind, "tickets"} if kind == "ticket_events" else {kind}  # rebuilt into tickets
        kpis = sorted(d.id for d in LIBRARY.values() if d.source_kind in feeds and name in d.fields)
        needed = "needed by every row" if name in KEYS[kind] else "optional"
        used = f"\n    KPIs: {', '.join(kpis)}" if kpis else ""
        out.print(
            f"{name} ({column_type}, {needed}): {meaning(kind, name)}{used}",
            highlight=False,
            soft_wrap=True,
        )


@params_app.command("schema")
def params_schema() -> None:
    """Print the JSON Schema of params files (for editor completion and checks)."""
    from csi_helpers.params import params_json_schema

    sys.stdout.write(json.dumps(params_json_schema(), indent=2) + "\n")


@params_app.command("sniff")
def params_sniff(
    files: Annotated[
        list[Path], typer.Argument(help="Exports: CSV, gzip, Excel, Parquet, JSON lines, XES.")
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the params here (paths relative to it)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output.")] = False,
) -> None:
    """Propose a params file for these exports: each source's kind, columns, timestamp
    format, missing-value texts and states, a cycle from the data's span and a starter
    strategy, every guess commented with its evidence. Edit what is wrong, then `csi params
    check` it."""
    from datetime import date

    from csi_helpers.atomic import write_text
    from csi_helpers.onboarding.proposal import proposal_text
    from csi_helpers.onboarding.sniff import sniff_file

    if output is not None and output.exists() and not force:
        raise UsageError(f"{output}: exists; name another file, or add --force to replace it")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"{', '.join(missing)}: no such file")
    text = proposal_text([sniff_file(f) for f in files], output, today=date.today())
    if output is None:
        sys.stdout.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text(output, text)
    out.print(f"{output}: proposed; check it with `csi params check {output}`", highlight=False)
