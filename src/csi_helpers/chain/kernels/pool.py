"""Step kernels started ahead of their step and shut down in the background.

Every step still runs in its own fresh kernel (see :mod:`csi_helpers.chain.kernels.spec`),
but the runner no longer waits for one to start: while step N runs, a
:class:`KernelPool` starts step N+1's kernel and warms it (imports, see
:mod:`csi_helpers.chain.kernels.warmup`); when step N ends its kernel is killed
without waiting for it. Where the platform allows, kernels are forked from a
zygote that has imported the shared libraries once (see
:mod:`csi_helpers.chain.kernels.zygote`). Papermill still executes each notebook, on
the kernel the pool started (see :mod:`csi_helpers.chain.kernels.engine`).

The pool owns an asyncio loop in a daemon thread: kernels are started, warmed
and shut down there, never in the caller's thread, so the kernel manager's
sockets stay on one loop. The caller's thread only opens the notebook client
(papermill, in its own loop) and closes it again. :meth:`KernelPool.close`
kills every kernel still alive, started or starting, so a failing step, an
exception or Ctrl-C leaves no kernel behind.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from csi_helpers.chain.kernels.spec import ProjectKernelManager, kernel_manager_class
from csi_helpers.chain.kernels.warmup import (
    notebook_imports,
    step_warm_modules,
    warm_up_code,
    zygote_modules,
)
from csi_helpers.chain.kernels.zygote import Zygote, ZygoteKernelManager, zygote_supported
from csi_helpers.runfolder.layout import STEPS, Step
from csi_helpers.runfolder.paths import notebooks_dir

__all__ = ["KernelPool", "kernel_pool", "peak_rss_mib", "start_zygote"]

HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"  # as nbclient starts its kernels

_log = logging.getLogger(__name__)


class KernelPool:
    """Start kernels ahead, warm them, and kill them in a background thread.

    Use it as a context manager; leaving the block kills every kernel still
    running, whether the block ended normally or not.

    Args:
        zygote: fork kernels from this running :class:`~csi_helpers.chain.kernels.zygote.Zygote`
            (see :func:`start_zygote`; its owner closes it). None:
            each kernel is a new ``python -m ipykernel_launcher``.
        startup_timeout: seconds a kernel may take to answer after its start.
        warm_up_timeout: seconds the warm-up imports may take.
    """

    def __init__(
        self,
        *,
        zygote: Zygote | None = None,
        startup_timeout: float = 60,
        warm_up_timeout: float = 600,
    ) -> None:
        self.startup_timeout = startup_timeout
        self.warm_up_timeout = warm_up_timeout
        self.zygote = zygote
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="csi-kernel-pool", daemon=True
        )
        self._managers: set[ProjectKernelManager] = set()  # touched on the loop only
        self._starting: set[asyncio.Task[Any]] = set()
        self._stopping: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._thread.start()

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(
        self,
        *,
        cwd: Path,
        stderr_log: Path | None = None,
        needs: Sequence[str] = (),
        warm: bool = False,
        also: Sequence[str] = (),
    ) -> concurrent.futures.Future[ProjectKernelManager]:
        """Start a kernel in ``cwd`` now; the future gives its manager once it is ready.

        ``needs`` are the modules its step will import: a forked kernel waits
        for the zygote to have imported those it imports. With ``warm`` the
        kernel imports them all, and ``also`` (modules its step may import later,
        which the fork does not wait for), silently and binding no name, before it
        counts as ready.
        """
        if self._closed:
            raise RuntimeError("KernelPool is closed")
        warm_up = tuple(dict.fromkeys([*needs, *also])) if warm else ()
        return asyncio.run_coroutine_threadsafe(
            self._start(Path(cwd), stderr_log, tuple(needs), warm_up), self._loop
        )

    def shutdown(self, km: ProjectKernelManager) -> concurrent.futures.Future[None]:
        """Kill ``km``'s kernel in the background; the caller need not wait."""
        return asyncio.run_coroutine_threadsafe(self._stop_task(km), self._loop)

    def close(self, *, timeout: float = 30) -> None:
        """Kill every kernel still running or starting, wait for that, stop the thread."""
        if self._closed:
            return
        self._closed = True
        try:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout)
        except concurrent.futures.TimeoutError:  # kernels exit with this process anyway
            _log.warning("kernel pool: kernels still stopping after %s s", timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._loop.close()

    # ------------------------------------------------------------ on the loop
    async def _start(
        self, cwd: Path, stderr_log: Path | None, needs: tuple[str, ...], warm: tuple[str, ...]
    ) -> ProjectKernelManager:
        task = asyncio.current_task()
        assert task is not None
        self._starting.add(task)
        km: ProjectKernelManager
        if self.zygote is not None:
            km = ZygoteKernelManager()
            km.zygote, km.stderr_log, km.needs = self.zygote, stderr_log, needs
        else:
            km = kernel_manager_class(stderr_log=stderr_log)()
        self._managers.add(km)
        try:
            await km.start_kernel(cwd=str(cwd), extra_arguments=[HISTORY_IN_MEMORY])
            if warm:
                await self._warm_up(km, warm)
        except BaseException:
            await self._stop(km)
            raise
        finally:
            self._starting.discard(task)
        return km

    async def _warm_up(self, km: ProjectKernelManager, modules: tuple[str, ...]) -> None:
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=self.startup_timeout)
            reply = await kc.execute_interactive(
                warm_up_code(modules),
                silent=True,
                store_history=False,
                allow_stdin=False,
                timeout=self.warm_up_timeout,
                output_hook=lambda msg: None,
            )
        finally:
            kc.stop_channels()
        if reply["content"].get("status") != "ok":
            content = reply["content"]
            raise RuntimeError(
                f"kernel warm-up failed: {content.get('ename')}: {content.get('evalue')}"
            )

    async def _stop_task(self, km: ProjectKernelManager) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._stopping.add(task)
        try:
            await self._stop(km)
        finally:
            self._stopping.discard(task)

    async def _stop(self, km: ProjectKernelManager) -> None:
        if km not in self._managers:
            return
        try:
            if km.has_kernel:
                await asyncio.wait_for(km.shutdown_kernel(now=True), timeout=10)
            else:
                await km.cleanup_resources()
        except Exception as exc:  # the process is gone or going; nothing left to do
            _log.debug("kernel shutdown: %s", exc)
        finally:
            self._managers.discard(km)

    async def _close(self) -> None:
        for task in list(self._starting):
            task.cancel()
        pending = [*self._starting, *self._stopping]
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.gather(*(self._stop(km) for km in list(self._managers)))
        await self._loop.shutdown_default_executor()


def peak_rss_mib(km: ProjectKernelManager) -> float | None:
    """The kernel process's peak resident memory (``VmHWM``) in MiB; None where unknown.

    Read it before the kernel is shut down. Linux only (``/proc``). For a kernel
    forked from a zygote this counts the library pages it shares with the zygote
    (and the other kernels) too, so it overstates what the step alone adds.
    """
    pid = getattr(km.provisioner, "pid", None)
    if not pid:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def start_zygote(
    notebooks: str | Path | None = None, steps: list[Step] | None = None
) -> Zygote | None:
    """Start a zygote for the step notebooks in ``notebooks`` (default: the workbook's).

    It imports at once what the notebooks import, step by step. Finding what their
    helpers import inside functions means reading the helpers' source: a thread does
    that meanwhile and hands the zygote the rest. None where kernels cannot be forked
    (they then start plain). The caller closes it.
    """
    nb_dir = Path(notebooks) if notebooks else notebooks_dir()
    paths = [nb_dir / s.notebook for s in steps or STEPS if (nb_dir / s.notebook).is_file()]
    if not paths or not zygote_supported():
        return None
    try:
        zygote = Zygote(zygote_modules([notebook_imports(p) for p in paths]))
    except OSError as exc:  # plain kernels then, only slower
        _log.warning("kernel zygote not started: %s", exc)
        return None

    def prefetch() -> None:
        zygote.prefetch(zygote_modules([step_warm_modules(p) for p in paths]))

    threading.Thread(target=prefetch, daemon=True).start()
    return zygote


@contextlib.contextmanager
def kernel_pool(
    selected: list[Step], nb_dir: Path, *, prestart: bool, zygote: Zygote | None
) -> Iterator[KernelPool]:
    """The run's kernel pool: with ``prestart``, kernels fork from ``zygote`` if it still
    runs, else from one started now for the selected steps and stopped at the end."""
    own = None
    if prestart and (zygote is None or not zygote.alive):
        zygote = own = start_zygote(nb_dir, selected)
    try:
        with KernelPool(zygote=zygote if prestart else None) as pool:
            yield pool
    finally:
        if own is not None:
            own.close()
