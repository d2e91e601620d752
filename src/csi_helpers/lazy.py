"""Names a package offers without importing their modules until first use (PEP 562).

A package whose modules pull in heavy libraries (pandas, nbconvert, scipy) lists
its public names here, so that importing one light module of it (the runner
reading the step layout, say) does not load them all.

Example:
    >>> __getattr__, __all__ = exports("json", {"json": ("dumps", "loads")})
    >>> __getattr__("dumps")({"a": 1})
    '{"a": 1}'
    >>> __all__
    ['dumps', 'loads']
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

__all__ = ["exports"]


def exports(
    package: str, modules: dict[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], list[str]]:
    """A module ``__getattr__`` that imports a name's module on first use, and ``__all__``.

    Args:
        package: the package's ``__name__`` (for the error message).
        modules: each module → the public names it defines.
    """
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name in home:
            return getattr(import_module(home[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, sorted(home)
