"""Params built from more than one file: ``extends:`` a base file, ``--set`` overrides from
the command line, and calendar cycles (``cycle: {quarter: previous}``) made concrete.

The order is fixed, so that a cron line needs no hand-made file: the base first, then the
file that extends it (its keys win), then each ``--set`` (they win over both), then the
cycle worked out from the day of the run. Mappings merge key by key; a list in the later
file replaces the base's list whole (``sources``, ``objectives``), so that a service can
drop a source of the base; so does a ``cycle`` (dates and a calendar cycle do not mix),
and ``--set cycle.quarter=…`` (or ``cycle.month``) replaces a dated cycle.

Paths in a base file are relative to the base file's folder, as in any params file.

Example:
    >>> merged({"a": {"x": 1, "y": 2}, "l": [1, 2]}, {"a": {"y": 3}, "l": [9]})
    {'a': {'x': 1, 'y': 3}, 'l': [9]}
    >>> with_overrides({"cycle": {"id": "2026q3"}}, ["cycle.id=2026q4", "report.title=Q4"])
    {'cycle': {'id': '2026q4'}, 'report': {'title': 'Q4'}}
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from csi_helpers.errors import ParamsError
from csi_helpers.params.cycles import calendar_cycle, is_calendar_cycle

__all__ = [
    "MAX_DEPTH",
    "PATH_KEYS",
    "compose",
    "merged",
    "needs_resolving",
    "standalone",
    "with_overrides",
]

#: Key paths of the file paths in a params file (``*`` for each item of a list): a base
#: file's relative paths are made absolute against its own folder before merging.
PATH_KEYS = (("demo", "directory"), ("sources", "*", "path"), ("register", "directory"))

#: Most files one ``extends`` chain may hold (a file that extends itself is caught sooner).
MAX_DEPTH = 8


def compose(
    path: Path,
    data: dict[str, Any],
    read: Callable[[Path], dict[str, Any]],
    *,
    overrides: Iterable[str] = (),
    today: date | None = None,
) -> dict[str, Any]:
    """A params file's mapping with its bases merged in, the overrides applied and a
    calendar cycle made concrete.

    Args:
        path: the params file ``data`` was read from.
        data: its YAML mapping.
        read: reads another params file's mapping (a base).
        overrides: ``key.path=value`` strings, values read as YAML.
        today: the day a relative cycle counts from; today when None.

    Raises:
        ParamsError: a base that is missing, extends itself, or is not a mapping; an
            override that is not ``key=value``; a calendar cycle that cannot be read.
    """
    data = _with_bases(path, data, read, seen=())
    data = with_overrides(data, overrides)
    cycle = data.get("cycle")
    if is_calendar_cycle(cycle):
        try:
            data["cycle"] = calendar_cycle(cycle, today=today or date.today())
        except ValueError as exc:
            raise ParamsError(f"{path}: {exc}") from None
    return data


def needs_resolving(data: dict[str, Any], overrides: Iterable[str] = ()) -> bool:
    """Whether a params file's mapping (as written) means more than it says: a base, a
    calendar cycle, or overrides; a run then pins what it meant (:func:`standalone`)."""
    return "extends" in data or is_calendar_cycle(data.get("cycle")) or bool(list(overrides))


def standalone(data: dict[str, Any], folder: Path, register_default: str) -> dict[str, Any]:
    """A composed mapping that means the same from any folder: its relative paths made
    absolute against ``folder`` (the params file's), the register's default folder too."""
    data = _absolute_paths(data, folder)
    register = data.setdefault("register", {})
    if isinstance(register, dict) and not register.get("url") and "directory" not in register:
        register["directory"] = os.path.normpath(folder / register_default)
    return data


def merged(
    base: dict[str, Any], later: dict[str, Any], *, whole: tuple[str, ...] = ("cycle",)
) -> dict[str, Any]:
    """``later`` over ``base``: mappings merged key by key, except the keys ``whole``;
    everything else replaced."""
    out = copy.deepcopy(base)
    for key, value in later.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in whole:
            out[key] = merged(out[key], value, whole=())
        else:
            out[key] = copy.deepcopy(value)
    return out


def with_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """``data`` with each ``key.path=value`` set (a list item by its index: ``sources.0.path``).

    Raises:
        ParamsError: an override without ``=`` or a key, or a path through a value that
            is neither a mapping nor a list, or a list index out of range.
    """
    data = copy.deepcopy(data)
    for item in overrides:
        key, sep, text = item.partition("=")
        keys = [k.strip() for k in key.split(".")]
        if not sep or not all(keys):
            raise ParamsError(f"--set {item!r}: write key.path=value, e.g. --set cycle.id=2026q4")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        calendar = keys[:1] == ["cycle"] and keys[1:] in (["quarter"], ["month"])
        if calendar and not is_calendar_cycle(data.get("cycle")):
            data["cycle"] = {}  # a calendar cycle instead of the file's dates
        _set(data, keys, value, item)
    return data


def _set(data: dict[str, Any], keys: list[str], value: Any, item: str) -> None:
    node: Any = data
    for depth, key in enumerate(keys):
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ParamsError(
                    f"--set {item!r}: {'.'.join(keys[:depth])} is a list of {len(node)}; "
                    f"name an item by its index 0 to {len(node) - 1}"
                )
            index: Any = int(key)
        else:
            index = key
            if depth < len(keys) - 1 and node.get(key) is None:
                node[key] = {}  # a section the file leaves out
        if depth == len(keys) - 1:
            node[index] = value
            return
        if not isinstance(node[index], dict | list):
            raise ParamsError(
                f"--set {item!r}: {'.'.join(keys[: depth + 1])} holds a single value, not keys"
            )
        node = node[index]


def _with_bases(
    path: Path, data: dict[str, Any], read: Callable[[Path], dict[str, Any]], seen: tuple
) -> dict[str, Any]:
    name = data.get("extends")
    if name is None:
        return data
    data = {k: v for k, v in data.items() if k != "extends"}
    if not isinstance(name, str) or not name.strip():
        raise ParamsError(f"{path}: extends: name one base params file, e.g. extends: base.yaml")
    base_path = Path(os.path.normpath(path.resolve().parent / os.path.expanduser(name)))
    chain = (*seen, path.resolve())
    if base_path in chain or len(chain) >= MAX_DEPTH:
        files = " → ".join(p.name for p in (*chain, base_path))
        raise ParamsError(f"{path}: extends goes round in a circle or too deep: {files}")
    if not base_path.is_file():
        raise ParamsError(
            f"{path}: extends: {name}: no such file ({base_path}); the base is relative to "
            "the file that extends it"
        )
    base = _with_bases(base_path, read(base_path), read, chain)
    return merged(_absolute_paths(base, base_path.parent), data)


def _absolute_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``data`` with the relative paths of :data:`PATH_KEYS` made absolute against
    ``folder`` (``~`` and ``${VAR}`` left for loading to expand)."""
    data = copy.deepcopy(data)

    def walk(node: Any, keys: tuple[str, ...]) -> None:
        head, rest = keys[0], keys[1:]
        children = (
            list(enumerate(node))
            if head == "*" and isinstance(node, list)
            else [(head, node.get(head))]
            if isinstance(node, dict)
            else []
        )
        for index, child in children:
            if rest:
                walk(child, rest)
            elif isinstance(child, str) and not child.startswith(("~", "$", "/")):
                node[index] = os.path.normpath(folder / child)

    for keys in PATH_KEYS:
        walk(data, keys)
    return data
