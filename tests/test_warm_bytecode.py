"""tools/warm_bytecode.py: what `make setup` imports once so that its bytecode is written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from csi_helpers.chain.kernels.warmup import notebook_imports
from csi_helpers.compat import ALIASES

REPO = Path(__file__).resolve().parents[1]


def load_tool():
    spec = importlib.util.spec_from_file_location(
        "warm_bytecode", REPO / "tools" / "warm_bytecode.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_imports_what_every_step_kernel_will_import():
    names = set(load_tool().modules(REPO / "notebooks"))
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert set(notebook_imports(notebook)) <= names, notebook.name
    # the helpers' in-function imports (statsmodels for the forecast), the kernel's own start
    assert {"statsmodels.api", "sklearn.ensemble", "ipykernel_launcher"} <= names
    assert {m for m in names if m.startswith("csi_helpers.steps.")} >= {
        "csi_helpers.steps.analyse", "csi_helpers.steps.process", "csi_helpers.steps.present",
    }  # fmt: skip
    assert set(ALIASES) <= names  # old notebooks' imports are compiled too
