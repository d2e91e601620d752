"""The service clock: how many hours of agreed service time lie between two instants.

A :class:`ServiceCalendar` says when the clock runs: always (``"24x7"``) or on
business hours in a local time zone, with weekdays and holidays. Duration KPIs
measure on it; :func:`paused_hours` gives the clock-stopped time to subtract.

Conventions:

- Service time is counted on half-open spans ``[start, end)``, and a business day
  on its half-open window ``[day start, day end)`` in local wall time. So an
  instant exactly on a boundary adds nothing on the closed side: 17:00→18:00 is
  one hour, 18:00→19:00 and 07:00→08:00 are zero.
- Missing instants give NaN; a span that ends before it starts gives NaN too
  (never a silent zero), so callers can exclude and count it. ``end == start`` is 0.
- Business days are found in the calendar's zone; each day's window is placed on
  the UTC axis by localising its wall-clock start and end, so a DST change moves
  the window in UTC and a change inside the window shortens or lengthens that day.
  A window edge in a skipped hour moves forward to the first valid instant; an
  edge in a repeated hour takes its first occurrence.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

_US_PER_HOUR = 3_600_000_000
_Moment = TypeVar("_Moment", datetime.time, datetime.date)


def _from_iso(value: object, kind: type[_Moment], error: str) -> _Moment:
    """``value`` if a ``kind`` already, else parsed from an ISO string; ValueError ``error``."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(error)


def _as_time(value: object, name: str) -> datetime.time:
    error = f"calendar {name} must be a time of day such as 08:00, got {value!r}"
    return _from_iso(value, datetime.time, error)


def _as_date(value: object) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    error = f"calendar holiday must be a date such as 2026-12-25, got {value!r}"
    return _from_iso(value, datetime.date, error)


def _as_utc(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware UTC (naive ones are taken as UTC), in microseconds."""
    out = pd.to_datetime(values, utc=True)
    return out.dt.as_unit("us")


@dataclass(frozen=True)
class ServiceCalendar:
    """Agreed service time: 24×7, or business hours in a local time zone.

    Attributes:
        kind: ``"24x7"`` (the clock always runs; the other fields are ignored) or
            ``"business_hours"``.
        timezone: IANA zone in which the business day is defined.
        weekdays: working days, Monday = 0 … Sunday = 6.
        start: business day start, local wall time.
        end: business day end, local wall time (after ``start``).
        holidays: local dates with no service time.

    Lists are accepted for ``weekdays``/``holidays`` and ISO strings for times and
    dates; they are normalised to tuples, ``datetime.time`` and ``datetime.date``.

    Example:
        >>> cal = ServiceCalendar(kind="business_hours", timezone="Europe/Amsterdam")
        >>> cal.service_hours(pd.Timestamp("2026-03-06 16:00", tz="Europe/Amsterdam"),
        ...                   pd.Timestamp("2026-03-09 09:00", tz="Europe/Amsterdam"))
        3.0
    """

    kind: Literal["24x7", "business_hours"] = "24x7"
    timezone: str = "UTC"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: datetime.time = datetime.time(8, 0)
    end: datetime.time = datetime.time(18, 0)
    holidays: tuple[datetime.date, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("24x7", "business_hours"):
            raise ValueError(f"calendar kind must be '24x7' or 'business_hours', got {self.kind!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                f"calendar timezone {self.timezone!r} is not an IANA zone; "
                "use a name such as 'Europe/Amsterdam' or 'UTC'"
            ) from None
        days = tuple(sorted(set(self.weekdays)))
        if not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise ValueError(
                f"calendar weekdays must be integers 0 (Monday) to 6 (Sunday), "
                f"at least one, got {self.weekdays!r}"
            )
        start, end = _as_time(self.start, "start"), _as_time(self.end, "end")
        if end <= start:
            raise ValueError(f"calendar business day ends ({end}) before it starts ({start})")
        object.__setattr__(self, "weekdays", days)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "holidays", tuple(sorted({_as_date(h) for h in self.holidays})))

    @property
    def weekmask(self) -> str:
        """The weekdays as a numpy weekmask, e.g. ``"1111100"``."""
        return "".join("1" if d in self.weekdays else "0" for d in range(7))

    def elapsed_hours(self, start: pd.Series, end: pd.Series) -> pd.Series:
        """Hours of service time in ``[start, end)`` for each pair.

        Args:
            start: instants (tz-aware; naive ones are taken as UTC).
            end: instants with the same index as ``start``; pairs are matched by position.

        Returns:
            Float hours indexed like ``start``: NaN where either instant is missing
            or ``end < start``.

        Example:
            >>> cal = ServiceCalendar(kind="business_hours")  # Mon–Fri 08–18 UTC
            >>> s = pd.Series(pd.to_datetime(["2026-01-09 17:00", "2026-01-05 09:00"], utc=True))
            >>> e = pd.Series(pd.to_datetime(["2026-01-12 09:00", "2026-01-05 08:00"], utc=True))
            >>> cal.elapsed_hours(s, e).tolist()
            [2.0, nan]
        """
        if len(start) != len(end) or not start.index.equals(end.index):
            raise ValueError("start and end must share one index: pairs are matched by position")
        s = _as_utc(start).to_numpy("datetime64[us]").view("int64")
        e = _as_utc(end).to_numpy("datetime64[us]").view("int64")
        nat = np.iinfo(np.int64).min
        ok = (s != nat) & (e != nat) & (e >= s)
        hours = np.full(len(s), np.nan)
        if ok.any():
            if self.kind == "24x7":
                hours[ok] = (e[ok] - s[ok]) / _US_PER_HOUR
            else:
                both = self._clock_us(np.concatenate([s[ok], e[ok]]))
                k = int(ok.sum())
                hours[ok] = (both[k:] - both[:k]) / _US_PER_HOUR
        return pd.Series(hours, index=start.index, name="hours")

    def service_hours(self, start: pd.Timestamp, end: pd.Timestamp) -> float:
        """Agreed service time inside ``[start, end)``, in hours (NaN if ``end < start``).

        Example:
            >>> TWENTY_FOUR_SEVEN.service_hours(pd.Timestamp("2026-01-01", tz="UTC"),
            ...                                 pd.Timestamp("2026-01-02", tz="UTC"))
            24.0
        """
        return float(self.elapsed_hours(pd.Series([start]), pd.Series([end])).iloc[0])

    def _clock_us(self, instants: np.ndarray) -> np.ndarray:
        """Service microseconds from an origin to each instant (UTC µs, none missing).

        The difference of two readings is the service time between them. Days are
        numbered in local time; a per-day table over the instants' date range gives
        each business day's window in UTC and the service time of all earlier days.
        """
        zone = ZoneInfo(self.timezone)
        utc = pd.DatetimeIndex(instants.view("datetime64[us]")).tz_localize("UTC")
        local_day = utc.tz_convert(zone).tz_localize(None).normalize()
        day = local_day.to_numpy("datetime64[D]").view("int64")
        first, last = int(day.min()), int(day.max())
        days = np.arange(first, last + 1).astype("datetime64[D]")
        holidays = np.array(self.holidays, dtype="datetime64[D]")
        business = np.is_busday(days, weekmask=self.weekmask, holidays=holidays)
        midnight = pd.DatetimeIndex(days.astype("datetime64[us]"))
        opens = self._localise(midnight + _since_midnight(self.start), zone)
        closes = self._localise(midnight + _since_midnight(self.end), zone)
        length = np.where(business, np.maximum(closes - opens, 0), 0)
        before = np.concatenate([[0], np.cumsum(length)[:-1]])
        i = day - first
        inside = np.clip(instants - opens[i], 0, length[i])
        return before[i] + inside

    @staticmethod
    def _localise(wall: pd.DatetimeIndex, zone: ZoneInfo) -> np.ndarray:
        first_occurrence = np.ones(len(wall), dtype=bool)
        aware = wall.tz_localize(zone, ambiguous=first_occurrence, nonexistent="shift_forward")
        return aware.tz_convert("UTC").as_unit("us").asi8


def _since_midnight(t: datetime.time) -> pd.Timedelta:
    return pd.Timedelta(
        hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond
    )


TWENTY_FOUR_SEVEN = ServiceCalendar()


def paused_hours(
    pauses: pd.DataFrame,
    calendar: ServiceCalendar,
    *,
    until: pd.Series | None = None,
    since: pd.Series | None = None,
) -> pd.Series:
    """Service hours during which each ticket's clock was stopped.

    Overlapping or touching pauses of one ticket are merged first, so time is
    counted once; each merged stretch is then measured on ``calendar``.

    Args:
        pauses: columns ``ticket_id``, ``start``, ``end``: UTC intervals during which
            the clock stood still (e.g. state "On Hold" or "Awaiting User").
        calendar: the service calendar the pauses are measured on.
        until: optional instant per ticket (Series indexed by ticket_id, e.g. the
            resolution time): pauses are clipped to end there; a pause without an end
            runs until it. Where it is missing (ticket unresolved) nothing is clipped.
        since: optional instant per ticket (indexed by ticket_id, e.g. opened_at):
            pauses are clipped to start there.

    Returns:
        Float hours indexed by ticket_id: every ticket in ``pauses`` and in ``until``
        (0 where nothing is paused). Pauses with a missing start, or a missing end
        and no ``until``, are dropped.

    Example:
        >>> p = pd.DataFrame({"ticket_id": ["A", "A", "B"],
        ...     "start": pd.to_datetime(["2026-01-05 10:00", "2026-01-05 11:00",
        ...                              "2026-01-05 10:00"], utc=True),
        ...     "end": pd.to_datetime(["2026-01-05 12:00", "2026-01-05 13:00",
        ...                            "2026-01-05 16:00"], utc=True)})
        >>> done = pd.Series(pd.to_datetime(["2026-01-05 12:00"], utc=True), index=["B"])
        >>> paused_hours(p, TWENTY_FOUR_SEVEN, until=done).to_dict()
        {'A': 3.0, 'B': 2.0}
    """
    frame = _clipped(pauses, until=until, since=since)
    ids = list(dict.fromkeys([*pauses["ticket_id"].dropna(), *_index_of(until)]))
    if frame.empty:
        return pd.Series(0.0, index=pd.Index(ids, name="ticket_id"), name="paused_hours")
    merged = _merged_per_ticket(frame)
    merged["hours"] = calendar.elapsed_hours(merged["start"], merged["end"])
    per_ticket = merged.groupby("ticket_id")["hours"].sum()
    return per_ticket.reindex(ids, fill_value=0.0).rename("paused_hours").rename_axis("ticket_id")


def _clipped(
    pauses: pd.DataFrame, *, until: pd.Series | None, since: pd.Series | None
) -> pd.DataFrame:
    """Pauses in UTC clipped to their ticket's [since, until); usable ones, by ticket and start."""
    missing = {"ticket_id", "start", "end"} - set(pauses.columns)
    if missing:
        raise ValueError(f"pauses need columns ticket_id, start, end; missing {sorted(missing)}")
    frame = pd.DataFrame(
        {
            "ticket_id": pauses["ticket_id"].to_numpy(),
            "start": _as_utc(pauses["start"]).array,
            "end": _as_utc(pauses["end"]).array,
        }
    )
    if until is not None:
        bound = pd.Series(_by_ticket(until).reindex(frame["ticket_id"]).array)
        end = frame["end"].fillna(bound)
        frame["end"] = end.where(bound.isna() | (end <= bound), bound)
    if since is not None:
        bound = pd.Series(_by_ticket(since).reindex(frame["ticket_id"]).array)
        frame["start"] = frame["start"].where(bound.isna() | (frame["start"] >= bound), bound)
    frame = frame[frame["ticket_id"].notna() & frame["start"].notna() & frame["end"].notna()]
    return frame[frame["end"] > frame["start"]].sort_values(["ticket_id", "start"])


def _merged_per_ticket(frame: pd.DataFrame) -> pd.DataFrame:
    """Overlapping or touching pauses of one ticket merged into stretches (sorted input)."""
    # A new stretch starts at a ticket's first pause, or where a pause begins after
    # every earlier pause of that ticket has ended.
    ticket = frame["ticket_id"].to_numpy()
    starts = frame["start"].to_numpy("datetime64[us]").view("int64")
    ends = frame["end"].to_numpy("datetime64[us]").view("int64")
    running = pd.Series(ends).groupby(ticket, sort=False).cummax().to_numpy()
    first_of_ticket = np.r_[True, ticket[1:] != ticket[:-1]]
    new_stretch = first_of_ticket | (starts > np.r_[np.iinfo(np.int64).min, running[:-1]])
    return frame.groupby(np.cumsum(new_stretch)).agg(
        ticket_id=("ticket_id", "first"), start=("start", "min"), end=("end", "max")
    )


def _by_ticket(values: pd.Series) -> pd.Series:
    """UTC instants indexed by ticket_id, the first of any duplicated id kept."""
    utc = _as_utc(values)
    return utc[~utc.index.duplicated()]


def _index_of(values: pd.Series | None) -> list[object]:
    return [] if values is None else list(values.index.dropna())
