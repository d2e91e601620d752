"""``csi status`` and ``csi use``: where a run's steps stand, and which run notebooks open."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from csi_helpers.cli.common import err, out

__all__ = ["status", "use"]

_COLOURS = {
    "done": "green",
    "stale": "yellow",
    "failed": "red",
    "pending": "dim",
    "running": "cyan",
}


def status(
    run_id: Annotated[str, typer.Argument(help="The run, e.g. shopfront-2026q3.")],
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
) -> None:
    """Each step of a run: done, stale (what it read has changed since), failed, pending or
    running, and why; `csi run PARAMS --resume` re-runs what is not done."""
    from csi_helpers.chain.params_change import changed_by_step
    from csi_helpers.runfolder.manifest import read_manifest
    from csi_helpers.runfolder.status import first_not_done, step_states

    run_dir = runs_dir / run_id
    manifest = read_manifest(run_dir)
    params_path = Path(manifest["params"]["path"])
    changed = changed_by_step(run_dir, params_path) if params_path.is_file() else {}
    states = step_states(run_dir, params_changed=changed)
    for s in states:
        colour = _COLOURS.get(s.state, "")
        who = f"  ({s.by}, {s.ended})" if s.state == "done" and s.by else ""
        why = f"  {s.why}" if s.why else ""
        out.print(
            f"{s.number} {s.key:<12} [{colour}]{s.state:<8}[/{colour}]{who}{why}",
            highlight=False,
            soft_wrap=True,
        )
    first = first_not_done(states)
    if first is not None:
        err.print(
            f"re-run steps {first}–7 with: csi run {params_path} --run-id {run_id} --resume",
            highlight=False,
            soft_wrap=True,
        )


def use(
    run_id: Annotated[
        str, typer.Argument(help="The run notebooks should open, e.g. shopfront-2026q2.")
    ],
    runs_dir: Annotated[Path, typer.Option(help="Where run folders are.")] = Path("runs"),
) -> None:
    """Make a run the current one: a step notebook opened in JupyterLab with its default
    parameters works on it (every `csi run` makes its own run current)."""
    from csi_helpers.runfolder.current import set_current_run
    from csi_helpers.runfolder.manifest import read_manifest

    run_dir = runs_dir / run_id
    manifest = read_manifest(run_dir)
    path = set_current_run(run_dir, Path(manifest["params"]["path"]))
    out.print(
        f"current run: {run_dir.resolve()} (recorded in {path})", highlight=False, soft_wrap=True
    )
