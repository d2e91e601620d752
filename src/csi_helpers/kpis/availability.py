"""Availability and reliability KPIs over agreed service time.

Outages come from the canonical downtime table, one record per outage with its
``start`` and ``end``. Two conventions hold for every KPI here:

- **Overlaps count once.** Outage records whose intervals overlap or touch are
  merged into one outage before anything is measured.
- **A failure** is one merged outage that *starts* in the period [start, end) and
  overlaps agreed service time. An outage that began before the period still
  costs downtime inside it, but it is a failure of the earlier period.

Downtime is the service time (the reserved ``calendar``, 24×7 by default) inside
the merged outages clipped to the period: for business hours, an outage at night
costs nothing. Records without a start or an end, or ending before they start,
are excluded and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import pandas as pd

from csi_helpers.kpis.base import KpiDefinition, KpiResult, define, empty, in_period, named_after
from csi_helpers.kpis.clock import TWENTY_FOUR_SEVEN, ServiceCalendar


class _Outages(NamedTuple):
    """What the reliability KPIs are computed from, for one period."""

    service_hours: float  # agreed service time in the period
    downtime_hours: float  # service time lost to merged outages in the period
    outages: int  # merged outages overlapping the period and service time
    failures: int  # merged outages starting in the period and overlapping service time
    records: int  # outage records behind the merged outages overlapping the period
    excluded: int  # records touching the period without a usable interval

    @property
    def uptime_hours(self) -> float:
        """Agreed service time in the period that no outage took."""
        return self.service_hours - self.downtime_hours

    def details(self) -> dict[str, float | int]:
        return {
            "service_hours": round(self.service_hours, 6),
            "downtime_hours": round(self.downtime_hours, 6),
            "outages": self.outages,
            "failures": self.failures,
        }

    def note(self) -> str:
        if not self.excluded:
            return ""
        return (
            f"{self.excluded} outage record(s) lack a start or an end, or end before they "
            "start; they are left out, so downtime may be understated"
        )

    def result(self, value: float) -> KpiResult:
        """The KpiResult for ``value``, with the records behind it and the exclusions."""
        return KpiResult(value, self.records, self.excluded, self.note(), self.details())

    def per_failure(self, hours: float, *, lower_bound: bool) -> KpiResult:
        """``hours`` per failure; with no failure, ``hours`` as a lower bound or no value."""
        if self.failures:
            return self.result(hours / self.failures)
        if not lower_bound:
            note = "no failure in the period: no service to restore"
            return KpiResult(
                value=None, n=0, excluded=self.excluded, note=note, details=self.details()
            )
        note = "no failure in the period; lower bound"
        if self.excluded:
            note += f"; {self.note()}"
        return KpiResult(hours, self.records, self.excluded, note, self.details())


def merged_outages(downtime: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Merge overlapping or touching outage records; also return the unusable-record mask.

    Every downtime KPI here measures these merged outages; the money model prices them
    (:func:`csi_helpers.analysis.business.downtime_by_hour`).

    Example:
        >>> d = pd.DataFrame({"start": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 10:30",
        ...                                            None], utc=True),
        ...                   "end": pd.to_datetime(["2026-01-01 11:00", "2026-01-01 11:30",
        ...                                          "2026-01-01 12:00"], utc=True)})
        >>> merged, unusable = merged_outages(d)
        >>> merged[["start", "end", "records"]].astype(str).values.tolist(), unusable.tolist()
        ([['2026-01-01 10:00:00+00:00', '2026-01-01 11:30:00+00:00', '2']], [False, False, True])
    """
    begin, finish = downtime["start"], downtime["end"]
    unusable = (begin.isna() | finish.isna() | (finish <= begin)).fillna(True).astype(bool)
    usable = pd.DataFrame({"start": begin[~unusable], "end": finish[~unusable]})
    usable = usable.sort_values(["start", "end"], kind="stable")
    # A new outage starts where a record begins after every earlier one has ended.
    running_end = usable["end"].cummax().shift()
    block = (usable["start"] > running_end).cumsum()
    merged = usable.groupby(block).agg(
        start=("start", "min"), end=("end", "max"), records=("start", "size")
    )
    return merged.reset_index(drop=True), unusable


def _measure(
    downtime: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, calendar: ServiceCalendar
) -> _Outages:
    merged, unusable = merged_outages(downtime)
    begin, finish = downtime["start"], downtime["end"]
    touches = ((begin.isna() | (begin < end)) & (finish.isna() | (finish > start))).fillna(True)
    excluded = int((unusable & touches.astype(bool)).sum())
    merged = merged[(merged["start"] < end) & (merged["end"] > start)]
    clipped_start = merged["start"].clip(lower=start)
    clipped_end = merged["end"].clip(upper=end)
    hours = calendar.elapsed_hours(clipped_start, clipped_end).fillna(0.0)
    in_service = hours > 0
    failures = in_period(merged["start"], start, end) & in_service
    return _Outages(
        service_hours=float(calendar.service_hours(start, end)),
        downtime_hours=float(hours.sum()),
        outages=int(in_service.sum()),
        failures=int(failures.sum()),
        records=int(merged["records"].sum()),
        excluded=excluded,
    )


def _on_outages(formula: Callable[[_Outages], KpiResult]) -> Callable[..., KpiResult]:
    """A downtime KPI: ``formula`` over the period's merged outages, under its name and docstring.

    The KPI takes the canonical downtime table, the period [start, end) and the
    reserved ``calendar``; it has no value when the period holds no agreed service
    time, or when every outage record touching the period is unusable.
    """

    def kpi(
        downtime: pd.DataFrame,
        *,
        start: pd.Timestamp,
        end: pd.Timestamp,
        calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
    ) -> KpiResult:
        o = _measure(downtime, start, end, calendar)
        if not o.service_hours > 0:  # none, or NaN for a period that ends before it starts
            return empty("the period holds no agreed service time")
        if o.excluded and not o.records:
            return empty(o.note(), excluded=o.excluded)
        return formula(o)

    return named_after(kpi, formula)


@_on_outages
def downtime_minutes(o: _Outages) -> KpiResult:
    """Minutes of agreed service time lost to outages in the period, overlaps counted once.

    Formula: service minutes inside the union of [start, end) outage intervals
    clipped to the period (every minute of it on the default 24×7 calendar).

    Example:
        >>> day = "2026-01-01 "
        >>> d = pd.DataFrame({"start": pd.to_datetime([day + "10:00", day + "10:30"], utc=True),
        ...                   "end": pd.to_datetime([day + "11:00", day + "11:30"], utc=True)})
        >>> downtime_minutes(d, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                  end=pd.Timestamp("2026-01-02", tz="UTC")).value
        90.0
    """
    return o.result(60.0 * o.downtime_hours)


@_on_outages
def availability(o: _Outages) -> KpiResult:
    """Percentage of the agreed service time in the period during which the service was up.

    Formula: 100 × (service time − downtime) / service time, downtime being the
    service time inside the merged outages clipped to the period.

    Example:
        A 36-minute outage on a Monday: 36 of 1,440 minutes on the default 24×7
        calendar, 36 of 600 on business hours (Mon–Fri 08:00–18:00).

        >>> d = pd.DataFrame({"start": pd.to_datetime(["2026-01-05 10:00"], utc=True),
        ...                   "end": pd.to_datetime(["2026-01-05 10:36"], utc=True)})
        >>> monday = {"start": pd.Timestamp("2026-01-05", tz="UTC"),
        ...           "end": pd.Timestamp("2026-01-06", tz="UTC")}
        >>> availability(d, **monday).value
        97.5
        >>> availability(d, **monday, calendar=ServiceCalendar(kind="business_hours")).value
        94.0
    """
    return o.result(100.0 * o.uptime_hours / o.service_hours)


def availability_from_samples(
    monitoring: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    calendar: ServiceCalendar = TWENTY_FOUR_SEVEN,
) -> KpiResult:
    """Percentage of the period's monitoring samples in which the service answered its probe.

    Formula: 100 × count(up) / count(samples with an ``up`` flag), over samples with
    start ≤ timestamp < end taken in agreed service time. Samples without a flag
    are excluded and counted.

    Example:
        >>> m = pd.DataFrame({
        ...     "timestamp": pd.date_range("2026-01-01", periods=5, freq="h", tz="UTC"),
        ...     "up": pd.array([True, True, True, False, None], dtype="boolean")})
        >>> r = availability_from_samples(m, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                               end=pd.Timestamp("2026-01-02", tz="UTC"))
        >>> (r.value, r.n, r.excluded)
        (75.0, 4, 1)
    """
    scoped = monitoring[in_period(monitoring["timestamp"], start, end)]
    if calendar.kind != "24x7" and not scoped.empty:
        stamp = scoped["timestamp"]
        inside = calendar.elapsed_hours(stamp, stamp + pd.Timedelta(seconds=1)).fillna(0) > 0
        scoped = scoped[inside.to_numpy()]
    up = scoped["up"]
    flags = up.dropna().astype(bool)
    missing = int(up.isna().sum())
    if flags.empty:
        return empty(
            "no monitoring sample with an up flag in the period's service time", excluded=missing
        )
    note = f"{missing} sample(s) without an up flag are left out" if missing else ""
    return KpiResult(
        value=100.0 * float(flags.mean()),
        n=len(flags),
        excluded=missing,
        note=note,
        details={"up_samples": int(flags.sum()), "down_samples": int((~flags).sum())},
    )


@_on_outages
def mtbf(o: _Outages) -> KpiResult:
    """Mean time between failures: hours of service up time per failure in the period.

    Formula: (service time − downtime) / failures, a failure being a merged outage
    that starts in the period. With no failure: the up time, as a lower bound.

    Example:
        >>> d = pd.DataFrame({"start": pd.to_datetime(["2026-01-01 02:00"], utc=True),
        ...                   "end": pd.to_datetime(["2026-01-01 06:00"], utc=True)})
        >>> mtbf(d, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...      end=pd.Timestamp("2026-01-02", tz="UTC")).value
        20.0
    """
    return o.per_failure(o.uptime_hours, lower_bound=True)


@_on_outages
def mtrs(o: _Outages) -> KpiResult:
    """Mean time to restore service: hours of downtime per failure in the period.

    Formula: downtime / failures, a failure being a merged outage that starts in
    the period; downtime includes service time lost to an outage begun earlier.

    Example:
        An outage begun the evening before costs its first hour of the day, but only
        the one starting in the day is a failure of it: (1 h + 4 h) / 1.

        >>> d = pd.DataFrame({
        ...     "start": pd.to_datetime(["2025-12-31 23:00", "2026-01-01 02:00"], utc=True),
        ...     "end": pd.to_datetime(["2026-01-01 01:00", "2026-01-01 06:00"], utc=True)})
        >>> r = mtrs(d, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...          end=pd.Timestamp("2026-01-02", tz="UTC"))
        >>> (r.value, r.details["failures"])
        (5.0, 1)
    """
    return o.per_failure(o.downtime_hours, lower_bound=False)


@_on_outages
def mtbsi(o: _Outages) -> KpiResult:
    """Mean time between service incidents: hours of service time per failure (MTBF + MTRS).

    Formula: service time / failures, a failure being a merged outage that starts
    in the period. With no failure: the service time, as a lower bound.

    Example:
        Two outages in a day: 24 h / 2. A day without one gives its 24 h as a lower bound.

        >>> day = {"start": pd.Timestamp("2026-01-01", tz="UTC"),
        ...        "end": pd.Timestamp("2026-01-02", tz="UTC")}
        >>> d = pd.DataFrame({
        ...     "start": pd.to_datetime(["2026-01-01 02:00", "2026-01-01 12:00"], utc=True),
        ...     "end": pd.to_datetime(["2026-01-01 06:00", "2026-01-01 13:00"], utc=True)})
        >>> mtbsi(d, **day).value
        12.0
        >>> r = mtbsi(d.iloc[:0], **day)
        >>> (r.value, r.note)
        (24.0, 'no failure in the period; lower bound')
    """
    return o.per_failure(o.service_hours, lower_bound=True)


_OUTAGE = ("start", "end")

_kpi = partial(define, "downtime")

DEFINITIONS: tuple[KpiDefinition, ...] = (
    _kpi(availability, "Availability", "%", _OUTAGE, "higher"),
    _kpi(downtime_minutes, "Downtime", "min", _OUTAGE, "lower"),
    define(
        "monitoring",
        availability_from_samples,
        "Availability (monitoring samples)",
        "%",
        ("timestamp", "up"),
        "higher",
    ),
    _kpi(mtbf, "Mean time between failures", "h", _OUTAGE, "higher"),
    _kpi(mtrs, "Mean time to restore service", "h", _OUTAGE, "lower"),
    _kpi(mtbsi, "Mean time between service incidents", "h", _OUTAGE, "higher"),
)
