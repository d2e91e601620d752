"""Tables and lists for a report: how the step notebooks display data to managers.

Each helper is a pure function of a DataFrame (or a list) that returns what a
notebook displays: a pandas ``Styler`` (no index column, text left, numbers
right, dashes for missing values, user-written text HTML-escaped) or Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from csi_helpers.report import formatting
from csi_helpers.report.style import RAG_COLOURS

__all__ = [
    "ARROWS",
    "SCORECARD_COLUMNS",
    "bullets",
    "escape_markdown",
    "styled_scorecard",
    "table",
]

#: A column with a word longer than this many characters (a hash, a path, a timestamp with
#: its offset) may break its words where it must, so that its table fits the page.
LONG_TOKEN = 24
#: The scorecard's trend, as an arrow.
ARROWS = {"up": "▲", "down": "▼", "flat": "▶", None: ""}

SCORECARD_COLUMNS = {
    "kpi_name": "KPI",
    "status": "Status",
    "actual": "Actual",
    "target": "Target",
    "previous": "Previous cycle",
    "change": "Change",
    "note": "Data note",
}
#: Row order of the scorecard inside an objective: what needs attention first.
STATUS_ORDER = {"red": 0, "amber": 1, "green": 2, "grey": 3}
#: Colour of a change: better in the KPI's direction, worse, or neither.
CHANGE_COLOURS = {"better": RAG_COLOURS["green"], "worse": RAG_COLOURS["red"], None: "#616161"}


def styled_scorecard(card: pd.DataFrame, history: dict[str, list[float]] | None = None) -> Styler:
    """The scorecard as a manager reads it: per objective, red and amber rows first;
    values with their unit; the change since the last cycle as an arrow coloured by
    whether it is good in the KPI's direction, with the amount ("▼ -242 min"); with
    ``history`` (KPI id → its values over the last cycles, oldest first, this one
    last), a sparkline of them."""
    card = _in_reading_order(card)
    unit = card.get("unit", pd.Series("", index=card.index)).fillna("")
    shown = pd.DataFrame(index=card.index)
    for column in ("kpi_name", "status", "note"):
        shown[column] = card.get(column, "")
    grey = shown["status"] == "grey"  # how to close the gap is for analysts: Appendix A
    shown.loc[grey, "note"] = "not measurable with today's data (see Appendix A)"
    for column in ("actual", "target", "previous"):
        values = card[column] if column in card else pd.Series(float("nan"), index=card.index)
        shown[column] = [
            "–" if pd.isna(v) else formatting.quantity(float(v), u)
            for v, u in zip(values, unit, strict=True)
        ]
    shown["change"] = [
        _change_cell(row, u) for row, u in zip(card.to_dict("records"), unit, strict=True)
    ]
    columns = dict(SCORECARD_COLUMNS)
    if history:
        shown["history"] = [_history_cell(history.get(str(k), []), u)
                            for k, u in zip(card["kpi_id"], unit, strict=True)]  # fmt: skip
        columns = {
            **dict(list(columns.items())[:-1]),
            "history": "Last cycles",
            "note": "Data note",
        }
    shown = shown[list(columns)].rename(columns=columns)

    def colour(status: str) -> str:
        c = RAG_COLOURS.get(status, RAG_COLOURS["grey"])
        return f"background-color: {c}; color: white; font-weight: bold; text-align: center"

    return (
        shown.style.hide(axis="index")
        .format(subset=["KPI", "Data note"], escape="html", na_rep="")
        .map(colour, subset=["Status"])
        .set_properties(subset=["KPI", "Data note"], **{"text-align": "left"})
        .set_table_styles(_left_headers(["KPI", "Data note"]), overwrite=False)
    )


def _left_headers(columns: list[Any]) -> dict[Any, list[dict[str, str]]]:
    """Styles that put the headers of text columns on the left, above their text."""
    return {c: [{"selector": "th", "props": "text-align: left"}] for c in columns}


def _history_cell(values: list[float], unit: str) -> str:
    """A sparkline of a KPI's last cycles, its values in words on hover."""
    line = formatting.sparkline(values)
    if not line:
        return "–"
    words = " → ".join(formatting.quantity(v, unit) for v in values)
    return f'<span title="{html.escape(words)}">{line}</span>'


def _in_reading_order(card: pd.DataFrame) -> pd.DataFrame:
    """Objectives in their params order; inside each, red, amber, green, then grey."""
    if "status" not in card:
        return card
    objective = card["objective"] if "objective" in card else pd.Series("", index=card.index)
    first_seen = {o: i for i, o in enumerate(dict.fromkeys(objective))}
    keys = pd.DataFrame(
        {
            "objective": objective.map(first_seen),
            "status": card["status"].map(STATUS_ORDER).fillna(len(STATUS_ORDER)),
            "row": range(len(card)),
        },
        index=card.index,
    )
    return card.loc[keys.sort_values(["objective", "status", "row"]).index]


def _change_cell(row: dict[str, Any], unit: str) -> str:
    """The arrow (coloured: better or worse in the KPI's direction) and the amount."""
    before, after = row.get("previous"), row.get("actual")
    if before is None or after is None or pd.isna(before) or pd.isna(after):
        return "–"
    moved = formatting.change(float(before), float(after), unit)
    if moved == "unchanged":
        return f'<span style="color: {CHANGE_COLOURS[None]}">▶ unchanged</span>'
    rising = float(after) > float(before)
    direction = row.get("direction")
    good = None if direction not in ("higher", "lower") else rising == (direction == "higher")
    judged = None if good is None else "better" if good else "worse"
    arrow = ARROWS["up" if rising else "down"]
    words = f" ({judged})" if judged else ""
    return (
        f'<span style="color: {CHANGE_COLOURS[judged]}; font-weight: bold">{arrow}</span> '
        f"{html.escape(moved)}{words}"
    )


def table(frame: pd.DataFrame, *, empty: str = "None.") -> Styler | Markdown:
    """A table for a report: no index column, text left and numbers right (headers too),
    dashes for missing, numbers and headers written for people
    (:mod:`~csi_helpers.report.formatting`: counts whole, other numbers to about three
    significant figures, ``snake_case`` headers in words).

    Text is HTML-escaped: ticket descriptions and other user-written text show as text.

    An empty frame becomes the sentence ``empty`` rather than a bare header.
    """
    if frame.empty:
        return Markdown(empty)
    frame = frame.rename(columns={c: _header(c) for c in frame.columns if isinstance(c, str)})
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numbers = {c: _number_format(frame[c]) for c in frame.columns if c not in text}
    return (
        frame.style.hide(axis="index")
        .format(numbers, na_rep="–")
        .format(subset=text, na_rep="–", escape="html")
        .set_properties(subset=text, **{"text-align": "left"})
        .set_properties(subset=_long_tokens(frame, text), **{"overflow-wrap": "anywhere"})
        .set_table_styles(_left_headers(text), overwrite=False)
    )


def _long_tokens(frame: pd.DataFrame, text: list[Any]) -> list[Any]:
    """Text columns holding words too long for a narrow page (hashes, paths): those may
    break anywhere, so that the table stays as wide as the page."""

    def longest(column: pd.Series) -> int:
        return max((len(w) for v in column.dropna() for w in str(v).split()), default=0)

    return [c for c in text if longest(frame[c]) > LONG_TOKEN]


def _header(name: str) -> str:
    """A column name as a table header: in words, first letter capital."""
    words = formatting.label(name)
    return words[:1].upper() + words[1:]


def _number_format(column: pd.Series) -> Callable[[Any], str]:
    """Counts (whole-number columns) as integers, other numbers by magnitude."""
    if pd.api.types.is_bool_dtype(column):
        return lambda v: "yes" if v else "no"
    values = column.dropna()
    whole = pd.api.types.is_integer_dtype(column) or bool((values == values.round()).all())
    return formatting.count if whole else formatting.number


def bullets(items: list[str], *, empty: str = "None.") -> Markdown:
    """A Markdown bullet list (``empty`` when there is nothing to list)."""
    if not items:
        return Markdown(empty)
    return Markdown("\n".join(f"- {escape_markdown(item)}" for item in items))


#: The characters Markdown could read as syntax (links, images, emphasis, code, headings,
#: lists, tables, autolinks); CommonMark lets a backslash make any of them literal.
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:])")


def escape_markdown(text: str) -> str:
    r"""``text`` (ticket text, a category, a name from an export) taken literally in Markdown:
    HTML escaped, every character Markdown could read as syntax backslash-escaped, so it can
    never make a link, an image, an HTML element or a heading.

    Example:
        >>> print(escape_markdown("[win](http://evil.example) <b>now</b> *P1*"))
        \[win\]\(http\://evil\.example\) &lt;b&gt;now&lt;/b&gt; \*P1\*
    """
    return _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(str(text), quote=False))
