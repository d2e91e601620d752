"""Blocks of a report's first screen, as HTML: KPI tiles.

The layout is the report stylesheet's (``csi-tiles``: four tiles side by side at
1280 px, two by two at 768 px, never wider than the page); only the colours are
inline. Text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from csi_helpers.report.style import RAG_COLOURS

__all__ = ["tiles"]

#: For each colour, whether more KPIs of it since the last cycle is good news.
MORE_IS_BETTER = {"green": True, "amber": False, "red": False, "grey": False}


def tiles(counts: Mapping[str, tuple[int, int | None]], words: Mapping[str, str]) -> str:
    """One tile per colour: how many KPIs, what that means, and the change since the
    previous cycle (green when it is good news, red when bad).

    Args:
        counts: Per colour, KPIs now and in the previous cycle (None: no previous).
        words: Per colour, its words ("met", "red", ...).

    Example:
        >>> page = tiles({"green": (4, 2), "red": (3, 7)}, {"green": "met", "red": "red"})
        >>> "4</div>" in page and "+2 since last cycle" in page and "-4 since last cycle" in page
        True
    """
    boxes = [
        _tile(status, now, before, words.get(status, status))
        for status, (now, before) in counts.items()
    ]
    return '<div class="csi-tiles">' + "".join(boxes) + "</div>"


def _tile(status: str, now: int, before: int | None, word: str) -> str:
    colour = RAG_COLOURS.get(status, RAG_COLOURS["grey"])
    change = ""
    if before is not None:
        delta = now - before
        good = (delta > 0) == MORE_IS_BETTER.get(status, False)
        tone = "#616161" if delta == 0 else RAG_COLOURS["green"] if good else RAG_COLOURS["red"]
        text = "same as last cycle" if delta == 0 else f"{delta:+d} since last cycle"
        change = f'<div class="csi-tile-change" style="color: {tone}">{text}</div>'
    label = f"KPI{'s' if now != 1 else ''} {html.escape(word)}"
    return (
        f'<div class="csi-tile csi-tile-{status}" style="border-left-color: {colour}">'
        f'<div class="csi-tile-count" style="color: {colour}">{now}</div>'
        f"<div>{label}</div>{change}</div>"
    )
