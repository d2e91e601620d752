"""The run manifest: what produced each file of a run folder.

``manifest.json`` sits at the top of every run folder. Per step it records the
status, start and end, the injected parameters, every input and output file
with its sha256 and row count; for the run, the params file and its hash, the
package versions and the workbook's git commit. The runner owns it; steps
only log their reads and writes (see :mod:`csi_helpers.runfolder.context`).
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from csi_helpers import atomic
from csi_helpers.errors import RunFolderError
from csi_helpers.runfolder.layout import STEPS
from csi_helpers.runfolder.paths import project_root

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_manifest(*, run_id: str, params_path: Path, params_sha256: str) -> dict[str, Any]:
    """A manifest with every step pending."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "status": "pending",
        "created": utc_now(),
        "updated": utc_now(),
        "params": {"path": str(params_path), "sha256": params_sha256},
        "environment": environment_info(),
        "steps": [
            {"number": s.number, "key": s.key, "notebook": s.notebook, "status": "pending"}
            for s in STEPS
        ],
        "reports": {},
    }


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    """Read a run folder's manifest, or explain why it cannot be used."""
    path = Path(run_dir) / MANIFEST_NAME
    if not path.is_file():
        raise RunFolderError(f"{path}: no manifest; this is not a complete run folder")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RunFolderError(f"{path}: manifest is not valid JSON ({exc})") from None
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        raise RunFolderError(
            f"{path}: manifest version {manifest.get('manifest_version')!r} is not "
            f"{MANIFEST_VERSION}; run the cycle again with `csi run`"
        )
    return manifest


def write_manifest(run_dir: str | Path, manifest: dict[str, Any]) -> Path:
    manifest["updated"] = utc_now()
    return atomic.write_json(Path(run_dir) / MANIFEST_NAME, manifest)


def has_manifest(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a manifest (a run the runner made)."""
    return (run_dir / MANIFEST_NAME).is_file()


def step_entry(manifest: dict[str, Any], number: int) -> dict[str, Any]:
    return manifest["steps"][number - 1]


def environment_info() -> dict[str, Any]:
    """Python, platform, the workbook's version and commit, and its dependencies' versions."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "workbook": _workbook_info(),
        "packages": _dependency_versions(),
    }


def _dependency_versions() -> dict[str, str]:
    try:
        requirements = metadata.requires("csi-workbook") or []
    except metadata.PackageNotFoundError:  # pragma: no cover - source tree without install
        return {}
    versions = {}
    for req in requirements:
        if "extra ==" in req:
            continue
        name = re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0]
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return dict(sorted(versions.items()))


def _workbook_info() -> dict[str, Any]:
    try:
        version = metadata.version("csi-workbook")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        version = "0.0.0"
    info: dict[str, Any] = {"version": version, "git_commit": None, "git_dirty": None}
    root = project_root()
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return info
    info.update(git_commit=commit, git_dirty=bool(dirty))
    return info
