"""A real Prometheus server for connector tests, loaded with a known series.

``prometheus`` fixture (session-scoped): installs Debian's ``prometheus``
package when ``prometheus``/``promtool`` are missing (only as root; otherwise
the tests are skipped with the reason), writes :data:`KNOWN` series as
OpenMetrics text, turns it into TSDB blocks with ``promtool tsdb
create-blocks-from openmetrics``, and serves them on 127.0.0.1 at a free port
until the session ends. Every wait is bounded and the process is always killed.

Import the fixture into a test module with
``from prometheus_server import prometheus  # noqa: F401`` (``tests/`` is on
``sys.path`` under pytest's default import mode).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

METRIC = "csi_test_http_requests_in_flight"
STEP_S = 300  # samples every 5 minutes
DAYS = 9  # longer than the connector's default window (7 days), so a test can see where it starts
INSTANCES = ("web-1", "web-2")
READY_TIMEOUT_S = 60
INSTALL_TIMEOUT_S = 600


@dataclass(frozen=True)
class KnownSeries:
    """What was loaded: the samples of each instance, as (unix seconds, value text)."""

    metric: str
    first: datetime
    last: datetime
    samples: dict[str, list[tuple[int, str]]]


@dataclass(frozen=True)
class PrometheusServer:
    url: str
    known: KnownSeries
    startup_s: float


def go_float_text(value: float) -> str:
    """A float as Prometheus' API writes it (Go's strconv 'f', -1): 12.0 → '12', 12.25 → '12.25'."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def known_series(now: datetime | None = None) -> KnownSeries:
    """``DAYS`` days of 5-minute samples ending an hour ago, with a planted pattern.

    web-1 runs at 10 requests in flight and rises to 40 in business hours
    (09:00-17:00 UTC); web-2 is web-1 plus a quarter per sample index mod 8
    (values like 12.25, so decimals must round-trip exactly).
    """
    now = now or datetime.now(UTC)
    last = now.replace(second=0, microsecond=0) - timedelta(hours=1)
    last -= timedelta(minutes=last.minute % 5)
    first = last - timedelta(days=DAYS) + timedelta(seconds=STEP_S)
    count = DAYS * 86400 // STEP_S
    samples: dict[str, list[tuple[int, str]]] = {i: [] for i in INSTANCES}
    for k in range(count):
        t = first + timedelta(seconds=k * STEP_S)
        busy = 40.0 if 9 <= t.hour < 17 else 10.0
        samples["web-1"].append((int(t.timestamp()), go_float_text(busy)))
        samples["web-2"].append((int(t.timestamp()), go_float_text(busy + 0.25 * (k % 8))))
    return KnownSeries(metric=METRIC, first=first, last=last, samples=samples)


def openmetrics_text(known: KnownSeries) -> str:
    lines = [f"# HELP {known.metric} Planted test series.", f"# TYPE {known.metric} gauge"]
    for instance, points in known.samples.items():
        for t, v in points:
            lines.append(f'{known.metric}{{instance="{instance}",job="csi-test"}} {v} {t}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_prometheus() -> None:
    """Install Debian's prometheus package if its binaries are missing (root only)."""
    if shutil.which("prometheus") and shutil.which("promtool"):
        return
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("prometheus/promtool not installed and not root: apt-get install prometheus")
    if not shutil.which("apt-get"):
        pytest.skip("prometheus/promtool not installed and no apt-get to install them")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "prometheus"],
    ):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
        )
        if done.returncode != 0:
            pytest.skip(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    if not (shutil.which("prometheus") and shutil.which("promtool")):
        pytest.skip("apt-get installed prometheus but prometheus/promtool are not on PATH")


def build_blocks(known: KnownSeries, data_dir: Path) -> None:
    source = data_dir.parent / "series.om.txt"
    source.write_text(openmetrics_text(known), encoding="utf-8")
    done = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "-q", str(source), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"promtool failed: {done.stderr.strip()}")


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    config = data_dir.parent / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n", encoding="utf-8")
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={data_dir}",
                "--storage.tsdb.retention.time=30d",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"prometheus exited ({process.returncode}): {log.read_text()[-800:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"prometheus not ready after {READY_TIMEOUT_S} s: {log.read_text()[-800:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A running Prometheus on 127.0.0.1 holding :func:`known_series`."""
    t0 = time.perf_counter()
    ensure_prometheus()
    root = tmp_path_factory.mktemp("prometheus")
    data_dir = root / "data"
    known = known_series()
    build_blocks(known, data_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "prometheus.log"
    process = start_server(data_dir, port, log)
    try:
        wait_ready(process, url, log)
        yield PrometheusServer(url=url, known=known, startup_s=round(time.perf_counter() - t0, 2))
    finally:
        stop(process)
