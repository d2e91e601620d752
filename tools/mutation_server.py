"""A fork server for mutation testing: pytest per mutant without paying the imports each time.

Each mutant's test run used to start a Python process that imported pandas, SciPy,
statsmodels and scikit-learn again (about 2.4 s of the 2.5 s a quick module's tests take).
The server imports those third-party libraries once, never ``csi_helpers``, and forks a
child per request: the child imports the project from the disk (so it sees the mutant that
cosmic-ray just wrote) and runs ``pytest.main``. Bytecode is never written, so a mutant of
the same size written within the same second cannot be shadowed by a stale ``.pyc``.

    python tools/mutation_server.py serve SOCKET        # the server (tools/mutation.py starts it)
    python tools/mutation_server.py run SOCKET ARGS...  # one pytest run; exits with its code

Linux only (``os.fork``). A run that outlives ``--timeout`` is killed and exits 124.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time

#: Imported once by the server. Third-party only: the project must be imported by each child.
PRELOAD = (
    "numpy", "pandas", "scipy.stats", "scipy.optimize", "statsmodels.api", "sklearn.ensemble",
    "sklearn.inspection", "pandera.pandas", "duckdb", "pyarrow", "yaml", "pydantic", "jinja2",
    "matplotlib.pyplot", "seaborn", "pytest", "hypothesis", "jsonschema", "nbformat", "nbclient",
    "papermill", "nbconvert", "sqlalchemy", "ibis",
)  # fmt: skip


def serve(path: str, timeout: float) -> None:
    sys.dont_write_bytecode = True
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(name)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            request = json.loads(_read(conn))
            code = _fork_pytest(request["cwd"], request["args"], timeout)
            with contextlib.suppress(OSError):  # cosmic-ray may have given up on the client
                conn.sendall(str(code).encode())


def _fork_pytest(cwd: str, args: list[str], timeout: float) -> int:
    pid = os.fork()
    if pid == 0:  # the child: a fresh interpreter state but for the preloaded libraries
        code = 70
        try:
            os.chdir(cwd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            code = int(pytest.main(args))
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return 124


def run(path: str, args: list[str]) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(path)
        conn.sendall(json.dumps({"cwd": os.getcwd(), "args": args}).encode())
        conn.shutdown(socket.SHUT_WR)
        return int(_read(conn))


def _read(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


if __name__ == "__main__":
    mode, sock, *rest = sys.argv[1:]
    if mode == "serve":
        serve(sock, float(rest[0]) if rest else 120.0)
    else:
        sys.exit(run(sock, rest))
