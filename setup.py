"""Build hook: a wheel of csi-workbook carries the workbook template's parts that live once at
the root of the source tree (the step notebooks, the demo params, the runtime and lab locks),
so that ``pip install csi-workbook`` is enough for ``csi init`` (see
csi_helpers.onboarding.workbook). Everything else about the package is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Source-tree paths copied into the package's template folder (as in SHIPPED there).
SHIPPED = ("notebooks", "params/demo_q2.yaml", "requirements.lock", "requirements-lab.lock")


class BuildWithTemplate(build_py):
    def run(self) -> None:
        super().run()
        template = Path(self.build_lib) / "csi_helpers" / "onboarding" / "template"
        for name in SHIPPED:
            source, target = ROOT / name, template / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                target.mkdir(exist_ok=True)
                for notebook in sorted(source.glob("*.ipynb")):
                    shutil.copyfile(notebook, target / notebook.name)
            else:
                shutil.copyfile(source, target)


setup(cmdclass={"build_py": BuildWithTemplate})
