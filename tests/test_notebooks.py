"""The step notebooks: stripped, documented parameters, thin."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import papermill
import pytest

from csi_helpers.runfolder.layout import STEPS

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.notebook)
def test_notebook_is_committed_clean_and_documents_its_parameters(step):
    path = NOTEBOOKS / step.notebook
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    params = papermill.inspect_notebook(str(path))
    # step 7 also takes whether it writes the CSI register (the chain sets it)
    extra = {"write_register": "bool"} if step.number == 7 else {}
    types = {"run_dir": "str", "params_path": "str"} | extra
    assert set(params) == set(types)
    for name, p in params.items():
        assert p["inferred_type_name"] == types[name] and p["help"], p
    if extra:
        assert params["write_register"]["default"] == "False"  # Lab and papermill only read
    assert nb.cells[0].cell_type == "markdown" and f"Step {step.number}" in nb.cells[0].source
    assert nb.metadata.kernelspec.name == "csi-workbook"


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.notebook)
def test_notebook_defines_no_functions_or_classes(step):
    nb = nbformat.read(NOTEBOOKS / step.notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda), cell.source
