"""The papermill engine that runs a notebook on a kernel that is already started.

Papermill does the execution as always (parameters, the executed-notebook
record, :class:`~papermill.exceptions.PapermillExecutionError`); this engine,
registered as ``csi-prestarted`` by :func:`register_engine`, only hands nbclient
the kernel manager the :class:`~csi_helpers.chain.kernels.pool.KernelPool`
started (nbclient's ``km=``)::

    papermill.execute_notebook(src, out, engine_name=ENGINE_NAME, km=km, ...)
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from jupyter_core.utils import ensure_event_loop
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import remove_args

__all__ = ["ENGINE_NAME", "PrestartedKernelEngine", "register_engine"]

ENGINE_NAME = "csi-prestarted"

_log = logging.getLogger(__name__)


class PrestartedKernelEngine(NBClientEngine):
    """Papermill's nbclient engine, run on a kernel that is already started (``km=``).

    nbclient leaves a kernel it was handed running; this engine also closes the
    client's channels, and the caller shuts the kernel down.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        km = kwargs.pop("km")
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            timeout=execution_timeout,
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=_log,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        try:
            return client.execute()
        except BaseException as exc:
            if not isinstance(exc, Exception):  # Ctrl-C: nbclient's tasks were left mid-await
                _cancel_leftover_tasks()
            raise
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
                client.kc = None


def register_engine() -> None:
    """Make the engine known to papermill as :data:`ENGINE_NAME` (idempotent).

    Called by the runner before it executes a notebook, not on import.
    """
    papermill_engines.register(ENGINE_NAME, PrestartedKernelEngine)


def _cancel_leftover_tasks() -> None:
    """Cancel what an interrupted nbclient left on this thread's loop, so the loop can run again."""
    loop = ensure_event_loop()
    if loop.is_running():
        return
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
