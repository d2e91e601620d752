"""The params JSON Schema (`csi params schema`, for editor completion) describes every
field, from the models' own docstrings (issue 19 point 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from csi_helpers.params import params_json_schema

REPO = Path(__file__).resolve().parents[2]


def undescribed(schema: dict[str, Any]) -> list[str]:
    """Every property without a description, as a path through the schema."""
    missing: list[str] = []

    def walk(node: Any, at: str) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and not prop.get("description"):
                    missing.append(f"{at}.{name}")
                walk(prop, f"{at}.{name}")
            for key in ("items", "additionalProperties"):
                walk(node.get(key), f"{at}[]")
            for key in ("anyOf", "allOf", "oneOf"):
                for option in node.get(key) or []:
                    walk(option, at)
        elif isinstance(node, list):
            for item in node:
                walk(item, at)

    walk(schema, "params")
    for name, definition in schema.get("$defs", {}).items():
        if not definition.get("description") and definition.get("type") == "object":
            missing.append(f"$defs.{name}")
        walk(definition, f"$defs.{name}")
    return missing


def test_every_field_of_the_params_schema_has_a_description():
    schema = params_json_schema()
    assert undescribed(schema) == []
    props = schema["properties"]
    # the cycle: dates (the Cycle model) or a calendar cycle, both described
    as_dates, calendar = props["cycle"]["anyOf"]
    assert props["cycle"]["description"] and as_dates == {"$ref": "#/$defs/Cycle"}
    assert "quarter: previous" in props["cycle"]["description"]
    assert {"quarter", "month"} <= set(calendar["properties"])
    source = schema["$defs"]["Source"]["properties"]
    assert "${VAR}" in source["url"]["description"]  # an example where it helps


def test_the_walk_finds_a_property_without_description():
    schema = {"properties": {"a": {"type": "string", "description": "x"}, "b": {"type": "int"}},
              "$defs": {"C": {"type": "object", "description": "c",
                              "properties": {"d": {"type": "string"}}}}}  # fmt: skip
    assert undescribed(schema) == ["params.b", "$defs.C.d"]


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server reads it: dates and times stay text."""


_EditorLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


@pytest.mark.parametrize(
    "path", sorted(REPO.glob("params/**/*.yaml")), ids=lambda p: p.relative_to(REPO).as_posix()
)
def test_the_bundled_params_pass_the_schema_as_an_editor_checks_them(path):
    """No squiggle in an editor on a params file that ``csi params check`` accepts (the
    ``time`` format of JSON Schema wanted seconds and an offset: "08:00" was flagged)."""
    schema = params_json_schema()
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_EditorLoader)
    problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]
    assert problems == []
