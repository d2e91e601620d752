"""The package's shape, as ARCHITECTURE.md states it: imports point one way, no circles.

The import graph is read from the source (every ``import`` and ``from … import``,
inside functions and ``TYPE_CHECKING`` blocks too), so a lazy import cannot hide a
circle. A ``from package import name`` counts as an import of ``package.name``
when that is a module, else of the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from csi_helpers.compat import ALIASES

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "csi_helpers"

#: The rooms from the top down; a module may import its own room and the rooms below it.
#: Rooms on one line are siblings: none imports another.
LAYERS: list[tuple[str, ...]] = [
    ("cli",),
    ("chain",),
    ("steps",),
    ("runfolder",),
    ("actions", "register", "onboarding"),
    ("analysis", "strategy", "processing", "connectors", "demo"),
    ("report",),
    ("params",),
    ("kpis", "tables"),
    ("errors", "atomic", "lazy", "compat"),
]
#: The package's own __init__ (names on demand) and the 0.1 aliases stand outside the rooms.
OUTSIDE = {PACKAGE, *ALIASES}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in (SRC / PACKAGE).rglob("*.py")}


def imports_of(name: str) -> Iterator[tuple[str, int, tuple[str, ...]]]:
    """(imported module, line, imported names) for every import of the package's modules."""
    path = modules()[name]
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    yield alias.name, node.lineno, ()
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                parent = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    parent = parent.rpartition(".")[0]
                base = f"{parent}.{base}".rstrip(".")
            if base.split(".")[0] != PACKAGE:
                continue
            names = tuple(a.name for a in node.names)
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules()]
            for target in submodules:
                yield target, node.lineno, ()
            if len(submodules) < len(names):
                yield base, node.lineno, tuple(n for n in names if f"{base}.{n}" not in modules())


@cache
def graph() -> dict[str, set[str]]:
    return {name: {target for target, _, _ in imports_of(name)} for name in modules()}


def room(name: str) -> str | None:
    """The room of a module (``csi_helpers.steps.process`` → ``steps``); None outside them."""
    if name in OUTSIDE:
        return None
    return name.split(".")[1]


def layer(name: str) -> int:
    for depth, rooms in enumerate(LAYERS):
        if room(name) in rooms:
            return depth
    raise AssertionError(f"{name}: in no room of LAYERS; add its room to ARCHITECTURE.md")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, and modules importing themselves
    (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_every_module():
    assert len(modules()) > 100
    assert "csi_helpers.steps.process" in graph()["csi_helpers.steps.analyse.tables"] or (
        "csi_helpers.steps.common" in graph()["csi_helpers.steps.analyse.tables"]
    )


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"a"}}) == [["a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_every_module_is_in_a_room():
    for name in modules():
        if name not in OUTSIDE:
            layer(name)


def test_imports_point_down_and_siblings_stay_apart():
    wrong = []
    for name, targets in graph().items():
        if room(name) is None:
            continue
        for target in targets:
            if room(target) is None and target != PACKAGE:
                wrong.append(f"{name} imports {target}, an alias of 0.1")
            elif room(target) is None or room(target) == room(name):
                continue
            elif layer(target) <= layer(name):
                wrong.append(f"{name} imports {target} (room {room(target)!r} is not below)")
    assert wrong == []


def test_only_the_steps_take_a_step_context():
    """The step context (reading and writing a run folder) is the steps' business alone."""
    context = "csi_helpers.runfolder.context"
    users = {n for n, t in graph().items() if context in t and room(n) not in (None, "runfolder")}
    assert users and {room(n) for n in users} == {"steps"}


def test_no_step_reaches_into_another_step():
    """A step module imports no other step's module, only what several share (common)."""
    reaching = []
    for name, targets in graph().items():
        if room(name) != "steps" or name == "csi_helpers.steps":
            continue
        own = ".".join(name.split(".")[:3])  # csi_helpers.steps.<step>
        for target in targets:
            if room(target) != "steps" or target == "csi_helpers.steps.common":
                continue
            if target != own and not target.startswith(own + "."):
                reaching.append(f"{name} imports {target}")
    assert reaching == []


def test_no_private_name_crosses_a_room():
    crossing = []
    for name in modules():
        for target, line, names in imports_of(name):
            private = [n for n in names if n.startswith("_")]
            if private and room(target) != room(name):
                crossing.append(f"{name}:{line} imports {private} from {target}")
    assert crossing == []


def assigned_names(tree: ast.Module) -> set[str]:
    """The names a module's top level assigns, tuple targets included."""
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        targets += [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            names |= {e.id for e in elements if isinstance(e, ast.Name)}
    return names


PACKAGES = sorted(n for n, p in modules().items() if p.name == "__init__.py")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_it_offers(package):
    tree = ast.parse(modules()[package].read_text(encoding="utf-8"))
    assert "__all__" in assigned_names(tree), f"{package} declares no __all__"


IMPORT_EVERYTHING = """
import importlib, json, sys, warnings
from papermill.engines import papermill_engines

callers = []  # modules that filter warnings or register papermill engines while importing

def spy(original):
    def call(*args, **kwargs):
        callers.append(sys._getframe(1).f_globals.get("__name__", "?"))
        return original(*args, **kwargs)
    return call

warnings.filterwarnings = spy(warnings.filterwarnings)
warnings.simplefilter = spy(warnings.simplefilter)
papermill_engines.register = spy(papermill_engines.register)
hooks = len(sys.meta_path)
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({
    "imported": len(sys.argv) - 1,
    "ours": sorted({c for c in callers if c.startswith("csi_helpers")}),
    "import_hooks_added": len(sys.meta_path) - hooks,
    "rfc3987_syntax_blocked": sys.modules.get("rfc3987_syntax", 0) is None,
}))
"""


def test_importing_the_package_changes_nothing():
    """No module registers, patches or filters anything when it is imported: warnings filters,
    papermill's engines, import hooks and the modules jsonschema loads stay as they are (the
    runner and begin_step make those changes when they run)."""
    import json
    import subprocess
    import sys

    names = sorted(n for n in modules() if n not in OUTSIDE)
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING, *names],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {
        "imported": len(names),
        "ours": [],
        "import_hooks_added": 0,
        "rfc3987_syntax_blocked": False,
    }


#: Rooms whose functions compute from data and options alone (report: its charts, tables,
#: style; its html, pages and browser modules write files, as their job is).
PURE = ("kpis", "analysis", "strategy", "processing")
PURE_MODULES = (
    "csi_helpers.report.charts",
    "csi_helpers.report.tables",
    "csi_helpers.report.style",
)
FILE_ACCESS = {
    "open", "read_text", "write_text", "read_bytes", "write_bytes", "read_parquet", "to_parquet",
    "read_csv", "to_csv", "read_excel", "to_excel", "read_json", "to_json", "savefig", "mkdir",
    "unlink", "rmtree", "ParquetFile",
}  # fmt: skip


def test_computing_rooms_touch_no_file():
    """Steps wire, packages compute: no call in the computing rooms reads or writes a file."""
    touching = []
    for name, path in modules().items():
        if room(name) not in PURE and name not in PURE_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in FILE_ACCESS:
                    touching.append(f"{name}:{node.lineno} calls {called}")
    assert touching == []


def dotted_references(text: str) -> set[str]:
    import re

    return set(re.findall(r"csi_helpers(?:\.[A-Za-z_][A-Za-z0-9_]*)+", text))


def resolves(reference: str) -> bool:
    """Whether ``csi_helpers.a.b.c`` names a module, or an attribute of the longest module."""
    import importlib
    import warnings

    parts = reference.split(".")
    for k in range(len(parts), 0, -1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for name in parts[k:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_the_docs_name_only_modules_and_names_that_exist():
    """Docstrings, the README and ARCHITECTURE.md follow the code: every ``csi_helpers.x``
    they name exists, and every module path ARCHITECTURE.md lists is a file."""
    import re

    root = SRC.parent
    texts = {p: p.read_text(encoding="utf-8") for p in (SRC / PACKAGE).rglob("*.py")}
    texts |= {
        root / n: (root / n).read_text(encoding="utf-8") for n in ("README.md", "ARCHITECTURE.md")
    }
    missing = sorted(
        f"{path.relative_to(root)}: {ref}"
        for path, text in texts.items()
        for ref in dotted_references(text)
        if not resolves(ref)
    )
    assert missing == []
    layout = (root / "ARCHITECTURE.md").read_text(encoding="utf-8")
    tree = layout.split("```")[1]
    folder, listed = "", []
    for line in tree.splitlines()[2:]:  # after "notebooks/..." and "src/csi_helpers/"
        entry = line.strip().split()
        if not entry:
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 2:
            folder = ""
        for name in entry:
            if not re.fullmatch(r"[a-z_]+(/|\.py)", name):
                break
            if name.endswith("/") and indent == 2:
                folder = name
            listed.append((folder if indent > 2 else "") + name)
    absent = [p for p in listed if not (SRC / PACKAGE / p).exists()]
    assert listed and absent == []
