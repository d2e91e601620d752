"""A new team's workbook in one command (``csi init DIR``), from the template that ships
inside the package.

The workbook holds the seven notebooks (its own copy, to edit), ``params/`` with the bundled
demo as ``example.yaml`` and a starting ``my_service.yaml`` of the chosen preset, a Makefile
with ``run``/``test``/``lab`` that installs the same csi-workbook that made it, a README for
the team and a ``.gitignore``. ``csi run`` then finds the workbook's notebooks from the params
file or the working folder (:func:`csi_helpers.runfolder.paths.notebooks_dir`), so several
workbooks share one installation.

Where the template's parts are: the Makefile, README, ``.gitignore`` and presets are package
data (``onboarding/template/``); the notebooks, the demo params and the lock files live once,
at the root of the source tree, and a wheel carries copies of them in
``onboarding/template/`` (``setup.py`` copies them at build time).
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

from csi_helpers.errors import UsageError

__all__ = ["PRESETS", "STEP_NOTEBOOK", "TEMPLATE", "create_workbook", "install_spec", "shipped"]

TEMPLATE = Path(__file__).resolve().parent / "template"
#: The source tree this package sits in, when it is not installed from a wheel.
SOURCE_TREE = Path(__file__).resolve().parents[3]
#: The presets of ``csi init --preset``: the starting ``params/my_service.yaml``.
PRESETS = ("servicenow", "jira", "event-log")
#: A notebook every workbook has: how a workbook folder is recognised.
STEP_NOTEBOOK = "notebooks/01_define_strategy.ipynb"

#: What a workbook copies from the source tree (or a wheel's copy): name in the template →
#: name in the workbook.
SHIPPED = {
    "notebooks": "notebooks",
    "params/demo_q2.yaml": "params/example.yaml",
    "requirements.lock": "requirements.lock",
    "requirements-lab.lock": "requirements-lab.lock",
}


def shipped(name: str) -> Path:
    """A part of the template that lives at the source tree's root (``notebooks``, the demo
    params, the lock): the wheel's copy when installed from one, else the source tree's.

    Raises:
        UsageError: neither is there (a broken installation).
    """
    for root in (TEMPLATE, SOURCE_TREE):
        if (root / name).exists():
            return root / name
    raise UsageError(
        f"the workbook template has no {name} (looked in {TEMPLATE} and {SOURCE_TREE}): "
        "reinstall csi-workbook"
    )


def install_spec() -> str:
    """What the new workbook's Makefile installs: this very csi-workbook. A checkout
    installed editable gives ``-e <checkout>``; a local folder or wheel its path; one from
    an index ``csi-workbook==<version>``; not installed at all, the source tree."""
    found = list(metadata.distributions(name="csi-workbook"))
    if not found:
        return str(SOURCE_TREE)
    # the installed one records how it was installed; a build's src/*.egg-info does not
    dist = next((d for d in found if d.read_text("direct_url.json")), found[0])
    direct = json.loads(dist.read_text("direct_url.json") or "null")
    if not direct or not str(direct.get("url", "")).startswith("file://"):
        return f"csi-workbook=={dist.version}"
    path = direct["url"].removeprefix("file://")
    return f"-e {path}" if direct.get("dir_info", {}).get("editable") else path


def create_workbook(folder: Path, *, preset: str = "servicenow", force: bool = False) -> list[Path]:
    """Write a new workbook into ``folder`` (created; it must be empty unless ``force``).

    Returns:
        The files written, in the order written.

    Raises:
        UsageError: an unknown preset, or a folder that holds files already.
    """
    if preset not in PRESETS:
        raise UsageError(f"--preset {preset}: not a preset; presets: {', '.join(PRESETS)}")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: a file, not a folder; name a new folder for the workbook")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UsageError(
            f"{folder}: not empty; name a new folder, or add --force to write the workbook's "
            "files over the ones there (other files are left alone)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, target in SHIPPED.items():
        source, dest = shipped(name), folder / target
        if source.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            for notebook in sorted(source.glob("*.ipynb")):
                written.append(Path(shutil.copyfile(notebook, dest / notebook.name)))
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            written.append(Path(shutil.copyfile(source, dest)))
    fields = {
        "csi_workbook": install_spec(),
        "params": "params/example.yaml",
        "title": f"{folder.resolve().name} CSI workbook",
        "team": folder.resolve().name,
        "version": _version(),
        "preset": preset,
    }
    for name, target in (("Makefile", "Makefile"), ("README.md", "README.md")):
        text = (TEMPLATE / name).read_text(encoding="utf-8").format(**fields)
        written.append(_write(folder / target, text))
    written.append(_write(folder / ".gitignore", (TEMPLATE / "gitignore").read_text("utf-8")))
    starting = (TEMPLATE / "presets" / f"{preset}.yaml").read_text(encoding="utf-8")
    strategy = (TEMPLATE / "presets" / "_strategy.yaml").read_text(encoding="utf-8")
    written.append(_write(folder / "params" / "my_service.yaml", f"{starting}\n{strategy}"))
    (folder / "data").mkdir(exist_ok=True)
    return written


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _version() -> str:
    try:
        return metadata.version("csi-workbook")
    except metadata.PackageNotFoundError:
        return "(source tree)"
