"""Calendar cycles: a quarter or a month named in params (``cycle: {quarter: previous}``)
turned into the id, label and dates a cycle has, and the cycle before a given one.

A scheduler runs "last quarter" with a params file that never changes: the cycle is
worked out from the day of the run. Ids follow the demo's form, ``2026q3`` for a quarter
and ``2026-07`` for a month, so that run ids (``<service>-<cycle>``) sort in time.

Example:
    >>> from datetime import date
    >>> q = calendar_cycle({"quarter": "previous"}, today=date(2026, 10, 2))
    >>> q["id"], q["label"], str(q["start"]), str(q["end"])
    ('2026q3', '2026 Q3', '2026-07-01', '2026-09-30')
    >>> calendar_cycle({"month": "2026-02"}, today=date(2026, 10, 2))["end"]
    datetime.date(2026, 2, 28)
    >>> previous_cycle_id("2026q1", date(2026, 1, 1), date(2026, 3, 31))
    '2025q4'
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Any

__all__ = ["RELATIVE", "calendar_cycle", "is_calendar_cycle", "previous_cycle_id"]

#: The words a calendar cycle may name instead of an id.
RELATIVE = ("current", "previous")

_QUARTER = re.compile(r"^(\d{4})[-_ ]?[qQ]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def is_calendar_cycle(cycle: Any) -> bool:
    """Whether a ``cycle:`` mapping names a quarter or a month rather than dates."""
    return isinstance(cycle, dict) and ("quarter" in cycle or "month" in cycle)


def calendar_cycle(cycle: dict[str, Any], *, today: date) -> dict[str, Any]:
    """The ``id``, ``label``, ``start`` and ``end`` of a cycle given as ``{quarter: …}`` or
    ``{month: …}``: ``previous``, ``current`` or one named (``2026q2``, ``2026-05``). An
    ``id`` or ``label`` given beside it is kept.

    Raises:
        ValueError: both a quarter and a month, dates beside them, or a name that is
            neither a word of :data:`RELATIVE` nor a quarter or month id.
    """
    unit = "quarter" if "quarter" in cycle else "month"
    extra = sorted(set(cycle) - {unit, "id", "label"})
    if extra:
        raise ValueError(
            f"cycle: {unit} names the whole cycle; remove {', '.join(extra)} "
            "(or give id, start and end instead of a calendar cycle)"
        )
    name = str(cycle[unit]).strip()
    first = _quarter_start(name, today) if unit == "quarter" else _month_start(name, today)
    if unit == "quarter":
        last = _add_months(first, 3) - timedelta(days=1)
        number = (first.month - 1) // 3 + 1
        found = {"id": f"{first.year}q{number}", "label": f"{first.year} Q{number}"}
    else:
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        found = {"id": f"{first:%Y-%m}", "label": f"{first:%B %Y}"}
    found |= {k: cycle[k] for k in ("id", "label") if cycle.get(k) is not None}
    return found | {"start": first, "end": last}


def previous_cycle_id(cycle_id: str, start: date, end: date) -> str | None:
    """The id of the calendar cycle before this one, when this one is a calendar quarter
    or month by both its id and its dates (``2026q3`` of 1 July to 30 September), else
    None: a cycle of other dates has no predecessor that can be worked out."""
    for unit in ("quarter", "month"):
        try:
            this = calendar_cycle({unit: cycle_id}, today=start)
        except ValueError:
            continue
        if (this["start"], this["end"]) == (start, end):
            before = this["start"] - timedelta(days=1)
            return str(calendar_cycle({unit: "current"}, today=before)["id"])
    return None


def _quarter_start(name: str, today: date) -> date:
    this = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if name in RELATIVE:
        return this if name == "current" else _add_months(this, -3)
    match = _QUARTER.match(name)
    if not match:
        raise ValueError(
            f"cycle.quarter: {name!r} is not a quarter; write previous, current or a "
            "quarter such as 2026q3"
        )
    return date(int(match[1]), 3 * int(match[2]) - 2, 1)


def _month_start(name: str, today: date) -> date:
    this = today.replace(day=1)
    if name in RELATIVE:
        return this if name == "current" else _add_months(this, -1)
    match = _MONTH.match(name)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(
            f"cycle.month: {name!r} is not a month; write previous, current or a month "
            "such as 2026-07"
        )
    return date(int(match[1]), int(match[2]), 1)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
