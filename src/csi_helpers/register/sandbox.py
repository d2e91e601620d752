"""A throw-away copy of the register, for runs that must not change the real one.

Only a full chain run of a cycle writes to the CSI register. A notebook re-run in
JupyterLab, a plain ``papermill`` call, ``csi run --dry-run`` and a run under a
trial run id still do everything step 7 does, but against a copy: a temporary
SQLite register holding the real one's entries, thrown away afterwards, so the
step shows what it *would* write and the real register is left byte for byte as
it was.
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
def sandbox(url: str, *, writer: str) -> Iterator[Register]:
    """A temporary register holding the entries of the register at ``url``.

    The real register is opened to read only (no lock, no creation); a SQLite file
    that does not exist yet gives an empty copy.

    Args:
        url: the real register's URL (as :func:`~csi_helpers.register.register_url` gives it).
        writer: the run id that writes to the copy.

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
    rows = _entries(url)
    with tempfile.TemporaryDirectory(prefix="csi-register-") as tmp:
        copy = open_register(sqlite_url(Path(tmp) / "copy.sqlite"), create=True, writer=writer)
        try:
            if rows:
                with copy.transaction() as conn:
                    conn.execute(sa.insert(ENTRIES), rows)
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
