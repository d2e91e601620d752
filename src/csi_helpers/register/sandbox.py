"""A throw-away copy of the register, for runs that must not change the real one.

Only a full chain run of a cycle writes to the CSI register. A notebook re-run in
JupyterLab, a plain ``papermill`` call, ``csi run --dry-run`` and a run under a
trial run id still do everything step 7 does, but against a copy: a SQLite
register holding the real one's entries (temporary, or kept in the run folder for
the rest of the step), so the step shows what it *would* write and the real
register is left byte for byte as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from csi_helpers.register.connect import sqlite_url
from csi_helpers.register.schema import ENTRIES
from csi_helpers.register.store import Register, open_register

__all__ = ["sandbox"]


@contextmanager
def sandbox(
    url: str, *, writer: str, path: Path | None = None, fresh: bool = True
) -> Iterator[Register]:
    """A register holding the entries of the register at ``url``, to write to instead of it.

    The real register is opened to read only (no lock, no creation); a SQLite file
    that does not exist yet gives an empty copy.

    Args:
        url: the real register's URL (as :func:`~csi_helpers.register.register_url` gives it).
        writer: the run id that writes to the copy.
        path: where to keep the copy, so that later calls of the same step see what
            earlier ones wrote to it (step 7 keeps it in the run folder); by default a
            temporary file, removed on exit.
        fresh: copy the real register again even if ``path`` holds a copy.

    Example:
        >>> import tempfile, pathlib
        >>> url = sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "web.sqlite")
        >>> with sandbox(url, writer="trial") as copy:
        ...     copy.add_entries([{"id": "trial-a1", "title": "Add capacity"}], by="trial")
        ...     len(copy.entries())
        1
        >>> pathlib.Path(url.removeprefix("sqlite:///")).exists()
        False
    """
    with tempfile.TemporaryDirectory(prefix="csi-register-") as tmp:
        where = path or Path(tmp) / "copy.sqlite"
        if fresh or not where.exists():
            rows = _entries(url)
            where.parent.mkdir(parents=True, exist_ok=True)
            where.unlink(missing_ok=True)
            with open_register(sqlite_url(where), create=True) as copy:
                if rows:
                    with copy.transaction() as conn:
                        conn.execute(sa.insert(ENTRIES), rows)
        copy = open_register(sqlite_url(where), writer=writer)
        try:
            yield copy
        finally:
            copy.close()


def _entries(url: str) -> list[dict]:
    """The real register's entries as rows to insert (missing values as NULL)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    with open_register(url) as real:
        frame = real.entries()
    frame = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
