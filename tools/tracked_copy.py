"""A copy of a checkout's tracked files: what ``git clone`` gives, with the working tree's
content. For work that must not touch the checkout (mutation testing, tests that run make or
build a wheel)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def tracked_copy(root: Path, dest: Path) -> Path:
    """Copy every file git tracks under ``root`` into ``dest`` (created); returns ``dest``."""
    names = (
        subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, names):
        if (root / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, dest / name)
    return dest
