"""Warm a step's kernel before its notebook runs: import the heavy modules, bind no names.

The runner starts the next step's kernel while the current step runs (see
:mod:`csi_helpers.chain.kernels.pool`) and has it import what that step will import:
the modules the notebook imports, the heavy packages (pandas, matplotlib,
statsmodels, scikit-learn...) its ``csi_helpers`` modules import, even inside
functions, and the matplotlib inline backend. The notebook then finds them in
``sys.modules`` and its own imports cost nothing; what is warmed is only what
the step's own code imports somewhere. The warm-up runs silently
(``store_history=False``), so the execution count, ``In``/``Out`` and the
user namespace are those of a fresh kernel: it is one expression that calls
:func:`warm_up` through ``__import__`` and assigns nothing.

Example:
    >>> print(warm_up_code(["numpy"]))
    __import__('csi_helpers.chain.kernels.warmup', fromlist=['warm_up']).warm_up(['numpy'])
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import sys
import threading
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from csi_helpers.compat import ALIASES

HEAVY_PACKAGES: frozenset[str] = frozenset(
    {
        "numpy", "pandas", "pyarrow", "matplotlib", "seaborn", "scipy", "statsmodels",
        "sklearn", "duckdb", "ibis",
    }
)  # fmt: skip
"""Packages worth importing ahead when a step's helpers import them inside a function."""

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # src/csi_helpers

#: One ``ast.parse`` at a time: CPython 3.11 keeps the AST builder's recursion depth per
#: interpreter, so two threads parsing at once (the runner and the zygote's helper-reading
#: thread) can fail with "SystemError: AST constructor recursion depth mismatch"
#: (python/cpython#106905; seen in CI).
_PARSING = threading.Lock()


def _parse(source: str) -> ast.Module:
    with _PARSING:
        return ast.parse(source)


def warm_up(modules: Iterable[str], *, inline: bool = True) -> None:
    """Import ``modules`` in this process, skipping any that fail.

    A module that fails here is left out of ``sys.modules``, so the notebook's
    own import raises the real error in the cell that asked for it. With
    ``inline`` (in a kernel), also load matplotlib's inline backend when pyplot
    is loaded, which hooks figures into IPython as a first figure would.

    Example:
        >>> import sys
        >>> warm_up(["json", "no_such_module_here"])
        >>> "json" in sys.modules and "no_such_module_here" not in sys.modules
        True
    """
    for name in modules:
        _try_import(name)
    if inline and "matplotlib.pyplot" in sys.modules:
        _try_import("matplotlib_inline.backend_inline")


def _try_import(name: str) -> None:
    with contextlib.suppress(Exception):  # the notebook's own import reports it, in its cell
        importlib.import_module(name)


def warm_up_code(modules: Iterable[str]) -> str:
    """The one expression a kernel runs to warm up: imports ``modules``, binds no name."""
    return (
        "__import__('csi_helpers.chain.kernels.warmup', fromlist=['warm_up'])"
        f".warm_up({[str(m) for m in modules]!r})"
    )


def notebook_imports(notebook: str | Path) -> list[str]:
    """Modules a notebook imports at the top level of its code cells, in order.

    ``from a import b`` yields ``a`` and ``a.b`` (``b`` may be a submodule;
    :func:`warm_up` skips it when it is not). Cells that are not Python (magics)
    are skipped. An old module path of 0.1 (:data:`csi_helpers.compat.ALIASES`)
    yields the module it now names: warming the alias itself would use up its
    deprecation warning before the notebook's own import could show it.

    Example:
        >>> import tempfile, nbformat
        >>> from nbformat.v4 import new_code_cell, new_notebook
        >>> path = tempfile.mkdtemp() + "/n.ipynb"
        >>> code = "import numpy as np\\nfrom csi_helpers.steps import present"
        >>> nb = new_notebook(cells=[new_code_cell(code)])
        >>> nbformat.write(nb, path)
        >>> notebook_imports(path)
        ['numpy', 'csi_helpers.steps', 'csi_helpers.steps.present']
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))  # nbformat: seconds to import
    names: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            tree = _parse(source if isinstance(source, str) else "".join(source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return list(dict.fromkeys(ALIASES.get(name, (name,))[0] for name in names))


def zygote_modules(per_step: list[list[str]]) -> list[str]:
    """What the zygote imports: every step's modules, in the order the steps need them.

    The zygote forks a step's kernel as soon as that step's modules are in, so the
    first step never waits for what only later ones use; each later kernel is forked
    with its libraries already loaded (shared pages, not copies).

    Example:
        >>> zygote_modules([["pandas", "scipy"], ["pandas", "statsmodels"], ["numpy"]])
        ['pandas', 'scipy', 'statsmodels', 'numpy']
    """
    return list(dict.fromkeys(name for modules in per_step for name in modules))


def step_warm_modules(notebook: str | Path) -> list[str]:
    """What to import into a step's kernel ahead: the notebook's imports, then the heavy
    packages its ``csi_helpers`` modules import inside functions (e.g. ``statsmodels.api``
    for a forecast), which the step would otherwise load mid-run.
    """
    direct = notebook_imports(notebook)
    own = tuple(m for m in direct if m == "csi_helpers" or m.startswith("csi_helpers."))
    return list(dict.fromkeys([*direct, *helpers_heavy_imports(own)]))


@cache
def helpers_heavy_imports(modules: tuple[str, ...]) -> tuple[str, ...]:
    """Heavy packages (:data:`HEAVY_PACKAGES`) imported anywhere in ``modules``' source,
    following ``csi_helpers`` imports (top-level or inside functions) transitively.

    Example:
        >>> "statsmodels.api" in helpers_heavy_imports(("csi_helpers.steps.analyse",))
        True
    """
    seen: set[str] = set()
    todo = list(modules)
    heavy: list[str] = []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for target in _module_imports(name):
            root = target.partition(".")[0]
            if root == "csi_helpers":
                todo.append(target)
            elif root in HEAVY_PACKAGES:
                heavy.append(target)
    return tuple(dict.fromkeys(heavy))


@cache
def _module_imports(name: str) -> tuple[str, ...]:
    """Every name imported anywhere in ``csi_helpers`` module ``name`` (() if not a module)."""
    found = _package_source(name)
    if found is None:
        return ()
    source, package = found
    tree = _parse(source.read_text(encoding="utf-8"))
    return tuple(t for node in ast.walk(tree) for t in _imported_names(node, package))


def _package_source(name: str) -> tuple[Path, str] | None:
    """The source file of ``csi_helpers`` module ``name`` and its package, found
    without importing anything (None when ``name`` is not a module)."""
    parts = name.split(".")
    base = _PACKAGE_ROOT.joinpath(*parts[1:])
    if (base / "__init__.py").is_file():
        return base / "__init__.py", name
    if base.with_suffix(".py").is_file() and len(parts) > 1:
        return base.with_suffix(".py"), ".".join(parts[:-1])
    return None


def _imported_names(node: ast.AST, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        base = f"{parent}.{base}" if base else parent
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]
