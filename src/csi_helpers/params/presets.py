"""Packaged source presets: the column names and vocabularies of common ITSM exports.

A preset (``preset: servicenow`` on a source) fills in a source's ``columns``,
``values``, ``states``, ``timestamp_format`` and ``na_values`` for its kind; what
the params file says wins, key by key.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

__all__ = ["PRESETS_DIR", "load_preset", "merge", "preset_names"]

PRESETS_DIR = Path(__file__).parent / "presets"


def preset_names() -> list[str]:
    """The packaged presets: ``<name>.yaml`` files in ``csi_helpers/params/presets``."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def load_preset(name: str, *, kind: str | None = None) -> dict[str, Any]:
    """A preset's source defaults for ``kind`` (its ``sources.<kind>`` section).

    A preset file maps source kinds to the keys of a source (columns, values,
    states, timestamp_format, na_values, ...). Keys the params file gives win.
    """
    path = PRESETS_DIR / f"{name}.yaml"
    if not path.is_file():
        close = difflib.get_close_matches(name, preset_names(), n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ValueError(f"unknown preset {name!r}; {hint}presets: {', '.join(preset_names())}")
    sections = yaml.safe_load(path.read_text(encoding="utf-8")).get("sources", {})
    if kind not in sections:
        raise ValueError(
            f"preset {name!r} has no defaults for kind {kind!r}; it covers: {', '.join(sections)}"
        )
    return sections[kind]


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``; mappings merged key by key, anything else replaced."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
