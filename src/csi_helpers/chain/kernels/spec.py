"""The kernel every step runs in: this Python, whatever kernels the machine has.

Papermill would look a notebook's kernel up by name among the registered
kernelspecs, so a stale ``python3`` spec pointing at another interpreter (or
none at all) gives ``NoSuchKernel`` or a kernel without the workbook's
packages. The runner instead hands papermill a kernel manager class whose only
spec is ``sys.executable -m ipykernel_launcher``. The kernel's own stderr (its
start-up chatter, and a crash's last words) goes to a log file in the run
folder rather than the operator's terminal.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import default

KERNEL_NAME = "csi-workbook"
KERNEL_DISPLAY_NAME = "Python (csi-workbook)"


def kernel_spec() -> KernelSpec:
    """A spec that starts ipykernel in the interpreter running the workbook."""
    return KernelSpec(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name=KERNEL_DISPLAY_NAME,
        language="python",
        metadata={"debugger": False},
    )


class ProjectKernelSpecManager(KernelSpecManager):
    """Answers every lookup with :func:`kernel_spec`, ignoring registered specs."""

    def find_kernel_specs(self) -> dict[str, str]:
        return {KERNEL_NAME: ""}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return kernel_spec()


class ProjectKernelManager(AsyncKernelManager):
    """A kernel manager bound to this interpreter; stderr to ``stderr_log`` when set.

    On POSIX the kernel talks over Unix sockets (``ipc``) named after the kernel, not
    TCP ports: a port chosen free by one process can be taken by another before the
    kernel binds it, which killed kernels at start when a batch ran cycles side by
    side ("Address already in use"); and nothing listens on the network.
    """

    stderr_log: Path | None = None

    @default("kernel_spec_manager")
    def _default_spec_manager(self) -> KernelSpecManager:
        return ProjectKernelSpecManager(data_dir=self.data_dir)

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc" if os.name == "posix" else "tcp"

    @default("ip")
    def _default_ip(self) -> str:
        if self.transport != "ipc":
            return "127.0.0.1"
        # the socket files are <ip>-<n>; short, since a socket path has at most ~100 bytes
        return str(Path(tempfile.gettempdir()) / f"csi-kernel-{uuid.uuid4().hex[:12]}")

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if self.stderr_log is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        self.stderr_log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.stderr_log, "ab") as log:
            kw["stderr"] = log
            return await super()._async_launch_kernel(kernel_cmd, **kw)


def kernel_manager_class(*, stderr_log: Path | None = None) -> type[ProjectKernelManager]:
    """A :class:`ProjectKernelManager` subclass writing kernel stderr to ``stderr_log``."""
    return type("StepKernelManager", (ProjectKernelManager,), {"stderr_log": stderr_log})
