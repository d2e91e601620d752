"""Apache Spark in local mode for the engine tests: Java installed when absent, one session.

``spark_engine`` fixture (session-scoped): finds a Java 17+ runtime, installing
Debian's ``openjdk-17-jre-headless`` when there is none (only as root; otherwise
the tests are skipped with the reason), starts one local Spark session
(``local[2]``) through :func:`csi_helpers.processing.engines.spark_session` and stops it when
the test session ends. pyspark itself comes from pip (the ``spark`` extra); the
tests are skipped with the reason when it is missing. Every wait is bounded.

Import the fixture into a test module with
``from spark_local import spark_engine  # noqa: F401``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from csi_helpers.params import EngineSettings

PACKAGE = "openjdk-17-jre-headless"
INSTALL_TIMEOUT_S = 900
MASTER = "local[2]"


def java_major(java: str) -> int | None:
    """The major version of a ``java`` binary (17 for "17.0.15"), None if it does not run."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8" is Java 8


def find_java() -> Path | None:
    """A Java 17+ home: JAVA_HOME, the java on PATH, or Debian's JVMs, newest first."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    if shutil.which("java"):
        candidates.append(Path(shutil.which("java")).resolve())
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/jvm/*/bin/java"), reverse=True)]
    for java in candidates:
        if java.is_file() and (java_major(str(java)) or 0) >= 17:
            return java.parent.parent
    return None


def ensure_java() -> Path:
    """Install Debian's Java 17 runtime if no Java 17+ is found (root only); its home."""
    found = find_java()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip(f"no Java 17+ for Spark and not root: apt-get install {PACKAGE}")
    if not shutil.which("apt-get"):
        pytest.skip("no Java 17+ for Spark and no apt-get to install it")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", PACKAGE],
    ):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
        )
        if done.returncode != 0:
            pytest.skip(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    found = find_java()
    if not found:
        pytest.skip(f"apt-get installed {PACKAGE} but no Java 17+ was found under /usr/lib/jvm")
    return found


def warm_up(settings: EngineSettings, folder: Path) -> None:
    """One tiny aggregation, so that the JVM's first-query cost is paid here, not by a test."""
    import pandas as pd
    from engine_tables import parquet_table

    from csi_helpers.processing.series import monitoring_series

    path = folder / "warm_up.parquet"
    stamp = pd.Timestamp("2026-01-05", tz="UTC")
    pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex([stamp]).astype("datetime64[us, UTC]"),
            "service": ["web"],
            **{key: [1.0] for key in ("requests", "capacity", "utilisation", "latency_p95_ms")},
            "error_rate": [0.0],
        }
    ).to_parquet(path)
    window = {"start": stamp, "end": stamp + pd.Timedelta(days=1), "timezone": "UTC"}
    monitoring_series(parquet_table(path, settings), **window, by_service=True)


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineSettings]:
    """Engine settings for Spark in local mode, with its one session started and warmed up."""
    pytest.importorskip("pyspark")
    from csi_helpers.processing import engines as engine

    home = ensure_java()
    saved = os.environ.get("JAVA_HOME")
    os.environ["JAVA_HOME"] = str(home)  # pyspark launches the JVM from here
    settings = EngineSettings(backend="spark", spark={"master": MASTER})
    t0 = time.perf_counter()
    try:
        engine.spark_session(settings.spark)
        started = time.perf_counter() - t0
        warm_up(settings, tmp_path_factory.mktemp("spark"))
        print(
            f"Spark {MASTER} started in {started:.1f} s, first query done after "
            f"{time.perf_counter() - t0:.1f} s (Java at {home})"
        )
        yield settings
    finally:
        engine.stop_spark()
        if saved is None:
            os.environ.pop("JAVA_HOME", None)
        else:
            os.environ["JAVA_HOME"] = saved
