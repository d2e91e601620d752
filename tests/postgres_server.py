"""A real PostgreSQL server for register tests, on 127.0.0.1 at a free port.

``postgres`` fixture (session-scoped): installs Debian's ``postgresql``
package when no ``initdb`` is found (only as root; otherwise the tests are
skipped with the reason), makes a cluster in a temporary folder with a
password-checked superuser, starts the server on a free port (as the
``postgres`` user when the tests run as root, since PostgreSQL refuses root)
and stops it when the session ends. Every wait is bounded and the server is
always stopped.

Import the fixture into a test module with
``from postgres_server import postgres  # noqa: F401``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "csi"
PASSWORD = "pg-test-pw-7d41"  # the tests pass it through ${CSI_TEST_PG_PW}
DATABASE = "csi_register_test"
READY_TIMEOUT_S = 60
INSTALL_TIMEOUT_S = 900


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    startup_s: float

    def url(self, password: str | None = None, *, database: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3); ``password`` may be a ``${VAR}`` reference."""
        pw = self.password if password is None else password
        db = database or self.database
        return f"postgresql+psycopg://{self.user}:{pw}@{self.host}:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        """A new empty database (dropped first if it exists); its name."""
        import psycopg

        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def bin_dir() -> Path | None:
    """The folder holding initdb and postgres: on PATH, else Debian's newest version."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


def ensure_postgres() -> Path:
    """Install Debian's postgresql package if no server binaries are found (root only)."""
    found = bin_dir()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("PostgreSQL (initdb) not installed and not root: apt-get install postgresql")
    if not shutil.which("apt-get"):
        pytest.skip("PostgreSQL (initdb) not installed and no apt-get to install it")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
    ):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
        )
        if done.returncode != 0:
            pytest.skip(f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}")
    found = bin_dir()
    if not found:
        pytest.skip(
            "apt-get installed postgresql but no initdb was found under /usr/lib/postgresql"
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_user() -> dict[str, int]:
    """As root, run the server as ``postgres`` (it refuses root); else as ourselves."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no postgres user to run the server as")
    return {"user": entry.pw_uid, "group": entry.pw_gid}


def _chown_tree(root: Path, ids: dict[str, int]) -> None:
    if not ids:
        return
    for path in [root, *root.rglob("*")]:
        os.chown(path, ids["user"], ids["group"])


def init_cluster(bins: Path, root: Path, ids: dict[str, int]) -> Path:
    data = root / "data"
    pwfile = root / "pw.txt"
    pwfile.write_text(PASSWORD + "\n")
    _chown_tree(root, ids)
    done = subprocess.run(
        [
            str(bins / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        **ids,
    )
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr.strip()[-800:]}")
    return data


def start_server(bins: Path, data: Path, port: int, ids: dict[str, int]) -> subprocess.Popen:
    log = (data.parent / "server.log").open("wb")
    try:
        return subprocess.Popen(
            [
                str(bins / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"unix_socket_directories={data.parent}",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=data.parent,
            **ids,
        )
    finally:
        log.close()


def wait_ready(process: subprocess.Popen, port: int, log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited ({process.returncode}): {log.read_text()[-800:]}")
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=port,
                user=USER,
                password=PASSWORD,
                dbname="postgres",
                connect_timeout=2,
                autocommit=True,
            ) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
                return
        except psycopg.OperationalError:
            time.sleep(0.2)
    raise RuntimeError(f"postgres not ready after {READY_TIMEOUT_S} s: {log.read_text()[-800:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # "fast" shutdown
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL on 127.0.0.1 with an empty database :data:`DATABASE`."""
    pytest.importorskip("psycopg")
    t0 = time.perf_counter()
    bins = ensure_postgres()
    ids = _server_user()
    # not under pytest's own temp root: that is private to root, and the server runs as postgres
    root = Path(tempfile.mkdtemp(prefix="csi-pg-"))
    try:
        data = init_cluster(bins, root, ids)
        port = free_port()
        process = start_server(bins, data, port, ids)
        try:
            wait_ready(process, port, root / "server.log")
            yield PostgresServer(
                host="127.0.0.1",
                port=port,
                user=USER,
                password=PASSWORD,
                database=DATABASE,
                startup_s=round(time.perf_counter() - t0, 2),
            )
        finally:
            stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)
