"""Old import paths kept for one release, so that analysts' own notebooks keep working.

Until 0.2 the notebooks imported flat modules (``from csi_helpers import present,
process``); the package is now laid out by role (see ``ARCHITECTURE.md``). The
old modules stay as thin aliases of the new homes for one release: importing
one warns with :class:`CsiDeprecationWarning`, which names the new path. They
will be removed in 0.3.

The warning is a :class:`FutureWarning`, not a :class:`DeprecationWarning`:
Python hides the latter outside ``__main__``, and the people who need to see it
are analysts running notebooks.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["ALIASES", "REMOVED_IN", "CsiDeprecationWarning", "moved"]

REMOVED_IN = "0.3"

#: The flat modules of 0.1 that notebooks imported, and the modules their contents live in
#: now (the first is the one a notebook imports instead).
ALIASES: dict[str, tuple[str, ...]] = {
    "csi_helpers.analyse": ("csi_helpers.steps.analyse",),
    "csi_helpers.canonical": (
        "csi_helpers.processing.validate",
        "csi_helpers.processing.ledger",
        "csi_helpers.params",
    ),
    "csi_helpers.charts": ("csi_helpers.report.charts",),
    "csi_helpers.gather": ("csi_helpers.steps.gather", "csi_helpers.steps.measurement"),
    "csi_helpers.improvement": ("csi_helpers.steps.implement",),
    "csi_helpers.measurement": ("csi_helpers.steps.measurement", "csi_helpers.strategy"),
    "csi_helpers.present": (
        "csi_helpers.steps.present",
        "csi_helpers.report",
        "csi_helpers.analysis.summary",
        "csi_helpers.actions",
    ),
    "csi_helpers.process": ("csi_helpers.steps.process", "csi_helpers.processing"),
    "csi_helpers.scorecard": ("csi_helpers.kpis.scorecard", "csi_helpers.analysis.baseline"),
    "csi_helpers.series": ("csi_helpers.processing.series", "csi_helpers.steps.process"),
}


class CsiDeprecationWarning(FutureWarning):
    """An import path of csi_helpers that moved; it will be removed in :data:`REMOVED_IN`."""


def moved(old: str, *new: str) -> None:
    """Warn that ``old`` (a module or name) now lives in ``new`` (one module or several).

    The warning points at the first frame outside the workbook and the import
    machinery: the notebook cell or script that used the old path.

    Example:
        >>> import pytest
        >>> with pytest.warns(CsiDeprecationWarning, match="csi_helpers.steps.analyse"):
        ...     moved("csi_helpers.analyse", "csi_helpers.steps.analyse")
    """
    homes = new[0] if len(new) == 1 else ", ".join(new[:-1]) + f" and {new[-1]}"
    warnings.warn(
        f"{old} moved to {homes}; import from there, as the workbook's notebooks now do "
        f"(the old path goes in csi-workbook {REMOVED_IN})",
        CsiDeprecationWarning,
        stacklevel=_outside_level(),
    )


def _outside_level() -> int:
    """The ``stacklevel`` of the first caller of :func:`moved` that is user code.

    :func:`warnings.warn` does not count the import machinery's frozen frames; the
    frames of the workbook and of :mod:`importlib` itself are passed over.
    """
    frame, level = sys._getframe(2), 2  # 1: moved itself; 2: its caller
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        frozen = frame.f_code.co_filename.startswith("<frozen importlib")
        if not (frozen or name == "importlib" or name.startswith("csi_helpers")):
            break
        level += not frozen
        frame = frame.f_back
    return level
