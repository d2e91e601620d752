"""Reading a params file: YAML in, typed and validated :class:`~csi_helpers.params.Params` out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from csi_helpers.errors import ParamsError
from csi_helpers.params.messages import describe, line_numbers
from csi_helpers.params.models import Params

__all__ = ["check_sources", "load_params", "params_json_schema", "validate_params_file"]


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
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found (try params/demo.yaml)")
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: expected a mapping of keys (service, cycle, sources, ...)")
    try:
        return Params.model_validate(data, context={"base_dir": path.resolve().parent})
    except ValidationError as exc:
        lines = line_numbers(text)
        problems = [describe(err, lines, model=Params) for err in exc.errors()]
        raise ParamsError(f"{path}: {len(problems)} problem(s):\n" + "\n".join(problems)) from None


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
