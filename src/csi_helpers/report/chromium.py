"""The Chromium or Chrome binary: where it is, and how to run it once and in full.

:func:`find_chromium` looks for the binary in ``$CSI_CHROMIUM``, then ``chromium``,
``chromium-browser``, ``google-chrome`` and ``google-chrome-stable`` on ``PATH``.
:func:`run_browser` runs one command in its own process group, kills the whole group on
a timeout, and turns a failure into a :class:`~csi_helpers.errors.CsiError` with the
browser's last messages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from csi_helpers.errors import CsiError

__all__ = [
    "BROWSER_NAMES",
    "CHROMIUM_ENV",
    "QUIET_FLAGS",
    "find_chromium",
    "run_browser",
    "sandbox_flags",
]

CHROMIUM_ENV = "CSI_CHROMIUM"
"""Environment variable naming the browser binary (a path or a command on PATH)."""

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Commands tried on PATH, in this order, when ``$CSI_CHROMIUM`` is not set."""

_INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `apt-get install chromium`) or Google Chrome, "
    f"or set {CHROMIUM_ENV} to the path of a Chromium or Chrome binary"
)

# A fresh profile, no first-run UI, and none of the browser's own background
# traffic (updates, sync, component downloads): a report is opened and nothing else.
QUIET_FLAGS = (
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
)


def find_chromium() -> Path:
    """The Chromium or Chrome binary to use.

    ``$CSI_CHROMIUM`` wins when set (a path, or a command on ``PATH``); else
    the first of :data:`BROWSER_NAMES` found on ``PATH``.

    Raises:
        CsiError: ``$CSI_CHROMIUM`` names nothing executable, or no browser is
            installed; the message says what to install.

    Example:
        >>> find_chromium().is_file()  # doctest: +SKIP
        True
    """
    configured = os.environ.get(CHROMIUM_ENV, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise CsiError(
                f"{CHROMIUM_ENV} is set to {configured!r}, which is not an executable file "
                f"or a command on PATH; correct it, or unset it to use chromium from PATH."
            )
        return Path(found)
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    raise CsiError(
        f"No Chromium or Chrome found (tried {', '.join(BROWSER_NAMES)} on PATH) to print "
        f"or check a report: {_INSTALL_HINT}."
    )


def sandbox_flags() -> tuple[str, ...]:
    """Chromium refuses to start as root with its sandbox on (containers, CI)."""
    return ("--no-sandbox",) if hasattr(os, "geteuid") and os.geteuid() == 0 else ()


def run_browser(command: list[str], *, what: str, timeout_s: float) -> None:
    """Run the browser in its own process group; kill the whole group on timeout.

    Its messages go to a temporary file rather than a pipe, so a helper process
    that outlives the browser cannot keep this call waiting.
    """
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise CsiError(
                f"Cannot start the browser {command[0]}: {exc.strerror or exc}."
            ) from exc
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise CsiError(
                f"The browser took longer than {timeout_s:g} s to make the {what} and was "
                "stopped; pass a longer timeout, or check that the report opens in a browser."
            ) from None
        except BaseException:
            _kill_group(process)
            raise
        if process.returncode != 0:
            log.seek(0)
            raise CsiError(
                f"The browser ({command[0]}) failed to make the {what} (exit code "
                f"{process.returncode}): {_last_lines(log.read()) or 'no message'}"
            )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the browser and its helper processes (its process group), then reap it.

    Called only while the browser has not been reaped, so the group is still ours.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _last_lines(stderr: str, count: int = 3) -> str:
    """The browser's last few messages, without the D-Bus noise of a headless host."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and "dbus" not in line.lower() and "unexpected operator" not in line
    ]
    return " | ".join(lines[-count:])
