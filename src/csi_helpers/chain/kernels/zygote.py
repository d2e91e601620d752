"""Step kernels forked from a template process that has done the imports once.

Every step needs a fresh kernel, and a fresh Python pays for its imports again:
pandas, matplotlib, scipy and the workbook's own modules cost seconds of CPU
per kernel, seven times a cycle. A *zygote* does them once: a plain Python
process (no kernel, no threads of its own, no user code ever) that imports the
modules the steps share. Each step kernel is an ``os.fork()`` of
it that starts ipykernel: a new process with a new, empty namespace (a step
still never sees another step's variables), whose imports are already done
and whose memory pages stay shared with the zygote until written. The zygote
imports module by module and forks a kernel as soon as the modules its step
needs are in, importing those first: the first step does not wait for what
only later steps use.

The child behaves as ``python -m ipykernel_launcher`` would: its own session
(process group), the launch's working directory, environment and ``sys.argv``,
its stderr to the step's kernel log, ``sys.path`` as the launcher leaves it,
fresh random seeds, and it exits when its parent (the zygote, which exits with
the runner) is gone. What a module does on import with the IPython shell must
happen inside the kernel, so the zygote keeps only third-party libraries: the
child drops the workbook's own ``csi_helpers`` modules (their libraries stay
loaded) and imports them afresh in the kernel, and matplotlib's inline backend
module is never loaded in the zygote (it sets ``MPLBACKEND`` as ipykernel
would, before matplotlib is imported). A workbook module must therefore stand
being imported twice over the same libraries (no registration that refuses a
second one).

:class:`Zygote` is the runner's handle: it starts the process, asks it to fork
over a Unix socket and receives each child as a pidfd, so signals and exit
checks reach exactly that process even after the zygote has reaped it. A
kernel manager takes it through :class:`ZygoteProvisioner`; everything else
(ports, connection file, shutdown) is jupyter_client's. Linux only (pidfd);
:func:`zygote_supported` says whether it can be used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

from csi_helpers.chain.kernels.spec import ProjectKernelManager

__all__ = ["Zygote", "ZygoteKernelManager", "ZygoteProvisioner", "zygote_supported"]

_MAX_MESSAGE = 1 << 20
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def zygote_supported() -> bool:
    """True where kernels can be forked from a zygote (Linux with pidfd support)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:
        return False
    return True


class Zygote:
    """A template process that imports ``modules`` once and forks kernels on request.

    Args:
        modules: modules to import in the template (failures are skipped).
        log: file for the zygote's own stderr (default: discarded).
    """

    def __init__(self, modules: list[str], *, log: Path | None = None) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr: Any = subprocess.DEVNULL
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            stderr = open(log, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "csi_helpers.chain.kernels.zygote",
                    str(theirs.fileno()),
                    *modules,
                ],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                # ipykernel reads it when imported; a launcher sets it for each kernel
                env={**os.environ, "JPY_PARENT_PID": str(os.getpid())},
                stderr=stderr,
            )
        finally:
            theirs.close()
            if stderr is not subprocess.DEVNULL:
                stderr.close()
        self._socket = ours
        self._lock = threading.Lock()
        self._failure = ""
        self.fork_timeout = 300.0  # seconds the imports may take before kernels start plain

    def fork(
        self,
        argv: list[str],
        *,
        cwd: str,
        env: dict[str, str],
        stderr: str | None,
        after: list[str] | None = None,
    ) -> Child:
        """Start ``argv`` (an ``ipykernel_launcher`` command line) as a forked child,
        once the zygote has imported the modules of ``after`` it is to import.

        Raises:
            RuntimeError, OSError: the zygote did not start, died, or could not fork.
        """
        request = {"argv": argv, "cwd": cwd, "env": env, "stderr": stderr, "after": after or []}
        with self._lock:
            if self._failure:
                raise RuntimeError(self._failure)
            self._socket.settimeout(self.fork_timeout)
            try:
                self._socket.sendall(json.dumps(request).encode())
                message, fds, _, _ = socket.recv_fds(self._socket, _MAX_MESSAGE, 1)
            except TimeoutError:
                self._failure = f"kernel zygote gave no kernel within {self.fork_timeout} s"
                raise RuntimeError(self._failure) from None
            except OSError:  # broken pipe: the zygote has exited
                message, fds = b"", []
            finally:
                self._socket.settimeout(None)
            if not message:  # the zygote has exited
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=5)
                self._failure = f"kernel zygote exited (exit code {self.process.poll()})"
                raise RuntimeError(self._failure)
        if not fds:
            raise RuntimeError(f"kernel zygote could not fork: {message.decode(errors='replace')}")
        return Child(json.loads(message)["pid"], fds[0])

    @property
    def alive(self) -> bool:
        """Whether the zygote still runs and can fork."""
        return not self._failure and self.process.poll() is None

    def prefetch(self, modules: list[str]) -> None:
        """Have the zygote import ``modules`` too, after what it has still to import."""
        with self._lock:
            if not self._failure:
                with contextlib.suppress(OSError):  # a dead zygote fails the next fork
                    self._socket.sendall(json.dumps({"import": modules}).encode())

    def close(self) -> None:
        """Stop the zygote (kernels forked from it are not touched)."""
        self._socket.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Child:
    """A forked kernel process, held by pidfd; quacks like :class:`subprocess.Popen`."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self.pidfd: int | None = pidfd
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self.pidfd is not None:
            readable, _, _ = select.select([self.pidfd], [], [], 0)
            if readable:  # the process has exited (the zygote reaps it)
                self.returncode = -signal.SIGKILL
                self._close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None and self.pidfd is not None:
            select.select([self.pidfd], [], [], timeout)
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.poll() is None and self.pidfd is not None:
            with contextlib.suppress(ProcessLookupError):  # exited since the poll
                signal.pidfd_send_signal(self.pidfd, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def _close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class ZygoteProvisioner(LocalProvisioner):  # type: ignore[misc]
    """jupyter_client's local provisioner, launching by fork from a :class:`Zygote`."""

    zygote: Zygote | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        zygote = self.zygote
        assert zygote is not None
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
        stderr = getattr(kwargs.get("stderr"), "name", None)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        after = list(getattr(self.parent, "needs", ()))
        forked = asyncio.get_running_loop().run_in_executor(
            None, lambda: zygote.fork(cmd, cwd=cwd, env=env, stderr=stderr, after=after)
        )
        try:  # the zygote may still be importing: wait off the loop
            self.process = await asyncio.shield(forked)
        except asyncio.CancelledError:
            self.process = await forked  # hold what the fork made, so it can be killed
            self.pid = self.process.pid
            raise
        except (OSError, RuntimeError) as exc:  # no zygote: start the kernel as usual
            log = kwargs.get("stderr")
            if log is not None:
                log.write(f"{exc}; plain kernel started instead\n".encode())
                log.flush()
            return await super().launch_kernel(cmd, **kwargs)
        self.pid = self.process.pid
        self.pgid = None  # signals go through send_signal below, never by bare pgid
        return self.connection_info

    async def send_signal(self, signum: int) -> None:
        """Signal the kernel's process group (it leads its own session) while it lives."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            try:
                if os.getpgid(process.pid) == process.pid:
                    os.killpg(process.pid, signum)
                    return
            except OSError:
                pass
        process.send_signal(signum)

    async def cleanup(self, restart: bool = False) -> None:
        if isinstance(self.process, Child):
            self.process._close()
        await super().cleanup(restart=restart)


class ZygoteKernelManager(ProjectKernelManager):
    """A :class:`ProjectKernelManager` whose kernel is forked from ``zygote`` as soon as
    the zygote has imported ``needs`` (the modules of the kernel's step it imports)."""

    zygote: Zygote | None = None
    needs: tuple[str, ...] = ()

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.zygote is not None and self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            provisioner = ZygoteProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
            provisioner.zygote = self.zygote
            self.provisioner = provisioner
        return await super()._async_pre_start_kernel(**kw)


# ---------------------------------------------------------------- the zygote
def _serve(channel: socket.socket, modules: list[str]) -> None:
    """The zygote's life: import ``modules`` one by one, forking each requested kernel as
    soon as the modules it waits for are in; the modules a waiting request needs are
    imported first, also those not in ``modules``. Ends when the runner closes the
    channel."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the runner
    if sys.path[0] == "" or Path(sys.path[0]) == Path.cwd():  # as ipykernel_launcher does
        del sys.path[0]  # (IPython puts "" back in the kernel)
    os.environ.setdefault("MPLBACKEND", _INLINE_BACKEND)  # as ipykernel sets it
    from ipykernel import kernelapp  # noqa: F401 - imported for the children

    from csi_helpers.chain.kernels.warmup import warm_up

    def importable(names: list[str]) -> list[str]:
        return [m for m in dict.fromkeys(names) if not m.startswith("matplotlib_inline")]

    todo, done = importable(modules), set()
    waiting: list[dict[str, Any]] = []
    while True:
        readable, _, _ = select.select([channel], [], [], 0 if todo else 1.0)
        _reap()
        if readable:
            message = channel.recv(_MAX_MESSAGE)
            if not message:
                return
            request = json.loads(message)
            if "import" in request:  # more to import once the rest is in; no reply
                todo += [m for m in importable(request["import"]) if m not in done | set(todo)]
                continue
            waiting.append(request)
            first = [m for m in importable(request.get("after", [])) if m not in done]
            todo = first + [m for m in todo if m not in first]
        while waiting and not any(m in todo for m in waiting[0].get("after", [])):
            _fork_kernel(waiting.pop(0), channel)
        if todo:
            done.add(todo[0])
            warm_up([todo.pop(0)], inline=False)


def _fork_kernel(request: dict[str, Any], channel: socket.socket) -> None:
    try:
        pid = os.fork()
    except OSError as exc:
        channel.sendall(f"{type(exc).__name__}: {exc}".encode())
        return
    if pid == 0:
        _become_kernel(request, channel)
    pidfd = os.pidfd_open(pid)  # not reaped before this: _reap runs only in _serve's loop
    try:
        socket.send_fds(channel, [json.dumps({"pid": pid}).encode()], [pidfd])
    finally:
        os.close(pidfd)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _become_kernel(request: dict[str, Any], channel: socket.socket) -> None:
    """In the forked child: turn into ``python -m ipykernel_launcher ARGS``; never returns."""
    code = 1
    try:
        channel.close()
        os.setsid()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if request.get("stderr"):
            fd = os.open(request["stderr"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            os.dup2(fd, 2)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        argv = request["argv"]
        # exit when the zygote does (it exits with the runner), as a launched kernel
        # exits with its launcher
        args = [
            *argv[argv.index("ipykernel_launcher") + 1 :],
            f"--IPKernelApp.parent_handle={os.getppid()}",
        ]
        sys.argv = ["ipykernel_launcher", *args]
        if "numpy" in sys.modules:  # fresh seeds, as a new interpreter gets (random reseeds itself)
            sys.modules["numpy"].random.seed()
        for name in [n for n in sys.modules if n.partition(".")[0] == "csi_helpers"]:
            del sys.modules[name]  # imported afresh in the kernel, hooks into IPython included
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])), sys.argv[2:])
    # Nothing to save, and tearing down an interpreter that holds pandas, scipy and
    # matplotlib takes about a second, which the runner would wait for at every exit.
    sys.stderr.flush()
    os._exit(0)
