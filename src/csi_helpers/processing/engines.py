"""Where the KPI series are aggregated: DuckDB in this process, or Apache Spark.

:mod:`csi_helpers.processing.series` writes each heavy aggregation once, as an
ibis expression over tables of one backend; this module makes that backend. The
params' ``engine`` section picks one (DuckDB unless ``engine.backend: spark``),
and the few things that differ between the engines live here:

- the session: DuckDB in memory, or one Spark session per process (built from
  ``engine.spark``, its session time zone pinned to UTC);
- UTC instants to the service's wall-clock time: the zone's offsets over the
  window, from the tz database, added to epoch microseconds (the functions to and
  from epoch microseconds are the ones whose names differ between engines);
- results back as pandas with the same dtypes whichever engine ran them.

Example:
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m.parquet"
    >>> stamps = pd.to_datetime(["2026-03-28 23:30", "2026-03-29 23:30"], utc=True)
    >>> pd.DataFrame({"timestamp": stamps.astype("datetime64[us, UTC]")}).to_parquet(path)
    >>> t = connect().read_parquet(str(path))
    >>> window = {"start": stamps[0], "end": stamps[-1]}
    >>> local = local_time(t.timestamp, "Europe/Amsterdam", **window)
    >>> to_pandas(t.select(hour=local.hour().cast("int64")))["hour"].tolist()  # CET, then CEST
    [0, 1]
"""

from __future__ import annotations

import datetime
import itertools
import math
import os
import re
import shutil
import threading
import zoneinfo
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from csi_helpers.errors import EngineError, ParamsError
from csi_helpers.params import EngineSettings, SparkSettings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

_SPARK_LOCK = threading.Lock()
_SPARK_SESSIONS: dict[tuple[Any, ...], Any] = {}


def connect(settings: EngineSettings | None = None) -> BaseBackend:
    """An ibis backend for the configured engine (DuckDB in memory when ``settings`` is None).

    Both sessions run in UTC; days and hours come from :func:`local_time`.
    """
    if settings is None or settings.backend == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    session = spark_session(settings.spark)  # first: its errors say what to install
    return ibis.pyspark.connect(session)


def spark_session(settings: SparkSettings) -> Any:
    """The process's Spark session for these settings, started on first use.

    Later calls with the same settings reuse it (starting Spark takes seconds);
    a call with other settings while one runs is refused, since Spark allows one
    session per process.

    Raises:
        EngineError: pyspark is not installed, Java is missing, Spark does not
            start, or another session with other settings is running.
    """
    _check_spark_installed()
    key = (settings.master, settings.app_name, tuple(sorted(settings.conf.items())))
    with _SPARK_LOCK:
        if key in _SPARK_SESSIONS:
            return _SPARK_SESSIONS[key]
        if _SPARK_SESSIONS:
            raise EngineError(
                f"engine.spark: a Spark session with other settings is already running in "
                f"this process ({next(iter(_SPARK_SESSIONS))[0]}); use one engine setting "
                "per process"
            )
        _SPARK_SESSIONS[key] = _start_spark(settings)
        return _SPARK_SESSIONS[key]


def stop_spark() -> None:
    """Stop the process's Spark session, if one was started here."""
    with _SPARK_LOCK:
        for session in _SPARK_SESSIONS.values():
            session.stop()
        _SPARK_SESSIONS.clear()


def _check_spark_installed() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise EngineError(
            "engine.backend is spark but pyspark is not installed: "
            "pip install 'csi-workbook[spark]', or set engine.backend: duckdb"
        ) from None
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise EngineError(
            "engine.backend is spark but no Java runtime was found (java not on PATH, "
            "JAVA_HOME unset): install Java 17 or newer (Debian: apt-get install "
            "openjdk-17-jre-headless), or set engine.backend: duckdb"
        )


def _start_spark(settings: SparkSettings) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(settings.master).appName(settings.app_name)
    conf = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        **_local_partitions(settings.master),
        **settings.conf,
        "spark.sql.session.timeZone": "UTC",
    }
    for name, value in conf.items():
        builder = builder.config(name, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # py4j/pyspark raise several kinds; all mean "no Spark"
        raise EngineError(
            f"engine.spark: could not start Spark at {settings.master}: {exc}".strip()
        ) from exc
    session.conf.set("spark.sql.session.timeZone", "UTC")  # also when getOrCreate reused one
    session.sparkContext.setLogLevel("ERROR")
    return session


def _local_partitions(master: str) -> dict[str, str]:
    """In local mode, one shuffle partition per core: Spark's 200 suit a cluster, not a laptop."""
    match = re.fullmatch(r"local(\[(\d+|\*)\])?", master)
    if not match:
        return {}
    cores = match.group(2) or "1"
    return {"spark.sql.shuffle.partitions": str(os.cpu_count() or 1) if cores == "*" else cores}


# Epoch microseconds to and from timestamps: the engines' own names for the same functions.
@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(instant: datetime.datetime) -> int:
    """DuckDB: microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="make_timestamp")
def _duckdb_from_epoch_us(micros: int) -> datetime.datetime:
    """DuckDB: the naive timestamp ``micros`` after 1970-01-01 00:00."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_epoch_us(instant: datetime.datetime) -> int:
    """Spark: microseconds since 1970-01-01 UTC."""


@ibis.udf.scalar.builtin(name="timestamp_micros")
def _spark_from_epoch_us(micros: int) -> datetime.datetime:
    """Spark: the timestamp ``micros`` after 1970-01-01 00:00 (UTC, the session's zone)."""


_EPOCH_US = {"duckdb": _duckdb_epoch_us, "pyspark": _spark_epoch_us}
_FROM_EPOCH_US = {"duckdb": _duckdb_from_epoch_us, "pyspark": _spark_from_epoch_us}
_US = 1_000_000


def utc_offsets(timezone: str, start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[int, int]]:
    """The UTC offsets ``timezone`` uses over [start, end], from the tz database.

    A list of ``(since, offset)`` in epoch microseconds: the first offset holds
    from ``start``, each later one from its ``since`` (a daylight-saving change,
    found to the second) until the next.

    Raises:
        ParamsError: ``timezone`` is not an IANA time zone name.

    Example:
        >>> spring = utc_offsets(
        ...     "Europe/Amsterdam", pd.Timestamp("2026-03-01", tz="UTC"),
        ...     pd.Timestamp("2026-04-01", tz="UTC"))
        >>> [(str(pd.Timestamp(since, unit="us", tz="UTC")), off / 3.6e9) for since, off in spring]
        [('2026-03-01 00:00:00+00:00', 1.0), ('2026-03-29 01:00:00+00:00', 2.0)]
    """
    try:
        zone = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ParamsError(
            f"unknown time zone {timezone!r}: use an IANA name such as Europe/Amsterdam or UTC"
        ) from None

    def offset_at(second: int) -> int:
        moment = datetime.datetime.fromtimestamp(second, datetime.UTC).astimezone(zone)
        return moment.utcoffset() // datetime.timedelta(microseconds=1)

    first, last = math.floor(start.timestamp()), math.ceil(end.timestamp())
    hours = np.append(np.arange(first, last, 3600), last)  # every hour, both ends
    offsets = [offset_at(int(second)) for second in hours]
    pieces = [(first * _US, offsets[0])]
    for i in np.flatnonzero(np.diff(offsets)) + 1:
        before, after = int(hours[i - 1]), int(hours[i])  # the change lies in (before, after]
        while after - before > 1:
            middle = (before + after) // 2
            if offset_at(middle) == offsets[i - 1]:
                before = middle
            else:
                after = middle
        pieces.append((after * _US, offsets[i]))
    return pieces


def local_time(
    instant: ir.TimestampValue,
    timezone: str,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> ir.TimestampValue:
    """UTC instants in [start, end] as naive wall-clock times of ``timezone``.

    The zone's offsets over the window come from the tz database
    (:func:`utc_offsets`) and are added to the epoch microseconds: integer
    arithmetic that every engine runs at full speed, where a per-row time zone
    conversion costs several times the whole aggregation.
    """
    backend = ibis.get_backend(instant).name
    if backend not in _EPOCH_US:
        raise EngineError(f"engine: no timestamp functions for backend {backend!r}")
    micros = _EPOCH_US[backend](instant)
    pieces = utc_offsets(timezone, start, end)
    if len(pieces) == 1:  # one offset all along (UTC: none)
        offset = pieces[0][1]
        return _FROM_EPOCH_US[backend](micros + offset if offset else micros)
    shift = ibis.literal(pieces[-1][1])
    for (_, offset), (until, _) in reversed(list(itertools.pairwise(pieces))):
        shift = ibis.ifelse(micros < until, offset, shift)
    return _FROM_EPOCH_US[backend](micros + shift)


def to_pandas(expr: ir.Table) -> pd.DataFrame:
    """Run ``expr`` and return pandas with engine-independent dtypes.

    Timestamps become naive ``datetime64[us]`` (they are wall-clock times),
    strings pandas' default string dtype, integers int64 and other numbers float64.
    """
    frame = expr.to_pyarrow().to_pandas()
    schema = expr.schema()
    for name, dtype in schema.items():
        if dtype.is_timestamp():
            stamps = pd.to_datetime(frame[name])
            if stamps.dt.tz is not None:
                stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
            frame[name] = stamps.astype("datetime64[us]")
        elif dtype.is_string():
            frame[name] = frame[name].astype("str")
        elif dtype.is_integer():
            frame[name] = frame[name].astype("int64")
        elif dtype.is_numeric():
            frame[name] = frame[name].astype("float64")
    return frame
