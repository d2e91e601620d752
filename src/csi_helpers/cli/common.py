"""What every ``csi`` command shares: the consoles and the ``--debug`` switch."""

from __future__ import annotations

from rich.console import Console

__all__ = ["err", "out", "state"]

#: ``debug``: show tracebacks (``csi --debug``).
state = {"debug": False}
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
