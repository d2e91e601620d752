"""Content hashes and row counts of run-folder files, for the manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from csi_helpers.runfolder.parquet import open_parquet

# Any positive size gives the same digest (the tests compare it with hashlib's for four
# sizes); 1 MiB keeps memory flat on files of any size. mutation/EQUIVALENT.md.
CHUNK = 1 << 20  # pragma: no mutate


def sha256_file(path: str | Path, *, chunk: int = CHUNK) -> str:
    """The hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def row_count(path: str | Path) -> int | None:
    """Rows of a Parquet table, or items of a JSON list; None for other files."""
    path = Path(path)
    if path.suffix == ".parquet":
        return open_parquet(path).metadata.num_rows
    if path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return len(data) if isinstance(data, list) else None
    return None


def describe_file(path: str | Path, *, root: str | Path) -> dict[str, object]:
    """The manifest entry of one file: path relative to root, sha256, rows."""
    path = Path(path)
    return {
        "path": path.relative_to(root).as_posix(),
        "sha256": sha256_file(path),
        "rows": row_count(path),
    }
