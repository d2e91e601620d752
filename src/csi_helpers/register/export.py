"""Export the register to CSV or Excel, with formula-like text made inert.

A spreadsheet runs a cell whose text starts with ``=``, ``+``, ``-`` or ``@``
(and, in some, a tab or carriage return) as a formula. Titles, notes and
owners come from people and from ticket text, so every text cell starting with
one of those characters gets a leading single quote, as the OWASP guidance on
CSV injection advises; numbers and dates are written as such and left alone.
CSV fields are all quoted.

Example:
    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("-3 % downtime"), neutralise(-3.0), neutralise("Stagger campaigns")
    ("'-3 % downtime", -3.0, 'Stagger campaigns')
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from csi_helpers.errors import RegisterError
from csi_helpers.register.store import Register

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, prefixed with ``'``; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise` applied to every cell."""
    return frame.astype(object).map(neutralise)


def export_register(
    register: Register, path: str | Path, *, format: Literal["csv", "xlsx"] | None = None
) -> Path:
    """Write every entry (and, in Excel, the history on a second sheet) to ``path``.

    Args:
        register: an open register.
        path: the file to write; its folder is created.
        format: ``csv`` or ``xlsx``; default from the file's suffix.

    Returns:
        The path written.
    """
    path = Path(path)
    kind = format or path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise RegisterError(
            f"{path}: cannot export the register as {kind or '(no suffix)'!r}; "
            f"choose one of {', '.join(FORMATS)}"
        )
    entries = neutralised(register.entries())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "csv":
            entries.to_csv(path, index=False, quoting=csv.QUOTE_ALL, encoding="utf-8-sig")
        else:
            _write_xlsx(path, entries, neutralised(register.history()))
    except OSError as exc:
        raise RegisterError(f"{path}: cannot write the export ({exc.strerror})") from None
    return path


def _write_xlsx(path: Path, entries: pd.DataFrame, history: pd.DataFrame) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for sheet, frame in zip((book.active, book.create_sheet()), (entries, history), strict=True):
        sheet.title = "register" if frame is entries else "history"
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([_cell(v) for v in row])
        for cell in sheet[1]:
            width = max(10, min(48, len(cell.value) + 4))
            sheet.column_dimensions[cell.column_letter].width = width
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    book.save(path)


def _cell(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)  # control characters Excel refuses
    return value
