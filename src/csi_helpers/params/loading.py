"""Reading a params file: YAML in, typed and validated :class:`~csi_helpers.params.Params` out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from csi_helpers.errors import ParamsError
from csi_helpers.params.compose import compose, needs_resolving, standalone
from csi_helpers.params.messages import describe, line_numbers
from csi_helpers.params.models import Params
from csi_helpers.params.settings import RegisterSettings

__all__ = [
    "MAX_VALUES",
    "BoundedLoader",
    "check_sources",
    "load_params",
    "params_json_schema",
    "read_params_data",
    "resolved_params_text",
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


def load_params(
    path: str | Path, *, overrides: Iterable[str] = (), today: date | None = None
) -> Params:
    """Read and validate a params file.

    Args:
        path: the YAML file; an ``extends:`` base is merged in, a calendar cycle made
            concrete (see :mod:`~csi_helpers.params.compose`).
        overrides: ``key.path=value`` settings that win over the file (``csi run --set``).
        today: the day a relative cycle (``{quarter: previous}``) counts from.

    Returns:
        The typed params, with relative paths made absolute.

    Raises:
        ParamsError: naming the file, the key path and line, and what to change.
    """
    path = Path(path)
    text, data = read_params_data(path, overrides=overrides, today=today)
    try:
        return Params.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        lines = line_numbers(text)
        problems = [describe(err, lines, model=Params) for err in exc.errors()]
        raise ParamsError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(problems)) from None


def read_params_data(
    path: Path, *, overrides: Iterable[str] = (), today: date | None = None
) -> tuple[str, dict[str, Any]]:
    """A params file's text and its YAML mapping, composed (its base merged in, the
    overrides set, a calendar cycle made concrete) but not yet validated.

    Raises:
        ParamsError: the file (or its base) is missing, not UTF-8, not YAML, or not a
            mapping; see :func:`~csi_helpers.params.compose.compose` for the rest.
    """
    text, data = _read_yaml(path)
    return text, compose(
        path, data, lambda base: _read_yaml(base)[1], overrides=overrides, today=today
    )


def resolved_params_text(
    path: Path, *, overrides: Iterable[str] = (), today: date | None = None
) -> str | None:
    """The params a run of ``path`` means, as one YAML file that stands alone (no base, a
    dated cycle, the overrides set, absolute paths), or None when the file already does.

    A run reads this text in every step, so that a calendar cycle cannot move between
    steps and the overrides reach the notebooks; ``csi run`` writes it beside the runs.
    """
    _, data = _read_yaml(path)
    if not needs_resolving(data, overrides):
        return None
    _, data = read_params_data(path, overrides=overrides, today=today)
    default = str(RegisterSettings.model_fields["directory"].default)
    data = standalone(data, path.resolve().parent, default)
    head = (
        f"# The params of a run of {path.resolve()}, resolved by `csi run`"
        + (f" with --set {' --set '.join(overrides)}" if overrides else "")
        + ".\n# Edit that file, not this one: the next `csi run` writes this one again.\n"
    )
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _read_yaml(path: Path) -> tuple[str, dict[str, Any]]:
    """A params file's text and its YAML mapping, as written."""
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


def validate_params_file(
    path: str | Path, *, overrides: Iterable[str] = (), today: date | None = None
) -> Params:
    """Load a params file and check its sources exist; one ParamsError lists every problem."""
    params = load_params(path, overrides=overrides, today=today)
    problems = check_sources(params, params_path=path)
    if problems:
        raise ParamsError("\n".join(problems))
    return params


def params_json_schema() -> dict[str, Any]:
    """The JSON Schema of params files, for editors (``csi params schema``)."""
    schema = Params.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "csi-workbook params"
    _cycle_or_calendar_cycle(schema["properties"]["cycle"])
    return schema


def _cycle_or_calendar_cycle(schema: dict[str, Any]) -> None:
    """For editors: ``cycle`` is either dates or a calendar cycle (``{quarter: previous}``),
    which loading turns into dates before validation (:mod:`~csi_helpers.params.cycles`)."""
    described = {k: schema.pop(k) for k in ("description",) if k in schema}
    as_dates = dict(schema)
    word = {"type": "string", "description": "previous, current, or one by its id"}
    named = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "quarter": word | {"examples": ["previous", "current", "2026q3"]},
            "month": word | {"examples": ["previous", "current", "2026-07"]},
            "id": {"type": "string", "description": "Id of the cycle; default e.g. 2026q3."},
            "label": {"type": "string", "description": "Label; default e.g. 2026 Q3."},
        },
        "oneOf": [{"required": ["quarter"]}, {"required": ["month"]}],
    }
    schema.clear()
    schema.update({"anyOf": [as_dates, named], **described})
