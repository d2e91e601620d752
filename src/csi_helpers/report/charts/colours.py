"""The colours the charts share: bad, neutral, and a verdict's."""

from __future__ import annotations

RED = "#c62828"
GREY = "#9e9e9e"
#: The after bar of a before/after chart: better (green), worse (red), neither.
VERDICT_COLOURS = {True: "#2e7d32", False: RED, None: "#1f4e79"}
