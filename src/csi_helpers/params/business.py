"""The business side of a cycle: what an hour of the service earns, what a breach costs.

The ``business:`` section of params is optional. With it, step 5 prices each red
KPI that has a money model (:mod:`csi_helpers.analysis.business`) and the report
states the money at stake; without it, no report states money.

Revenue comes from at most one of four fields: ``revenue_per_hour`` or
``orders_per_hour`` (a flat figure), ``revenue_profile`` or ``orders_profile`` (a
weekday × hour profile); orders need ``average_order_value``. A profile maps each
weekday, ``mon`` to ``sun``, to 24 amounts: one per hour from 00:00 to 23:00 in
the service's time zone (``service.timezone``). ``downtime_cost_per_minute``, when
given, prices downtime instead of the lost revenue.

Example:
    >>> b = Business.model_validate({"currency": "eur", "revenue_per_hour": 6000,
    ...                              "sla_penalty_per_breach": 250})
    >>> (b.currency, b.revenue_source, b.sla_penalty_per_breach)
    ('EUR', 'revenue_per_hour', 250.0)
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from csi_helpers.params.base import StrictModel

__all__ = ["REVENUE_FIELDS", "WEEKDAYS", "Business", "check_profile"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The fields that say what an hour of the service earns; at most one may be given.
REVENUE_FIELDS = ("revenue_per_hour", "revenue_profile", "orders_per_hour", "orders_profile")
_AMOUNTS = (
    "revenue_per_hour",
    "orders_per_hour",
    "average_order_value",
    "downtime_cost_per_minute",
    "agent_hour_cost",
    "sla_penalty_per_breach",
)
_PROFILE_HELP = "24 amounts, one per hour from 00:00 to 23:00 in the service's time zone"


def check_profile(value: Any) -> dict[str, list[float]]:
    """A weekday × hour profile, checked: the seven weekdays, 24 amounts of 0 or more each.

    Raises:
        ValueError: naming the weekday, the hour and what to write instead.

    Example:
        >>> p = check_profile({d: [1] * 24 for d in WEEKDAYS})
        >>> (list(p)[:2], len(p["sun"]), p["fri"][23])
        (['mon', 'tue'], 24, 1.0)
        >>> check_profile({**{d: [1] * 24 for d in WEEKDAYS}, "fri": [1] * 23})
        Traceback (most recent call last):
        ...
        ValueError: fri has 23 amounts; give 24 amounts, one per hour from 00:00 to 23:00 \
in the service's time zone
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of weekday (mon … sun) to {_PROFILE_HELP}")
    for key in value:
        if key not in WEEKDAYS:
            close = difflib.get_close_matches(str(key).lower()[:3], WEEKDAYS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown weekday {key!r}{hint}; use {', '.join(WEEKDAYS)}")
    missing = [d for d in WEEKDAYS if d not in value]
    if missing:
        days = ", ".join(missing)
        raise ValueError(f"weekday(s) {days} missing; give all seven, each with {_PROFILE_HELP}")
    return {day: _hourly_amounts(day, value[day]) for day in WEEKDAYS}


def _hourly_amounts(day: str, amounts: Any) -> list[float]:
    """One weekday's 24 amounts, as floats; ValueError naming the day and hour."""
    if not isinstance(amounts, list | tuple):
        raise ValueError(f"{day} must be a list of {_PROFILE_HELP}")
    if len(amounts) != 24:
        raise ValueError(f"{day} has {len(amounts)} amounts; give {_PROFILE_HELP}")
    out = []
    for hour, amount in enumerate(amounts):
        number = isinstance(amount, int | float) and not isinstance(amount, bool)
        if not number or not math.isfinite(amount):
            raise ValueError(f"{day} hour {hour:02d}:00: {amount!r} is not an amount of money")
        if amount < 0:
            raise ValueError(f"{day} hour {hour:02d}:00: {amount} is negative; give 0 or more")
        out.append(float(amount))
    return out


class Business(StrictModel):
    """What the service earns by the hour and what its failures cost, in one currency."""

    currency: str = Field(description="ISO 4217 code of every amount below, e.g. EUR, USD, GBP")
    revenue_per_hour: float | None = Field(
        None, description="revenue the service takes in an hour, the same every hour"
    )
    revenue_profile: dict[str, list[float]] | None = Field(
        None,
        description="revenue per hour by weekday and hour: mon … sun, each 24 amounts for "
        "00:00 … 23:00 in the service's time zone",
    )
    orders_per_hour: float | None = Field(
        None, description="orders in an hour, the same every hour (with average_order_value)"
    )
    orders_profile: dict[str, list[float]] | None = Field(
        None,
        description="orders per hour by weekday and hour, like revenue_profile "
        "(with average_order_value)",
    )
    average_order_value: float | None = Field(None, description="the mean order, in currency")
    downtime_cost_per_minute: float | None = Field(
        None, description="what a minute of downtime costs; prices downtime instead of revenue"
    )
    agent_hour_cost: float | None = Field(None, description="the cost of an hour of agent time")
    sla_penalty_per_breach: float | None = Field(
        None, description="the penalty or service credit owed for each ticket that breaches its SLA"
    )

    @field_validator("currency", mode="before")
    @classmethod
    def _iso_code(cls, value: Any) -> Any:
        code = value.strip().upper() if isinstance(value, str) else value
        if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError("use a three-letter ISO 4217 currency code, e.g. EUR, USD or GBP")
        return code

    @field_validator("revenue_profile", "orders_profile", mode="before")
    @classmethod
    def _profile(cls, value: Any) -> Any:
        return None if value is None else check_profile(value)

    @field_validator(*_AMOUNTS)
    @classmethod
    def _not_negative(cls, value: float | None) -> float | None:
        if value is not None and (value < 0 or not math.isfinite(value)):
            raise ValueError("must be an amount of 0 or more, in the section's currency")
        return value

    @model_validator(mode="after")
    def _one_revenue(self) -> Business:
        given = [f for f in REVENUE_FIELDS if getattr(self, f) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of {', '.join(REVENUE_FIELDS)}; got {' and '.join(given)}")
        orders = bool(given) and given[0].startswith("orders")
        if orders and self.average_order_value is None:
            mean = f"the mean order, in {self.currency}"
            raise ValueError(f"{given[0]} needs average_order_value: {mean}")
        if self.average_order_value is not None and not orders:
            raise ValueError(
                "average_order_value is used with orders_per_hour or orders_profile; "
                "add one of them or remove it"
            )
        if not given and all(getattr(self, f) is None for f in _AMOUNTS):
            raise ValueError(
                "nothing to price with: add revenue_per_hour (or revenue_profile, "
                "orders_per_hour, orders_profile), downtime_cost_per_minute, "
                "sla_penalty_per_breach or agent_hour_cost, or remove the section"
            )
        return self

    @property
    def revenue_source(self) -> str | None:
        """The field that says what an hour earns (one of :data:`REVENUE_FIELDS`), if any."""
        return next((f for f in REVENUE_FIELDS if getattr(self, f) is not None), None)
