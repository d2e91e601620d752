"""Resuming a run checks that its params are still the ones it was made with.

A full run keeps a copy of its params file in the run folder (``params.yaml``). A
resumed run (``--from-step N``) compares the params file with that copy: a setting
that an earlier step read and that has changed since would leave the report mixing
both files (a new cycle end on the old step 4 tables), so the resume is refused,
naming each changed setting, unless ``--rerun-from-changed`` asks to re-run from the
first step that reads one of them. Changes that only later steps read (a report
title before ``--from-step 6``) are fine; so are edits of comments and layout.

A params file that means more than it says (an ``extends:`` base, a calendar cycle such
as ``{quarter: previous}``, ``--set`` overrides) is pinned first (:func:`pinned_params`):
the run reads one resolved file in every step, so the cycle cannot move under it and the
overrides reach the notebooks.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from csi_helpers.atomic import write_text
from csi_helpers.errors import ParamsError
from csi_helpers.onboarding import check_against_data
from csi_helpers.params import Params, validate_params_file
from csi_helpers.params.loading import load_params, read_params_data, resolved_params_text
from csi_helpers.runfolder.hashing import sha256_file
from csi_helpers.runfolder.manifest import read_manifest

__all__ = [
    "FIRST_STEP_READING",
    "PARAMS_COPY",
    "changed_by_step",
    "changed_settings",
    "keep_params",
    "params_for_run",
    "pinned_params",
    "resume_step",
]

#: Where the resolved params of pinned runs go, under the runs folder.
PINNED = ".params"

#: The run folder's copy of the params file of its full run.
PARAMS_COPY = "params.yaml"

#: The first step that reads each top-level params key (steps before it do not).
FIRST_STEP_READING: dict[str, int] = {
    "schema_version": 1,
    "service": 1,
    "run_id": 1,
    "strategy": 1,
    "demo": 2,
    "cycle": 2,
    "sources": 2,
    "calendars": 4,
    "engine": 4,
    "analysis": 5,
    "business": 5,
    "actions": 5,
    "register": 5,
    "previous_run": 6,
    "report": 6,
}


def pinned_params(
    params_path: Path,
    runs_dir: Path,
    *,
    overrides: Sequence[str] = (),
    run_id: str | None = None,
    today: date | None = None,
) -> Path:
    """The params file a run reads: ``params_path`` itself, or for a file with a base, a
    calendar cycle or overrides, its resolved text written to
    ``<runs_dir>/.params/<run id>.yaml`` (rewritten only when it changes, so that a
    resume finds the same file and hash).

    Raises:
        ParamsError: the file, its base or an override is invalid (nothing written).
    """
    today = today or date.today()
    text = resolved_params_text(params_path, overrides=overrides, today=today)
    if text is None:
        return params_path
    name = run_id or load_params(params_path, overrides=overrides, today=today).default_run_id
    pinned = (runs_dir / PINNED / f"{name}.yaml").resolve()
    if not pinned.is_file() or pinned.read_text(encoding="utf-8") != text:
        pinned.parent.mkdir(parents=True, exist_ok=True)
        write_text(pinned, text)
    return pinned


def params_for_run(
    params_path: Path,
    runs_dir: Path,
    *,
    overrides: Sequence[str] = (),
    run_id: str | None = None,
    against_data: bool = True,
) -> tuple[Path, Params, str]:
    """The params file a run reads (pinned when it must be), its params, and how the
    command named them (``web.yaml --set cycle.quarter=2026q2``, for hints).

    With ``against_data`` (a full run) the params are also checked against the exports
    they name (:func:`~csi_helpers.onboarding.check_against_data`), before any step runs.

    Raises:
        ParamsError: the params are invalid, or do not fit the data they name.
    """
    given = " ".join(
        [shlex.quote(str(params_path)), *(f"--set {shlex.quote(o)}" for o in overrides)]
    )
    pinned = pinned_params(params_path.resolve(), runs_dir, overrides=overrides, run_id=run_id)
    params = validate_params_file(pinned)
    if against_data and (problems := check_against_data(params)):
        raise ParamsError(
            f"{params_path}: {len(problems)} problem(s) with the data it names (no step run):\n"
            + "\n".join(f"  - {line}" for line in problems)
        )
    return pinned, params, given


def keep_params(run_dir: Path, params_path: Path) -> None:
    """Copy the params file of a full run into its run folder."""
    shutil.copyfile(params_path, run_dir / PARAMS_COPY)


def changed_settings(old: Any, new: Any, *, at: str = "") -> list[tuple[str, Any, Any]]:
    """Every setting that differs between two params mappings: (key path, old, new).

    A list item with an ``id`` or ``name`` is matched by it and named by it.

    Example:
        >>> old = {"cycle": {"end": "2026-09-30"}, "sources": [{"name": "t", "path": "a.csv"}]}
        >>> new = {"cycle": {"end": "2026-10-31"}, "sources": [{"name": "t", "path": "b.csv"}]}
        >>> changed_settings(old, new)
        [('cycle.end', '2026-09-30', '2026-10-31'), ('sources[t].path', 'a.csv', 'b.csv')]
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            path = f"{at}.{key}" if at and not str(key).startswith("[") else f"{at}{key}"
            out += changed_settings(old.get(key), new.get(key), at=path)
        return out
    if isinstance(old, list) and isinstance(new, list):
        olds, news = _keyed(old), _keyed(new)
        if olds is not None and news is not None:
            return changed_settings(olds, news, at=at)
        if len(old) == len(new):
            return [c for i, (o, n) in enumerate(zip(old, new, strict=True))
                    for c in changed_settings(o, n, at=f"{at}[{i}]")]  # fmt: skip
    return [] if old == new else [(at, old, new)]


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of mappings by their ``id`` (or ``name``), when every item has a distinct one."""
    keys = [i.get("id", i.get("name")) if isinstance(i, dict) else None for i in items]
    if None in keys or len(set(keys)) != len(keys):
        return None
    return {f"[{k}]": item for k, item in zip(keys, items, strict=True)}


def resume_step(
    run_dir: Path, params_path: Path, from_step: int, *, rerun_from_changed: bool = False
) -> int:
    """The step a resume at ``from_step`` must start from, given what changed in the params.

    Returns:
        ``from_step`` when no setting an earlier step read has changed; with
        ``rerun_from_changed``, the first step that reads a changed setting.

    Raises:
        ParamsError: such a setting changed and ``rerun_from_changed`` is off; the
            message names each change and the two ways on.
    """
    if not (run_dir / "manifest.json").is_file():
        return from_step  # nothing to compare: check_resumable says there is no run
    recorded = read_manifest(run_dir).get("params", {}).get("sha256")
    if recorded == sha256_file(params_path):
        return from_step
    copy = run_dir / PARAMS_COPY
    if copy.is_file():
        changes = changed_settings(read_params_data(copy)[1], read_params_data(params_path)[1])
        first = min((_first_step(path) for path, _, _ in changes), default=from_step)
        lines = [f"{path}: {_shown(o)} → {_shown(n)}" for path, o, n in changes]
    else:  # a run made before copies were kept
        first, lines = 1, ["the file (this run keeps no copy to compare it with)"]
    if first >= from_step:
        return from_step
    if rerun_from_changed:
        return first
    raise ParamsError(
        f"{params_path} has changed since run {run_dir.name} was made, in settings that steps "
        f"before {from_step} read:\n  - " + "\n  - ".join(lines) + f"\nResuming at step "
        f"{from_step} would mix both versions. Add --rerun-from-changed to re-run from step "
        f"{first}, or run from step 1 (omit --from-step)."
    )


def _first_step(path: str) -> int:
    return FIRST_STEP_READING.get(path.split(".")[0].split("[")[0], 1)


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def changed_by_step(run_dir: Path, params_path: Path) -> dict[int, list[str]]:
    """Per step, the settings it reads that differ between ``params_path`` and the run's
    copy (each step reads the settings of its own step and of the steps before it)."""
    copy = run_dir / PARAMS_COPY
    if not copy.is_file() or sha256_file(copy) == sha256_file(params_path):
        return {}
    changes = changed_settings(read_params_data(copy)[1], read_params_data(params_path)[1])
    out: dict[int, list[str]] = {}
    for path, old, new in changes:
        for number in range(_first_step(path), 8):
            out.setdefault(number, []).append(f"{path} ({_shown(old)} → {_shown(new)})")
    return out
