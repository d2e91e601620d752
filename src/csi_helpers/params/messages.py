"""Validation errors in the analyst's words: the key path, its line in the file, a did-you-mean.

Pydantic reports a location such as ``("sources", 0, "colums")``; :func:`describe`
turns one error into ``sources[0].colums (line 12): unknown key; did you mean
'columns'?``, finding the line from the YAML document itself.
"""

from __future__ import annotations

import difflib
import types
import typing
from datetime import date
from typing import Any

import yaml
from pydantic import BaseModel

__all__ = ["describe", "line_numbers"]


def describe(err: Any, lines: dict[tuple[Any, ...], int], *, model: type[BaseModel]) -> str:
    """One pydantic error of ``model`` as one line for the analyst (``lines``: their lines)."""
    loc = tuple(err["loc"])
    where = _dotted(loc) or "(top level)"
    line = _nearest_line(loc, lines)
    at = f" (line {line})" if line else ""
    if err["type"] == "extra_forbidden":
        known = _field_names(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"  - {where}{at}: unknown key{suggestion} (allowed: {', '.join(known)})"
    if err["type"] == "missing":
        return f"  - {where}{at}: required key is missing"
    message = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    shown = f" (got {given!r})" if isinstance(given, str | int | float | date) else ""
    return f"  - {where}{at}: {message}{shown}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _field_names(model: Any, parent: tuple[Any, ...]) -> list[str]:
    for part in parent:
        if isinstance(part, int):
            continue
        fields = model.model_fields if _is_model(model) else {}
        field = next((f for n, f in fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        model = _inner_model(field.annotation)
    if not _is_model(model):
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _inner_model(annotation: Any) -> Any:
    if _is_model(annotation):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    if isinstance(annotation, types.UnionType):  # pragma: no cover - covered by get_args
        return None
    return None


def line_numbers(text: str) -> dict[tuple[Any, ...], int]:
    """Map each key path of a YAML document to its 1-based line."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    found: dict[tuple[Any, ...], int] = {}

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        found[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                found[(*path, key.value)] = key.start_mark.line + 1
                walk(value, (*path, key.value))
                found[(*path, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return found


def _nearest_line(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None
