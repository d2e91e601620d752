"""The register's lock: one row in ``csi_lock`` naming the writer that holds it.

A run that writes takes the lock when it opens the register and gives it back
when it closes it. Every write transaction reads the row first and is refused,
before it writes anything, when the lock belongs to another writer (told apart
by a random token, so two runs with the same id exclude each other too).

Stale locks: a lock never expires by itself — a slow run must not lose it to a
clock — so the lock of a run that died stays until a person removes it with
``csi register unlock``. The refusal names the holder's run, age, host and
process, and says when that process (on this host) is gone, so the person can
tell a stale lock from a live one.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from csi_helpers.errors import RegisterError
from csi_helpers.register.schema import LOCK

LOCK_NAME = "register"


class RegisterLocked(RegisterError):
    """Another writer holds the register's lock."""


@dataclass(frozen=True)
class LockInfo:
    """Who holds the register's lock."""

    owner: str
    since: datetime  # UTC
    host: str | None
    pid: int | None
    token: str

    def describe(self, *, now: datetime | None = None) -> str:
        """E.g. ``run web-q3 since 2026-10-01 09:00:00 UTC (4 min ago; host ops1, process 812)``."""
        age = _age((now or utc_now()) - self.since)
        where = f"host {self.host}, process {self.pid}" if self.host else "unknown host"
        return f"run {self.owner} since {self.since:%Y-%m-%d %H:%M:%S} UTC ({age} ago; {where})"

    @property
    def looks_stale(self) -> bool:
        """True when the lock was taken on this host by a process that no longer runs."""
        if self.host != socket.gethostname() or not self.pid:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, someone else's
            return False
        return False


def locked_message(shown: str, held: LockInfo) -> str:
    stale = "; that process is no longer running, so the lock is stale" if held.looks_stale else ""
    return (
        f"register {shown} is locked by {held.describe()}{stale}; nothing was changed. "
        "Wait for that run to finish or, if it died, run `csi register unlock`"
    )


def read_lock(conn: sa.Connection) -> LockInfo | None:
    """The lock row, if any (``None`` too when the table does not exist yet)."""
    if not sa.inspect(conn).has_table(LOCK.name):
        return None
    row = conn.execute(sa.select(LOCK).where(LOCK.c.name == LOCK_NAME)).mappings().first()
    if row is None:
        return None
    return LockInfo(
        owner=row["owner"], since=row["since"], host=row["host"], pid=row["pid"], token=row["token"]
    )


def check_lock(conn: sa.Connection, *, shown: str, token: str | None, writer: str | None) -> None:
    """Refuse (before any write) unless the lock is free or held by ``token``."""
    held = read_lock(conn)
    if held is None:
        if token is not None:
            raise RegisterError(
                f"register {shown}: the lock of run {writer} was removed (`csi register unlock`) "
                "while it was writing; nothing more was written — run it again"
            )
        return
    if held.token != token:
        raise RegisterLocked(locked_message(shown, held))


def take_lock(conn: sa.Connection, *, shown: str, owner: str) -> str:
    """Put this writer's row in ``csi_lock`` (inside a serialised transaction); its token."""
    held = read_lock(conn)
    if held is not None:
        raise RegisterLocked(locked_message(shown, held))
    token = uuid.uuid4().hex
    conn.execute(
        sa.insert(LOCK).values(
            name=LOCK_NAME,
            token=token,
            owner=owner,
            since=utc_now(),
            host=socket.gethostname(),
            pid=os.getpid(),
        )
    )
    return token


def utc_now() -> datetime:
    """Now in UTC, without a zone (as the register stores times)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
