"""Credentials: ``${VAR}`` references in params, expanded only at the moment of use.

A params file never holds a secret: it says ``${PG_PASSWORD}`` and the value
comes from the environment, expanded by :func:`expand_env` inside the step (or
command) that connects, so it never reaches a notebook's parameters, a run
folder or a report. :func:`env_secrets` and :func:`scrub` keep the expanded
values out of error messages.
"""

from __future__ import annotations

import os
import re

from csi_helpers.errors import ParamsError

__all__ = ["ENV_REF", "driver_message", "env_secrets", "expand_env", "scrub"]

#: A ``${VAR}`` reference to an environment variable.
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, *, key: str = "value") -> str:
    """Expand ``${VAR}`` references from the environment.

    Call it inside the step that needs the secret, at the moment of use; never
    pass the expanded value to papermill or write it to the run folder.

    Example:
        >>> os.environ["CSI_DOC_TOKEN"] = "s3cret"
        >>> expand_env("token=${CSI_DOC_TOKEN}")
        'token=s3cret'
    """

    def _value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ParamsError(
                f"{key}: environment variable {name} is not set; export it before running "
                "(credentials are read from the environment, never from params files)"
            )
        return os.environ[name]

    return ENV_REF.sub(_value, text)


def env_secrets(text: str | None) -> list[str]:
    """The values the ``${VAR}`` references in ``text`` expand to, longest first (to scrub).

    Example:
        >>> os.environ["CSI_DOC_PASSWORD"] = "hunter2"
        >>> env_secrets("postgresql://csi:${CSI_DOC_PASSWORD}@db/itsm")
        ['hunter2']
    """
    names = ENV_REF.findall(text or "")
    return sorted({os.environ[n] for n in names if os.environ.get(n)}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***``.

    Example:
        >>> scrub("login failed for hunter2", ["hunter2"])
        'login failed for ***'
    """
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def driver_message(exc: BaseException, secrets: list[str]) -> str:
    """A database driver's own message (its first line), with secrets scrubbed.

    SQLAlchemy wraps the driver's exception; its ``orig`` holds the driver's text.
    """
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return scrub(lines[0] if lines else type(orig).__name__, secrets)
