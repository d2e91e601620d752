"""The verdict of a before/after verification (:mod:`.verification`).

It reads the 95 % interval of the change against the action's promise (a direction,
and a size when the action named one), in words a service owner can act on:

* **worked**: the interval lies wholly on the promised side of no change (when it
  also excludes the promised size, the reason says the change is real but smaller);
* **did not work**: the interval excludes the promised size (or, for a direction
  alone, lies wholly on the wrong side of no change);
* **inconclusive**: the interval holds both no change and the promise. The reason
  gives the smallest change the comparison could have detected (80 % power, with the
  interval's 2.5 % one-sided level) and how many more weeks of data after the action
  would make the promised change detectable, from the day-clustered standard error
  scaling as ``√(1/days before + 1/days after)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "CHANGED",
    "DID_NOT_WORK",
    "INCONCLUSIVE",
    "NO_CLEAR_CHANGE",
    "WORKED",
    "unsettled",
    "verdict_of",
]

WORKED, DID_NOT_WORK, INCONCLUSIVE, CHANGED, NO_CLEAR_CHANGE = (
    "worked",
    "did not work",
    "inconclusive",
    "changed",
    "no clear change",
)
_Z_INTERVAL = 1.959963984540054  # the 95 % interval's; its one-sided level is 2.5 %
_Z_POWER = 0.8416212335729143  # 80 % power


def verdict_of(
    estimate: dict[str, Any], *, expected_change: float | None, better: str | None, alpha: float
) -> tuple[str, str]:
    """Worked, did not work or inconclusive (with no promise at all: changed or not), and why."""
    low, high, promised = (estimate[k] for k in ("low", "high", "promised"))
    if promised is None:  # nothing promised: only whether it changed
        if estimate["p_value"] < alpha:
            return CHANGED, "a significant change"
        return NO_CLEAR_CHANGE, "no significant change"
    down = promised < 0
    improved = high < 0 if down else low > 0
    worsened = low > 0 if down else high < 0
    sized = expected_change is not None
    excludes_promise = sized and (low > expected_change if down else high < expected_change)
    expected = f"the promised {expected_change * 100:+.0f} %" if sized else ""
    if improved:
        if excludes_promise:
            return (
                WORKED,
                f"a real improvement, but smaller than {expected}, which its interval excludes",
            )
        return WORKED, "a real improvement" + (f", consistent with {expected}" if sized else "")
    if excludes_promise:
        return DID_NOT_WORK, f"its interval excludes {expected}" + (
            ", and the KPI got worse" if worsened else ""
        )
    if worsened:
        return DID_NOT_WORK, "the KPI got worse"
    return INCONCLUSIVE, unsettled(estimate, expected_change if sized else None, down)


def unsettled(estimate: dict[str, Any], promised: float | None, down: bool) -> str:
    """Why the data cannot decide: the smallest detectable change, and the weeks to settle it."""
    se, days_before, days_after = estimate["se"], estimate["days_before"], estimate["days_after"]
    detectable = (_Z_INTERVAL + _Z_POWER) * se
    smallest = np.expm1(-detectable if down else detectable)
    hoped = "the promise" if promised is not None else "an improvement"
    reason = (
        f"the interval holds both no change and {hoped}; "
        f"this comparison detects a change of {smallest * 100:+.0f} % or more with 80 % power"
    )
    if promised is None or abs(np.log1p(promised)) >= detectable:  # detectable already
        return reason
    needed = (abs(np.log1p(promised)) / (_Z_INTERVAL + _Z_POWER)) ** 2
    per_day = se**2 / (1 / days_before + 1 / days_after)  # variance of one day's worth
    room = needed / per_day - 1 / days_before
    if room <= 0:
        return reason + (
            "; no longer window after the action alone would detect the promised change: "
            "the baseline before it is too short or too noisy"
        )
    # more weeks add days at the rate so far: 7 a week where events fall every weekday
    weeks_after = estimate["weeks_after"]
    weeks = int(np.ceil((1 / room) / days_after * weeks_after - weeks_after))
    more = f"{weeks} more week{'s' if weeks != 1 else ''}"
    return reason + f"; about {more} of data after the action would detect the promised change"
