"""Reading a params file: YAML in, typed and validated :class:`~csi_helpers.params.Params` out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from csi_helpers.errors import ParamsError
from csi_helpers.params.messages import describe, line_numbers
from csi_helpers.params.models import Params

__all__ = [
    "MAX_VALUES",
    "BoundedLoader",
    "check_sources",
    "load_params",
    "params_json_schema",
    "read_params_data",
    "validate_params_file",
]

#: Most values a params file may hold once its aliases (``*name``) are expanded: a real
#: file holds a few hundred; nested aliases of aliases ("billion laughs") hold billions.
MAX_VALUES = 100_000


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with a bound on the expanded size and dates checked where
    they stand.

    An impossible date (``2026-06-31``) is a YAML error at its line and column, not a
    bare ``ValueError``; a document that would expand to more than :data:`MAX_VALUES`
    values is refused before anything is built from it.
    """

    def compose_document(self) -> Any:
        node = super().compose_document()
        if _expanded_size(node, {}) > MAX_VALUES:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"expands to more than {MAX_VALUES:,} values (aliases of aliases): "
                "refused; write the values out instead of nesting aliases",
                node.start_mark,
            )
        return node

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{node.value!r} is not a date ({exc}): check day and month",
                node.start_mark,
            ) from None


BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", BoundedLoader.construct_yaml_timestamp)


def _expanded_size(node: Any, sizes: dict[int, int]) -> int:
    """How many values ``node`` holds with every alias expanded (a node shared by
    aliases counted each time it is used, computed once)."""
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1  # a node that holds itself (recursive alias) counts once
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    else:
        size = 1
    sizes[id(node)] = size
    return size


def load_params(path: str | Path) -> Params:
    """Read and validate a params file.

    Args:
        path: the YAML file.

    Returns:
        The typed params, with relative paths made absolute.

    Raises:
        ParamsError: naming the file, the key path and line, and what to change.
    """
    path = Path(path)
    text, data = read_params_data(path)
    try:
        return Params.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        lines = line_numbers(text)
        problems = [describe(err, lines, model=Params) for err in exc.errors()]
        raise ParamsError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(problems)) from None


def read_params_data(path: Path) -> tuple[str, dict[str, Any]]:
    """A params file's text and its YAML mapping, not yet validated.

    Raises:
        ParamsError: the file is missing, not UTF-8, not YAML, or not a mapping.
    """
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found (try params/demo.yaml)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ParamsError(
            f"{path}, line {line}: not UTF-8 text (byte {exc.object[exc.start]:#04x}); a params "
            "file is YAML saved as UTF-8: save it again with that encoding"
        ) from None
    try:
        data = yaml.load(text, Loader=BoundedLoader)  # a SafeLoader, bounded
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of keys (service, cycle, sources, ...)")
    return text, data


def check_sources(params: Params, *, params_path: str | Path | None = None) -> list[str]:
    """List source files that are missing (files the demo will generate count as present)."""
    where = f"{params_path}: " if params_path else ""
    demo_dir = params.demo.directory if params.demo else None
    problems = []
    for i, s in enumerate(params.sources):
        if s.path is None or s.path.exists() or (demo_dir and s.path.is_relative_to(demo_dir)):
            continue
        problems.append(
            f"{where}sources[{i}].path: file not found: {s.path} "
            "(relative paths resolve against the params file's folder)"
        )
    return problems


def validate_params_file(path: str | Path) -> Params:
    """Load a params file and check its sources exist; one ParamsError lists every problem."""
    params = load_params(path)
    problems = check_sources(params, params_path=path)
    if problems:
        raise ParamsError("\n".join(problems))
    return params


def params_json_schema() -> dict[str, Any]:
    """The JSON Schema of params files, for editors (``csi params schema``)."""
    schema = Params.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "csi-workbook params"
    return schema
