"""What every params section shares: strict, frozen models, ids, paths relative to the file."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationInfo

__all__ = ["SLUG", "StrictModel", "resolve_path"]

#: An id: lower-case letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
SLUG = r"^[a-z0-9][a-z0-9_.-]*$"


class StrictModel(BaseModel):
    """Base for every params section: unknown keys are errors, values frozen; each field's
    docstring is its description in the JSON Schema (``csi params schema``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def resolve_path(value: Path | None, info: ValidationInfo) -> Path | None:
    """A path from params, relative to the params file's folder (the validation context's
    ``base_dir``), with ``~`` expanded."""
    if value is None:
        return None
    value = Path(os.path.expanduser(str(value)))
    base = (info.context or {}).get("base_dir")
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    return Path(os.path.normpath(value))
