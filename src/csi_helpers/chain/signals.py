"""Ctrl-C and SIGTERM stop a run cleanly: an exception the run's cleanup sees.

``csi run`` and ``csi batch`` (and each batch worker) turn SIGINT and SIGTERM into
:class:`~csi_helpers.errors.Interrupted`, raised in the main thread where the steps
run. The runner's ``finally`` blocks then do what they do for any failure: the
kernels are shut down, the manifest says ``interrupted``, a full run puts the last
good run back (:mod:`csi_helpers.chain.guard`), and the command exits 130. A signal
whose default was "ignore" when the process started (a job started with ``nohup``
or in the background of a script) is caught all the same: a scheduler that sends
SIGTERM expects the run to stop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from csi_helpers.errors import Interrupted

__all__ = ["SIGNALS", "raise_on_signals", "stop_on_signals"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Set once a signal has stopped the run: from then on, an error in a background thread (a
#: kernel being started for the next step while the stop shuts the kernels down) is a
#: consequence of the stop, not news, and is not printed.
_STOPPING = threading.Event()


def _interrupt(number: int, frame: FrameType | None) -> None:
    _STOPPING.set()
    name = signal.Signals(number).name
    raise Interrupted(
        f"stopped by {name}{' (Ctrl-C)' if number == signal.SIGINT else ''}: the run's kernels "
        "were shut down and its manifest says interrupted"
    )


def raise_on_signals() -> None:
    """From now on, SIGINT and SIGTERM raise :class:`Interrupted` (a batch worker's setup),
    and once one has, errors of background threads are not printed (:data:`_STOPPING`)."""
    for number in SIGNALS:
        signal.signal(number, _interrupt)
    if not getattr(threading.excepthook, "_csi_quiet", False):
        threading.excepthook = _quiet_after_stop(threading.excepthook)


def _quiet_after_stop(hook: Callable[[threading.ExceptHookArgs], object]) -> Callable:
    def quiet(args: threading.ExceptHookArgs) -> None:
        if not _STOPPING.is_set():
            hook(args)

    quiet._csi_quiet = True  # type: ignore[attr-defined]
    return quiet


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` inside the block, and errors of
    background threads after the stop stay quiet; the handlers before it are put back after."""
    before = {number: signal.getsignal(number) for number in SIGNALS}
    raise_on_signals()
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
