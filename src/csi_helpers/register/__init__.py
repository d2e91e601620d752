"""The CSI register: improvement actions with owners, baselines and a lifecycle, in a database.

Step 7 adds its candidate actions as ``proposed`` entries
(:func:`sync_actions`); people move them through the lifecycle with
``csi register update``; every change is kept in a history table. SQLite by
default (``registers/<service id>.sqlite`` beside the params folder), any
SQLAlchemy URL by ``register.url`` in params.

Example:
    >>> import tempfile, pathlib
    >>> url = sqlite_url(pathlib.Path(tempfile.mkdtemp()) / "web.sqlite")
    >>> with open_register(url, create=True, writer="web-q1") as register:
    ...     register.add_entries([{"id": "web-q1-a1", "title": "Add capacity"}], by="web-q1")
    ...     entry = register.update("web-q1-a1", status="approved", by="ops lead")
    >>> entry.status
    'approved'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from csi_helpers.register.connect import sqlite_url
from csi_helpers.register.export import export_register, neutralise, neutralised
from csi_helpers.register.lifecycle import FINAL, OPEN, STATUSES, allowed_next
from csi_helpers.register.locking import LockInfo, RegisterLocked
from csi_helpers.register.store import (
    ENTRY_COLUMNS,
    HISTORY_COLUMNS,
    Entry,
    Register,
    open_register,
)
from csi_helpers.register.sync import SyncResult, next_cycle_end, proposed_entries, sync_actions

__all__ = [
    "ENTRY_COLUMNS",
    "FINAL",
    "HISTORY_COLUMNS",
    "OPEN",
    "STATUSES",
    "Entry",
    "LockInfo",
    "Register",
    "RegisterLocked",
    "SyncResult",
    "allowed_next",
    "export_register",
    "neutralise",
    "neutralised",
    "next_cycle_end",
    "open_register",
    "proposed_entries",
    "register_url",
    "sqlite_url",
    "sync_actions",
]


def register_url(params: Any) -> str:
    """The register's URL for a params file: ``register.url``, else its SQLite file.

    The URL is returned as params give it (``${VAR}`` unexpanded);
    :func:`open_register` expands it when it connects.
    """
    settings = params.register_settings
    if settings.url:
        return settings.url
    return sqlite_url(Path(settings.directory) / f"{params.service.id}.sqlite")
