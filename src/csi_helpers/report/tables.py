"""Tables and lists for a report: how the step notebooks display data to managers.

Each helper is a pure function of a DataFrame (or a list) that returns what a
notebook displays: a pandas ``Styler`` (no index column, text left, numbers
right, dashes for missing values, user-written text HTML-escaped) or Markdown.
"""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from csi_helpers.report.style import RAG_COLOURS

__all__ = ["ARROWS", "SCORECARD_COLUMNS", "bullets", "escape_markdown", "styled_scorecard", "table"]

#: The scorecard's trend, as an arrow.
ARROWS = {"up": "▲", "down": "▼", "flat": "▶", None: ""}

SCORECARD_COLUMNS = {
    "kpi_name": "KPI",
    "target": "Target",
    "actual": "Actual",
    "previous": "Previous cycle",
    "trend": "Trend",
    "status": "Status",
    "unit": "Unit",
    "note": "Data note",
}


def styled_scorecard(card: pd.DataFrame) -> Styler:
    """The scorecard as a table with RAG colours and trend arrows, ready for the report."""
    shown = card.assign(trend=card["trend"].map(ARROWS).fillna(""))
    shown = shown[list(SCORECARD_COLUMNS)].rename(columns=SCORECARD_COLUMNS)

    def colour(status: str) -> str:
        c = RAG_COLOURS.get(status, RAG_COLOURS["grey"])
        return f"background-color: {c}; color: white; font-weight: bold; text-align: center"

    return (
        shown.style.hide(axis="index")
        .format({"Target": "{:,.4g}", "Actual": "{:,.4g}", "Previous cycle": "{:,.4g}"}, na_rep="–")
        .format(subset=["KPI", "Unit", "Data note"], escape="html", na_rep="")
        .map(colour, subset=["Status"])
        .set_properties(subset=["KPI", "Unit", "Data note"], **{"text-align": "left"})
    )


def table(frame: pd.DataFrame, *, precision: int = 2, empty: str = "None.") -> Styler | Markdown:
    """A table for a report: no index column, text left and numbers right, dashes for missing.

    Text is HTML-escaped: ticket descriptions and other user-written text show as text.

    An empty frame becomes the sentence ``empty`` rather than a bare header.
    """
    if frame.empty:
        return Markdown(empty)
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return (
        frame.style.hide(axis="index")
        .format(precision=precision, thousands=",", na_rep="–", escape="html")
        .set_properties(subset=text, **{"text-align": "left"})
    )


def bullets(items: list[str], *, empty: str = "None.") -> Markdown:
    """A Markdown bullet list (``empty`` when there is nothing to list)."""
    if not items:
        return Markdown(empty)
    return Markdown("\n".join(f"- {escape_markdown(item)}" for item in items))


def escape_markdown(text: str) -> str:
    """``text`` safe inside Markdown: HTML escaped, ``*`` and ``_`` taken literally."""
    return html.escape(str(text), quote=False).replace("*", r"\*").replace("_", r"\_")
