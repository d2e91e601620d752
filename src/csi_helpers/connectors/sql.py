"""SQL sources: one SELECT against any SQLAlchemy URL, every value kept as text.

The URL in params holds the password as a ``${VAR}`` reference; it is expanded
from the environment only here, at the moment of reading, and the expanded
text never leaves this module: provenance shows the params' URL with the
password masked, and error messages are built from that same masked URL with
every expanded value scrubbed from the driver's own text.

Example:
    >>> import sqlite3, tempfile, pathlib
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "itsm.db"
    >>> with sqlite3.connect(db) as con:
    ...     _ = con.execute("create table t (id text, priority int)")
    ...     _ = con.execute("insert into t values ('INC1', 2), ('INC2', NULL)")
    >>> source = Source(
    ...     name="tickets", kind="tickets", connector="sql",
    ...     url=f"sqlite:///{db}", query="select id, priority from t order by id",
    ... )
    >>> read_raw(source).to_dict("records")
    [{'id': 'INC1', 'priority': '2'}, {'id': 'INC2', 'priority': None}]
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from csi_helpers.errors import DataError, ParamsError
from csi_helpers.params import Source
from csi_helpers.params.secrets import ENV_REF, driver_message, env_secrets, expand_env, scrub

_READ_ONLY_START = ("select", "with")


def read_raw(source: Source, *, nrows: int | None = None) -> pd.DataFrame:
    """Run a SQL source's SELECT and return its rows, every value as text (NULL → missing).

    The engine is created when this is called, from the URL with its
    ``${VAR}`` references expanded, and disposed of before returning.

    Args:
        source: a source with ``connector: sql``, ``url`` and ``query``.
        nrows: return only the first rows (for schema checks); the query is
            wrapped in a subquery with a LIMIT so the database stops early.

    Returns:
        One column per result column, dtype ``string``.

    Raises:
        DataError: the query is not a single SELECT, the driver is missing, the
            database cannot be reached in ``timeout_s``, or the query fails.
            The message names the source and shows the URL with its password masked.
    """
    sa = _sqlalchemy(source)
    query = _single_select(source)
    shown = masked_url(source)
    secrets = env_secrets(source.url)
    try:
        url = sa.engine.make_url(expand_env(source.url, key=f"sources[{source.name}].url"))
    except ParamsError as exc:
        raise DataError(f"source {source.name!r}: {exc}") from None
    except sa.exc.ArgumentError:
        raise DataError(
            f"source {source.name!r}: {shown} is not a SQLAlchemy URL; "
            "write it as dialect+driver://user:${PASSWORD_VAR}@host:port/database"
        ) from None

    try:
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.NullPool,
            connect_args=_timeout_args(url.get_backend_name(), source.timeout_s),
        )
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise DataError(
            f"source {source.name!r}: no driver for {shown} ({scrub(str(exc), secrets)}); "
            "install the database driver package named there"
        ) from None
    except sa.exc.ArgumentError as exc:
        raise DataError(
            f"source {source.name!r}: {shown} is not a valid URL for its dialect "
            f"({driver_message(exc, secrets)})"
        ) from None

    statement: Any = sa.text(query)
    if nrows is not None:
        sample = sa.text(query).columns().subquery("csi_sample")
        statement = sa.select(sa.literal_column("*")).select_from(sample).limit(nrows)
    try:
        try:
            connection = engine.connect()
        except Exception as exc:  # drivers raise their own types too (e.g. TypeError)
            raise DataError(
                f"source {source.name!r}: cannot connect to {shown} "
                f"(timeout {source.timeout_s:g} s; {driver_message(exc, secrets)}): "
                f"check the host, port and database{_env_hint(source)}"
            ) from None
        with connection:
            if url.get_backend_name() == "postgresql":
                connection = connection.execution_options(postgresql_readonly=True)
            try:
                result = connection.execute(statement)
                columns = [str(c) for c in result.keys()]  # noqa: SIM118 (iterating gives rows)
                rows = result.fetchall() if nrows is None else result.fetchmany(nrows)
            except Exception as exc:  # any driver error, reported as the driver words it
                raise DataError(
                    f"source {source.name!r}: the query failed on {shown}: "
                    f"{driver_message(exc, secrets)}; check `query` in params"
                ) from None
            finally:
                connection.rollback()  # read-only intent: nothing is ever committed
    finally:
        engine.dispose()
    return pd.DataFrame(
        [[_as_text(v) for v in row] for row in rows], columns=columns, dtype="string"
    )


def describe(source: Source) -> dict[str, object]:
    """Provenance of a SQL read: the URL with its password masked, and the query.

    The URL is the params' own text (``${VAR}`` unexpanded), so no secret can
    appear here even when it sits outside the password field.
    """
    return {"location": masked_url(source), "format": "sql", "query": source.query}


def masked_url(source: Source) -> str:
    """The source's URL as params give it, with any password shown as ``***``."""
    text = source.url or ""
    try:
        from sqlalchemy.engine import make_url

        return make_url(text).render_as_string(hide_password=True)
    except Exception:  # not parseable (or SQLAlchemy missing): mask user:password@ by hand
        return re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", text)


def _sqlalchemy(source: Source) -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise DataError(
            f"source {source.name!r}: SQL sources need SQLAlchemy; install it with "
            "`uv pip install sqlalchemy` (and the database's driver)"
        ) from None
    return sqlalchemy


def _single_select(source: Source) -> str:
    """The query without a trailing semicolon, refused unless it is one SELECT (or WITH)."""
    query = (source.query or "").strip().rstrip(";").strip()
    bare = _strip_literals(query)
    words = bare.split()
    if not words or words[0].lower() not in _READ_ONLY_START or ";" in bare:
        raise DataError(
            f"source {source.name!r}: `query` must be a single SELECT (or WITH ... SELECT) "
            f"statement; got {query[:60]!r}. Sources are read, never written"
        )
    return query


def _strip_literals(query: str) -> str:
    """The query with comments and quoted strings/identifiers removed."""
    pattern = r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`"
    return re.sub(pattern, " ", query, flags=re.S)


def _timeout_args(backend: str, seconds: float) -> dict[str, Any]:
    """Driver connect arguments bounding connection (and, where possible, query) time."""
    whole = max(1, math.ceil(seconds))
    if backend == "postgresql":
        return {
            "connect_timeout": whole,
            "options": f"-c statement_timeout={int(seconds * 1000)}",
        }
    if backend in ("mysql", "mariadb"):
        return {"connect_timeout": whole, "read_timeout": whole}
    if backend == "sqlite":
        return {"timeout": seconds}  # waiting for a locked database file
    if backend == "mssql":
        return {"timeout": whole}
    return {}  # e.g. duckdb: in-process, no network wait


def _env_hint(source: Source) -> str:
    names = ENV_REF.findall(source.url or "")
    return " and that " + ", ".join(f"${n}" for n in names) + " is set" if names else ""


def _as_text(value: Any) -> Any:
    if value is None:
        return pd.NA
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
