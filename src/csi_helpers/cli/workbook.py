"""``csi init DIR``: a new team's workbook, from the template inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from csi_helpers.cli.common import err, out

__all__ = ["init"]


def init(
    folder: Annotated[Path, typer.Argument(help="The new workbook's folder, e.g. ../web-csi.")],
    preset: Annotated[
        str,
        typer.Option(
            help="The starting params/my_service.yaml: servicenow (incident list), jira "
            "(issue export) or event-log (status changes, any tool; XES too)."
        ),
    ] = "servicenow",
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder that is not empty.")
    ] = False,
) -> None:
    """Create a new team's CSI workbook: the seven notebooks, params/ (the demo as
    example.yaml, a starting my_service.yaml), a Makefile with run/test/lab, a README and a
    .gitignore. `cd` into it and `make run`."""
    from csi_helpers.onboarding.workbook import create_workbook

    written = create_workbook(folder, preset=preset, force=force)
    err.print(f"workbook written: {len(written)} files in {folder}", highlight=False)
    out.print(
        f"next: cd {folder} && make run   (the demo first; then see README.md, 'Your own data')",
        highlight=False,
        soft_wrap=True,
    )
