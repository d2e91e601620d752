"""From a register URL to an engine: ``${VAR}`` expanded here, password masked in messages.

The URL as configured (``${VAR}`` unexpanded) is what the register shows and
every message names, with any password masked; the expanded text is given only
to SQLAlchemy, when the engine is made. Transactions are serialised per
database: SQLite write transactions begin ``IMMEDIATE`` (under a busy timeout),
PostgreSQL ones take a transaction-level advisory lock; other databases rely
on their own transaction isolation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from csi_helpers.errors import ParamsError, RegisterError
from csi_helpers.params.secrets import driver_message, env_secrets, expand_env

ADVISORY_KEY = 0x63_73_69_72_65_67  # "csireg": the PostgreSQL advisory lock of writers


@dataclass(frozen=True)
class Connected:
    engine: sa.Engine
    shown: str  # the URL as configured, password masked
    secrets: list[str]  # what the URL's ${VAR} expand to, scrubbed from driver messages


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file (made absolute)."""
    return f"sqlite:///{Path(path).resolve()}"


def connect(url: str, *, create: bool, timeout_s: float) -> Connected:
    """An engine for ``url`` whose first connection has worked.

    Raises:
        RegisterError: unset ``${VAR}``, not a URL, no driver, a SQLite file that
            is missing (unless ``create``), or no connection.
    """
    shown = masked(url)
    secrets = env_secrets(url)
    try:
        parsed = sa.engine.make_url(expand_env(url, key="register.url"))
    except ParamsError as exc:
        raise RegisterError(f"register {shown}: {exc}") from None
    except sa.exc.ArgumentError:
        raise RegisterError(
            f"register {shown} is not a SQLAlchemy URL; write it as sqlite:////path/to/file.sqlite "
            "or dialect+driver://user:${PASSWORD_VAR}@host:port/database"
        ) from None
    engine = _engine(parsed, shown=shown, secrets=secrets, create=create, timeout_s=timeout_s)
    return Connected(engine=engine, shown=shown, secrets=secrets)


def masked(url: str) -> str:
    """The URL as configured, with any password shown as ``***``.

    Done on the text itself, so ``${VAR}`` elsewhere in the URL reads as written.

    Example:
        >>> masked("postgresql+psycopg://csi:${PW}@db:5432/csi")
        'postgresql+psycopg://csi:***@db:5432/csi'
        >>> masked("sqlite:///${HOME}/registers/web.sqlite")
        'sqlite:///${HOME}/registers/web.sqlite'
    """
    return re.sub(r"^([^:/]+://[^/@:]*:)[^@]*@", r"\1***@", url)


def serialise_writers(conn: sa.Connection) -> None:
    """Called first in every write transaction (SQLite has begun IMMEDIATE already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_KEY)))


def database_error(exc: BaseException, *, shown: str, secrets: list[str]) -> RegisterError:
    """A driver's error as a RegisterError naming the register (secrets scrubbed)."""
    text = driver_message(exc, secrets)
    if "database is locked" in text:
        return RegisterError(
            f"register {shown}: the database stayed busy past the timeout (another process is "
            "writing to it); try again when it has finished"
        )
    return RegisterError(f"register {shown}: the database refused: {text}")


def _engine(
    url: sa.URL, *, shown: str, secrets: list[str], create: bool, timeout_s: float
) -> sa.Engine:
    backend = url.get_backend_name()
    options: dict[str, Any] = {"poolclass": sa.pool.NullPool}
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            options = {"poolclass": sa.pool.StaticPool}  # one connection keeps the data
        else:
            path = Path(database)
            if not path.exists():
                if not create:
                    raise RegisterError(
                        f"no register at {shown if secrets else path}: step 7 of `csi run` "
                        "creates it; or check `register:` in params (or --url)"
                    )
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise RegisterError(
                        f"register {shown}: cannot make its folder ({exc.strerror}); check "
                        "`register:` in params (or --url) and the folder's permissions"
                    ) from None
        options["connect_args"] = {"timeout": timeout_s}
    elif backend == "postgresql":
        options["connect_args"] = {"connect_timeout": max(1, round(timeout_s))}
    try:
        engine = sa.create_engine(url, **options)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise RegisterError(
            f"register {shown}: no database driver ({driver_message(exc, secrets)}); install the "
            "driver package named there"
        ) from None
    except sa.exc.ArgumentError as exc:
        raise RegisterError(
            f"register {shown} is not a valid URL for its dialect ({driver_message(exc, secrets)})"
        ) from None
    if backend == "sqlite":
        _sqlite_transactions(engine)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # drivers raise their own types
        engine.dispose()
        raise RegisterError(
            f"register {shown}: cannot connect ({driver_message(exc, secrets)}); check the URL, "
            "that the database is running and that any ${VAR} in the URL is set"
        ) from None
    return engine


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions; writers begin IMMEDIATE.

    pysqlite's own handling would begin a transaction late (at the first write)
    and commit before DDL; with it off, a write transaction takes SQLite's write
    lock at its start, so the lock check and the writes it guards are atomic,
    and a migration's DDL rolls back with the rest.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("csi_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")
