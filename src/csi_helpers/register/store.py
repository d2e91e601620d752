"""The register as a database: open it, read it, change it one transaction at a time.

Every write is one transaction: it changes the entries and appends their
history together, or leaves the register as it was. Writers are serialised
(:mod:`.connect`) and each write first reads the lock (:mod:`.locking`): a
register locked by another writer is refused, with the lock's owner and age,
before anything is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from csi_helpers.errors import RegisterError
from csi_helpers.register import lifecycle, locking, schema
from csi_helpers.register.connect import connect, database_error, serialise_writers
from csi_helpers.register.locking import LockInfo, utc_now
from csi_helpers.register.schema import ENTRIES, HISTORY, LOCK

ENTRY_COLUMNS = [c.name for c in ENTRIES.columns]
HISTORY_COLUMNS = [c.name for c in HISTORY.columns]


@dataclass(frozen=True)
class Entry:
    """One register entry (a row of ``csi_entries``)."""

    id: str
    title: str
    finding_id: str | None
    action_id: str | None
    kpi_id: str | None
    kpi: str | None
    metric: str | None
    owner: str | None
    due: date | None
    expected: str | None
    base_value: float | None
    target_value: float | None
    review_date: date | None
    baseline_run_id: str | None
    created_run_id: str | None
    status: str
    outcome_note: str | None
    created_at: datetime
    updated_at: datetime
    expected_change: float | None = None  # the change the action promised (−0.5: halve it)

    @property
    def has_baseline(self) -> bool:
        """Whether there is a value and a run to compare the KPI against at review."""
        return self.base_value is not None and bool(self.baseline_run_id)


class Register:
    """An open register. Make one with :func:`open_register`; close it (or use ``with``).

    Reads return DataFrames or :class:`Entry`; every change goes through
    :meth:`update` or :meth:`add_entries`, one transaction each.
    """

    def __init__(self, engine: sa.Engine, *, shown: str, secrets: list[str]) -> None:
        self._engine = engine
        self.url = shown  # the URL as configured, password masked
        self._secrets = secrets
        self._lock_token: str | None = None
        self.writer: str | None = None
        self.schema_version = 0

    # ------------------------------------------------------------------ life

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release this writer's lock (if it still holds it) and drop the connections."""
        try:
            if self._lock_token is not None:
                token, self._lock_token = self._lock_token, None
                with self._write(check_lock=False) as conn:
                    conn.execute(sa.delete(LOCK).where(LOCK.c.token == token))
        finally:
            self._engine.dispose()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as conn, conn.begin():
                yield conn
        except sa.exc.DBAPIError as exc:
            raise database_error(exc, shown=self.url, secrets=self._secrets) from None

    @contextmanager
    def _write(self, *, check_lock: bool = True) -> Iterator[sa.Connection]:
        """One serialised write transaction, refused up front if another writer holds the lock."""
        try:
            with self._engine.connect() as conn:
                conn.execution_options(csi_write=True)
                with conn.begin():
                    serialise_writers(conn)
                    if check_lock:
                        locking.check_lock(
                            conn, shown=self.url, token=self._lock_token, writer=self.writer
                        )
                    yield conn
        except sa.exc.DBAPIError as exc:
            raise database_error(exc, shown=self.url, secrets=self._secrets) from None

    # ------------------------------------------------------------------ opening

    def _prepare(self, *, create: bool) -> None:
        """Check the schema version; create or migrate the tables when needed."""
        with self._read() as conn:
            version = schema.read_version(conn, shown=self.url)
        known = schema.current_version()
        if version > known:
            raise RegisterError(
                f"register {self.url} has schema version {version}, newer than this "
                f"workbook knows ({known}); it was left untouched. Upgrade csi-workbook to "
                "open it"
            )
        if version == 0 and not create:
            raise RegisterError(
                f"register {self.url} holds no register tables; step 7 of `csi run` creates them"
            )
        if version < known:
            with self._write() as conn:
                version = schema.migrate(conn, schema.read_version(conn, shown=self.url))
        self.schema_version = version

    # ------------------------------------------------------------------ reads

    def lock(self) -> LockInfo | None:
        """Who holds the lock now, if anyone."""
        with self._read() as conn:
            return locking.read_lock(conn)

    def unlock(self) -> LockInfo | None:
        """Remove the lock whoever holds it (for a run that died); returns what was removed."""
        with self._write(check_lock=False) as conn:
            held = locking.read_lock(conn)
            conn.execute(sa.delete(LOCK))
        return held

    def entries(self, *, status: str | Iterable[str] | None = None) -> pd.DataFrame:
        """All entries (or those in the given status or statuses), oldest first."""
        query = sa.select(ENTRIES)
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            query = query.where(
                ENTRIES.c.status.in_([lifecycle.normalise_status(s) for s in wanted])
            )
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        rows = sorted(rows, key=lambda r: (r["created_at"], _natural(r["id"])))
        return pd.DataFrame([dict(r) for r in rows], columns=ENTRY_COLUMNS)

    def get(self, entry_id: str) -> Entry:
        """One entry; a RegisterError names close ids when there is no such entry."""
        with self._read() as conn:
            return self._get(conn, entry_id)

    def history(self, entry_id: str | None = None) -> pd.DataFrame:
        """The change history, of one entry or of all, in the order the changes were made."""
        query = sa.select(HISTORY).order_by(HISTORY.c.id)
        if entry_id is not None:
            query = query.where(HISTORY.c.entry_id == entry_id)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=HISTORY_COLUMNS)

    def _get(self, conn: sa.Connection, entry_id: str) -> Entry:
        row = conn.execute(sa.select(ENTRIES).where(ENTRIES.c.id == entry_id)).mappings().first()
        if row is None:
            ids = list(conn.execute(sa.select(ENTRIES.c.id)).scalars())
            close = difflib.get_close_matches(entry_id, ids, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise RegisterError(
                f"register {self.url}: no entry {entry_id!r}{hint} "
                f"({len(ids)} entries; `csi register list` shows them)"
            )
        return Entry(**{f.name: row[f.name] for f in fields(Entry)})

    # ------------------------------------------------------------------ writes

    def update(
        self,
        entry_id: str,
        *,
        by: str,
        status: str | None = None,
        owner: str | None = None,
        due: date | None = None,
        note: str | None = None,
        review_date: date | None = None,
        base_value: float | None = None,
        baseline_run_id: str | None = None,
        target_value: float | None = None,
    ) -> Entry:
        """Change an entry in one transaction and append one history row per changed field.

        ``note`` becomes the entry's outcome note and is attached to every history
        row of this change. A status change must follow the lifecycle; a review
        date needs a baseline (base value and baseline run). Nothing changes when
        any check fails.
        """
        with self._write() as conn:
            entry = self._get(conn, entry_id)
            wanted: dict[str, Any] = {}
            if status is not None:
                new = lifecycle.normalise_status(status)
                if new != entry.status:
                    lifecycle.check_transition(entry.id, entry.status, new)
                wanted["status"] = new
            wanted |= {
                "owner": owner,
                "due": due,
                "review_date": review_date,
                "base_value": base_value,
                "baseline_run_id": baseline_run_id,
                "target_value": target_value,
                "outcome_note": note,
            }
            changes = {k: v for k, v in wanted.items() if v is not None and v != getattr(entry, k)}
            after = {f.name: getattr(entry, f.name) for f in fields(Entry)} | changes
            no_baseline = after["base_value"] is None or not after["baseline_run_id"]
            if "review_date" in changes and no_baseline:
                raise RegisterError(
                    f"entry {entry.id}: a review date needs a baseline to compare against; "
                    "give the base value and the baseline run too "
                    "(`--base VALUE --baseline-run RUN`); nothing was changed"
                )
            if not changes:
                return entry
            at = utc_now()
            conn.execute(
                sa.update(ENTRIES).where(ENTRIES.c.id == entry.id).values(**changes, updated_at=at)
            )
            self._log(
                conn,
                [(entry.id, k, getattr(entry, k), v) for k, v in changes.items()],
                at=at,
                by=by,
                note=note,
            )
            return self._get(conn, entry.id)

    def add_entries(self, rows: list[dict[str, Any]], *, by: str, note: str | None = None) -> None:
        """Insert new entries (status ``proposed``) with their creation in the history.

        All rows or none: one transaction. Each row holds the entry columns
        (``id`` and ``title`` at least).
        """
        with self._write() as conn:
            self._insert(conn, rows, by=by, note=note)

    def _insert(
        self, conn: sa.Connection, rows: list[dict[str, Any]], *, by: str, note: str | None
    ) -> None:
        at = utc_now()
        for row in rows:
            values = {c: row.get(c) for c in ENTRY_COLUMNS} | {
                "status": "proposed",
                "created_at": at,
                "updated_at": at,
            }
            conn.execute(sa.insert(ENTRIES).values(**values))
            self._log(conn, [(values["id"], "status", None, "proposed")], at=at, by=by, note=note)

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A write transaction for helpers of this package (e.g. :func:`sync_actions`)."""
        with self._write() as conn:
            yield conn

    def _log(
        self,
        conn: sa.Connection,
        changes: list[tuple[str, str, Any, Any]],
        *,
        at: datetime,
        by: str,
        note: str | None,
    ) -> None:
        conn.execute(
            sa.insert(HISTORY),
            [
                {
                    "entry_id": entry_id,
                    "changed_at": at,
                    "field": field,
                    "old": _as_text(old),
                    "new": _as_text(new),
                    "changed_by": by,
                    "note": note,
                }
                for entry_id, field, old, new in changes
            ],
        )

    # ------------------------------------------------------------------ review

    def due_for_review(self, on: date) -> pd.DataFrame:
        """Open entries whose review date is on or before ``on``, each with its baseline.

        Raises:
            RegisterError: naming every due entry that has no baseline (base value
                or baseline run) and how to give it one; the register is not changed.
        """
        due = self.entries(status=lifecycle.OPEN)
        due = due[due["review_date"].notna()]
        due = due[due["review_date"].map(lambda d: d <= on).astype(bool)]  # empty stays a frame
        missing = due[due["base_value"].isna() | due["baseline_run_id"].isna()]
        if not missing.empty:
            lines = [
                f"  - {r.id} ({r.title}): review date {r.review_date}, "
                f"base value {_shown(r.base_value)}, baseline run {_shown(r.baseline_run_id)}"
                for r in missing.itertuples(index=False)
            ]
            raise RegisterError(
                f"register {self.url}: {len(lines)} entr{'y is' if len(lines) == 1 else 'ies are'} "
                f"due for review on {on} but ha{'s' if len(lines) == 1 else 've'} no baseline to "
                "compare against:\n" + "\n".join(lines) + "\nGive each a baseline with "
                "`csi register update ID --base VALUE --baseline-run RUN`, or withdraw it "
                "(`--status withdrawn`); the register was not changed"
            )
        return due.reset_index(drop=True)


# ---------------------------------------------------------------------- opening


def open_register(
    url: str,
    *,
    create: bool = False,
    writer: str | None = None,
    timeout_s: float = 10.0,
) -> Register:
    """Open the register at a SQLAlchemy URL, migrating an older schema.

    Args:
        url: e.g. ``sqlite:////abs/registers/web.sqlite`` or
            ``postgresql+psycopg://csi:${CSI_REGISTER_PW}@db:5432/csi``; ``${VAR}``
            references are expanded here, from the environment.
        create: make the database file and tables when missing (step 7); the
            command line opens existing registers only.
        writer: the run id that will write; takes the register's lock until
            :meth:`Register.close`. Without it, each write still runs as one
            transaction and is refused while another writer holds the lock.
        timeout_s: how long to wait for a busy database (SQLite's busy timeout,
            PostgreSQL's connect timeout).

    Raises:
        RegisterError: unreachable, missing, newer schema than this workbook,
            or locked by another writer; the message names the URL, password masked.
    """
    connected = connect(url, create=create, timeout_s=timeout_s)
    register = Register(connected.engine, shown=connected.shown, secrets=connected.secrets)
    try:
        register._prepare(create=create)
        if writer:
            with register._write(check_lock=False) as conn:
                token = locking.take_lock(conn, shown=register.url, owner=writer)
            register._lock_token, register.writer = token, writer
    except BaseException:
        connected.engine.dispose()
        raise
    return register


# ---------------------------------------------------------------------- helpers


def _natural(entry_id: str) -> tuple[str, int]:
    """``web-q2-a10`` after ``web-q2-a9``."""
    stem = entry_id.rstrip("0123456789")
    number = entry_id[len(stem) :]
    return stem, int(number) if number else -1


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _shown(value: Any) -> str:
    missing = value is None or (isinstance(value, float) and pd.isna(value))
    return "(none)" if missing else str(value)
