"""Numbers and names written for people: the one formatting module of every report.

Every sentence and table a manager reads goes through these functions, so that a
figure looks the same wherever it appears:

* thousands separators, about three significant digits by magnitude, never an
  exponent (``24,920`` not ``2.492e+04``; ``0.000123`` not ``1.23e-04``);
* counts as whole numbers (``65,533`` rows, not ``65,533.00``);
* a change of a percentage in percentage points (``+0.7 pp``), any other change in
  the KPI's unit, and a change below the unit's resolution called "unchanged";
* durations as a person says them (``16 min``, ``24.8 h``, ``4.2 days``);
* money with its currency (``€78,480``);
* labels in the words of the field (``assignment_group`` → "assignment group").

Pure functions of numbers and strings; nothing here knows about findings or runs.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "RESOLUTION",
    "change",
    "count",
    "duration",
    "label",
    "money",
    "number",
    "percent",
    "quantity",
    "signed",
    "sparkline",
]

#: The smallest change of a unit worth calling a change; smaller ones are "unchanged".
#: Units not listed: a change that does not show at the figures' precision.
RESOLUTION = {
    "%": 0.1,
    "score": 0.05,
    "min": 1.0,
    "h": 0.1,
    "tickets": 1.0,
    "incidents": 1.0,
    "changes": 1.0,
    "breaches": 1.0,
}
#: Units whose values are counted, shown as whole numbers.
COUNT_UNITS = frozenset({"tickets", "incidents", "changes", "breaches", "rows", "requests"})
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}
#: Names whose words are not their letters: code names → the field's words.
_LABELS = {
    "made_sla": "SLA met",
    "breached": "SLA breached",
    "assignment_group": "assignment group",
    "hist_gradient_boosting": "gradient-boosted trees",
    "kpi": "KPI",
    "kpi_id": "KPI",
    "sla": "SLA",
    "mttr": "mean time to resolve",
    "ci_low_pct": "lower bound (95 %)",
    "ci_high_pct": "upper bound (95 %)",
    "base_value": "baseline",
    "target_value": "target",
    "action_id": "action",
    "entry_id": "entry",
    "p1": "P1",
    "sha256": "SHA-256",
}


def number(value: float | None, *, digits: int = 3) -> str:
    """A number with about ``digits`` significant figures, thousands separators and
    no exponent; whole numbers from 100 up; no trailing zeros.

    Example:
        >>> [number(v) for v in (24920.4, 2163.4, 12.07, 1.234, 0.01234, 0.000123, -0.0)]
        ['24,920', '2,163', '12.1', '1.23', '0.0123', '0.000123', '0']
        >>> number(None), number(float("nan"))
        ('n/a', 'n/a')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    size = abs(value)
    if size == 0:
        return "0"
    magnitude = math.floor(math.log10(size))
    decimals = max(0, digits - 1 - magnitude)
    if size >= 10 ** (digits - 1):
        decimals = 0
    text = f"{value:,.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text  # 1.20 → 1.2, 3.00 → 3
    return "0" if float(text.replace(",", "")) == 0 else text


def signed(value: float | None, **options: int) -> str:
    """:func:`number` with its sign: ``+12.1``, ``-3``, ``0``.

    Example:
        >>> signed(12.07), signed(-3), signed(0)
        ('+12.1', '-3', '0')
    """
    text = number(value, **options)
    return f"+{text}" if value is not None and value > 0 and text != "0" else text


def count(value: float | None) -> str:
    """A count as a whole number with thousands separators.

    Example:
        >>> count(65533.0), count(3), count(None)
        ('65,533', '3', 'n/a')
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{int(value + (0.5 if value >= 0 else -0.5)):,}"


def percent(value: float | None, *, fraction: bool = False, plus: bool = False) -> str:
    """A percentage: one decimal under 100 (none when it is 0), none above;
    ``fraction`` if 0.75 means 75 %.

    Example:
        >>> percent(75.34), percent(0.1234, fraction=True), percent(266.4), percent(-50, plus=True)
        ('75.3 %', '12.3 %', '266 %', '-50 %')
        >>> percent(12.5, plus=True)
        '+12.5 %'
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    value = 100 * value if fraction else value
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}".removesuffix(".0")
    text = "0" if float(text.replace(",", "")) == 0 else text
    return f"{'+' if plus and value > 0 and text != '0' else ''}{text} %"


def duration(hours: float | None) -> str:
    """A duration as a person says it: minutes under an hour, hours under three days,
    then days.

    Example:
        >>> [duration(h) for h in (0.27, 24.75, 57.88, 100.0, 0.004)]
        ['16 min', '24.8 h', '57.9 h', '4.2 days', '0 min']
    """
    if hours is None or not math.isfinite(hours):
        return "n/a"
    if abs(hours) < 1:
        return f"{round(60 * hours):,} min".replace("-0 min", "0 min")
    if abs(hours) < 72:
        return f"{number(hours)} h"
    return f"{number(hours / 24, digits=2)} days"


def money(amount: float, currency: str) -> str:
    """An amount with its currency's sign: whole units from 1,000 up and for whole
    amounts, cents below; no exponent.

    Example:
        >>> [money(a, "EUR") for a in (65315.2, 230.467, 250, 0.5, -1200)]
        ['€65,315', '€230.47', '€250', '€0.50', '-€1,200']
        >>> money(1234567.8, "CHF")
        'CHF 1,234,568'
    """
    if not math.isfinite(amount):
        raise ValueError(f"amount must be a finite number, got {amount}")
    whole = abs(amount) >= 1000 or float(amount).is_integer()
    digits = f"{abs(amount):,.0f}" if whole else f"{abs(amount):,.2f}"
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency} {digits}"


def quantity(value: float | None, unit: str | None) -> str:
    """A value with its unit, written as the unit calls for.

    Example:
        >>> quantity(75.34, "%"), quantity(24920.0, "tickets"), quantity(3.886, "score")
        ('75.3 %', '24,920 tickets', '3.89 score')
        >>> quantity(0.27, "h"), quantity(483.7, "min"), quantity(10490.3, "requests/h")
        ('16 min', '484 min', '10,490 requests/h')
    """
    unit = (unit or "").strip()
    if unit == "%":
        return percent(value)
    if unit == "h":
        return duration(value)
    text = count(value) if unit in COUNT_UNITS else number(value)
    return f"{text} {unit}".rstrip()


def change(before: float | None, after: float | None, unit: str | None) -> str:
    """How much a value moved, in the unit's words: percentage points for a
    percentage, "unchanged" below the unit's :data:`RESOLUTION` (or when the two
    figures read the same).

    Example:
        >>> change(77.37, 78.05, "%"), change(3.885, 3.896, "score"), change(483.7, 241.8, "min")
        ('+0.7 pp', 'unchanged', '-242 min')
    """
    if before is None or after is None or not (math.isfinite(before) and math.isfinite(after)):
        return "n/a"
    unit = (unit or "").strip()
    delta = after - before
    if abs(delta) < RESOLUTION.get(unit, 0.0) or quantity(before, unit) == quantity(after, unit):
        return "unchanged"
    if unit == "%":
        return f"{percent(delta, plus=True).removesuffix(' %')} pp"
    if unit == "h":
        return ("+" if delta > 0 else "-") + duration(abs(delta))
    return f"{signed(delta)} {unit}".rstrip()


def label(name: str) -> str:
    """A column, field or code name in the words of the field.

    Example:
        >>> label("assignment_group"), label("made_sla"), label("kpi_id"), label("due_date")
        ('assignment group', 'SLA met', 'KPI', 'due date')
        >>> label("Mean time to resolve")
        'Mean time to resolve'
    """
    key = str(name).strip()
    if key.lower() in _LABELS:
        return _LABELS[key.lower()]
    if not re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", key):
        return key
    words = [_LABELS.get(w, w) for w in key.split("_")]
    return " ".join(words)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    """A tiny inline chart of a series, one bar character per value, lowest to highest
    (text, so a report needs no image or script for it); empty for fewer than two values.

    Example:
        >>> sparkline([483.7, 241.8]), sparkline([1.0, 2.0, 3.0, 2.0]), sparkline([5.0])
        ('█▁', '▁▅█▅', '')
        >>> sparkline([7.0, 7.0])
        '▄▄'
    """
    known = [v for v in values if v is not None and math.isfinite(v)]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    if high == low:
        return _BARS[3] * len(known)
    return "".join(_BARS[round((v - low) / (high - low) * (len(_BARS) - 1))] for v in known)
