"""The params schema: one YAML file per cycle, as typed, frozen pydantic models.

A params file says which service and cycle a run covers, where its data comes
from (:mod:`~csi_helpers.params.sources`), what the business wants measured (the
strategy here), and how to analyse and report it
(:mod:`~csi_helpers.params.settings`). Validation is strict: unknown keys are
errors, dates are parsed, a cycle must not end before it starts, relative paths
resolve against the params file's folder, KPI ids and options must exist in the
KPI library (:mod:`csi_helpers.kpis`), and ``${VAR}`` references (credentials)
stay unexpanded (:mod:`csi_helpers.params.secrets`).
"""

from __future__ import annotations

import difflib
from datetime import date, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from csi_helpers.errors import ParamsError
from csi_helpers.params.base import SLUG, StrictModel, resolve_path
from csi_helpers.params.business import Business
from csi_helpers.params.cycles import previous_cycle_id
from csi_helpers.params.settings import (
    ActionsSettings,
    Analysis,
    EngineSettings,
    RegisterSettings,
    Report,
)
from csi_helpers.params.sources import Source

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Calendar",
    "CriticalSuccessFactor",
    "Cycle",
    "Demo",
    "Kpi",
    "Objective",
    "Params",
    "Scope",
    "Service",
    "Strategy",
]


class Service(StrictModel):
    """The IT service the cycle improves."""

    id: Annotated[str, Field(pattern=SLUG)]
    """Stable id used in run ids and file names."""
    name: str
    """Display name used in reports."""
    timezone: str = "UTC"
    """IANA zone of the service's business clock."""


class Cycle(StrictModel):
    """The improvement cycle: a closed date range, both ends included."""

    id: Annotated[str, Field(pattern=SLUG)]
    """Id of the cycle, part of the default run id, e.g. 2026q3."""
    label: str | None = None
    """E.g. "2026 Q3"; defaults to the date range."""
    start: date
    """First day of the cycle (YYYY-MM-DD), included."""
    end: date
    """Last day of the cycle (YYYY-MM-DD), included."""

    @model_validator(mode="after")
    def _ends_after_start(self) -> Cycle:
        if self.end < self.start:
            raise ValueError(
                f"the cycle ends ({self.end}) before it starts ({self.start}); "
                "swap the dates or fix the typo"
            )
        return self

    @property
    def days(self) -> int:
        """Number of calendar days in the cycle, both ends included."""
        return (self.end - self.start).days + 1

    @property
    def period(self) -> str:
        """The label shown in reports."""
        return self.label or f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"

    @property
    def previous_id(self) -> str | None:
        """The id of the calendar quarter or month before this one, when this cycle is one
        by its id and its dates (``2026q3``, 1 July to 30 September: ``2026q2``)."""
        return previous_cycle_id(self.id, self.start, self.end)


class Demo(StrictModel):
    """Generate the bundled demo scenario into ``directory`` when it is missing."""

    directory: Path
    """Folder the demo's exports are generated into when missing, relative to the params file."""
    seed: int = 20260401
    """Seed of the demo's random draws: the same seed, the same data."""

    _resolve = field_validator("directory", mode="after")(resolve_path)


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _local_time_schema(schema: dict[str, Any]) -> None:
    """A time of day as params write it, "08:00" or "08:00:00", for editors: JSON Schema's
    ``time`` format (RFC 3339) asks for seconds and an offset, so editors flagged "08:00"."""
    schema.pop("format", None)
    schema["pattern"] = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"


class Calendar(StrictModel):
    """Agreed service time: 24x7, or business hours with holidays."""

    kind: Literal["24x7", "business_hours"] = "business_hours"
    """24x7 (every minute counts) or business_hours (the days, hours and holidays below)."""
    timezone: str = "UTC"
    """IANA zone of the calendar's hours, e.g. Europe/Amsterdam."""
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    """Weekdays of service, e.g. [mon, tue, wed, thu, fri]."""
    start: time = Field(time(8, 0), json_schema_extra=_local_time_schema)
    """Business day start, local time, e.g. "08:00" (quoted in YAML)."""
    end: time = Field(time(18, 0), json_schema_extra=_local_time_schema)
    """Business day end, local time, e.g. "18:00" (quoted); after start."""
    holidays: list[date] = Field(default_factory=list)
    """Dates without service (YYYY-MM-DD)."""

    @model_validator(mode="after")
    def _end_after_start(self) -> Calendar:
        if self.end <= self.start:
            raise ValueError(f"business day ends ({self.end}) before it starts ({self.start})")
        return self

    def to_service_calendar(self) -> Any:
        """The KPI library's calendar object."""
        from csi_helpers.kpis.clock import ServiceCalendar

        return ServiceCalendar(
            kind=self.kind,
            timezone=self.timezone,
            weekdays=tuple(WEEKDAY_NAMES.index(d) for d in self.days),
            start=self.start,
            end=self.end,
            holidays=tuple(self.holidays),
        )


class Scope(StrictModel):
    """Which records a KPI counts: values of canonical columns (empty = all)."""

    service: list[str] = Field(default_factory=list)
    """Count only records of these services (empty: all)."""
    priority: list[str] = Field(default_factory=list)
    """Count only records of these priorities, as the canonical table spells them (empty: all)."""
    category: list[str] = Field(default_factory=list)
    """Count only records of these categories (empty: all)."""
    assignment_group: list[str] = Field(default_factory=list)
    """Count only records of these assignment groups (empty: all)."""

    def filters(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.model_dump().items() if v}


class Kpi(StrictModel):
    """A KPI that should be measured, with its target."""

    id: Annotated[str, Field(pattern=SLUG)]
    """Id of this KPI entry in reports."""
    kpi: str
    """Id of the library KPI that computes it."""
    name: str | None = None
    """Display name; the library's when omitted."""
    target: float
    """The value the KPI should reach, in its unit (met when at or past it in its direction)."""
    direction: Literal["higher", "lower"]
    """Which way is better."""
    amber: float | None = None
    """The value past which the status turns red."""
    unit: str = ""
    """Unit shown beside its values, e.g. h, %, min, tickets (the library's when empty)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """The library KPI's options."""
    scope: Scope = Field(default_factory=Scope)
    """Which records the KPI counts, e.g. {priority: [1 - Critical]}."""
    calendar: str = "24x7"
    """Name of a calendar under `calendars`, or 24x7."""
    pause_clock: bool = False
    """Stop the clock in pause states (needs a ticket event log)."""

    @field_validator("kpi")
    @classmethod
    def _known_kpi(cls, value: str) -> str:
        from csi_helpers.kpis import get_definition

        try:
            get_definition(value)
        except ParamsError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _known_options(self) -> Kpi:
        from csi_helpers.kpis import LIBRARY

        if self.kpi in LIBRARY:
            LIBRARY[self.kpi].validate_options(self.options)
        return self

    @model_validator(mode="after")
    def _amber_beyond_target(self) -> Kpi:
        if self.amber is None:
            return self
        worse = self.amber < self.target if self.direction == "higher" else self.amber > self.target
        if not worse:
            side = "below" if self.direction == "higher" else "above"
            raise ValueError(
                f"amber {self.amber} must lie {side} the target {self.target} "
                f"when {self.direction} is better"
            )
        return self


class CriticalSuccessFactor(StrictModel):
    """What must go right for an objective, and the KPIs that show it."""

    id: Annotated[str, Field(pattern=SLUG)]
    """Id of the success factor in reports."""
    statement: str
    """What must go right for the objective, in a sentence."""
    kpis: list[Kpi] = Field(default_factory=list)
    """The KPIs that show whether it does."""


class Objective(StrictModel):
    """A business objective the service serves, with its critical success factors."""

    id: Annotated[str, Field(pattern=SLUG)]
    """Id of the business objective in reports."""
    statement: str
    """The business objective, in a sentence."""
    driver: str = ""
    """The business driver behind the objective."""
    owner: str = ""
    """Who answers for it, e.g. Head of E-commerce."""
    csfs: list[CriticalSuccessFactor] = Field(default_factory=list)
    """The critical success factors of the objective."""


class Strategy(StrictModel):
    """What the business wants of the service (step 1): objectives → CSFs → KPIs."""

    objectives: list[Objective] = Field(default_factory=list)
    """Business objectives, each with its critical success factors and their KPIs (step 1)."""

    def kpis(self) -> list[tuple[Objective, CriticalSuccessFactor, Kpi]]:
        """Every KPI with the objective and success factor it serves."""
        return [(o, c, k) for o in self.objectives for c in o.csfs for k in c.kpis]


class Params(StrictModel):
    """A whole params file."""

    schema_version: Literal[1] = 1
    """Version of the params format; 1."""
    service: Service
    """The IT service the cycle improves: its id, name and time zone."""
    extends: str | None = None
    """A base params file this one builds on (path relative to this file), e.g. base.yaml:
    its settings apply unless this file sets them; lists (sources, objectives) are replaced
    whole."""
    cycle: Cycle
    """The period the cycle measures: id, start and end, or a calendar cycle worked out from
    the day of the run, e.g. {quarter: previous} or {month: previous}."""
    run_id: Annotated[str, Field(pattern=SLUG)] | None = None
    """Name of the run folder; default <service.id>-<cycle.id>."""
    previous_run: Annotated[str, Field(pattern=SLUG)] | None = None
    """Run id of the cycle before; default <service.id>-<the quarter or month before> for a
    calendar cycle (2026q3 follows 2026q2)."""
    demo: Demo | None = None
    """Generate the bundled demo's exports (the demo's params only)."""
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    """Named service calendars."""
    sources: list[Source] = Field(default_factory=list)
    """The exports, databases and monitoring the cycle reads (step 3 gathers them)."""
    strategy: Strategy = Field(default_factory=Strategy)
    """What the business wants: objectives, success factors, KPIs with targets."""
    analysis: Analysis = Field(default_factory=Analysis)
    """Settings of step 5's statistics: significance level, resampling, seed."""
    report: Report = Field(default_factory=Report)
    """Title and organisation of the HTML reports."""
    actions: ActionsSettings = Field(default_factory=ActionsSettings)
    """How many improvement actions a cycle proposes."""
    # The CSI register: `register` in the file. The attribute has another name because a
    # field called `register` would shadow ABCMeta.register (pydantic warns); `dict` as the
    # default so that the default, too, resolves against the params file.
    register_settings: RegisterSettings = Field(
        default_factory=dict,
        validate_default=True,
        alias="register",
    )
    """Type: ignore[arg-type]."""
    engine: EngineSettings = Field(
        default_factory=EngineSettings, description="where the KPI series are aggregated"
    )
    business: Business | None = Field(
        None,
        description="what the service earns by the hour and what failures cost; without it, "
        "no report states money",
    )

    @model_validator(mode="after")
    def _unique_source_names(self) -> Params:
        names = [s.name for s in self.sources]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"source names must be unique; repeated: {', '.join(doubles)}")
        return self

    @model_validator(mode="after")
    def _known_calendars(self) -> Params:
        known = {"24x7", *self.calendars}
        for _, _, k in self.strategy.kpis():
            if k.calendar not in known:
                close = difflib.get_close_matches(k.calendar, known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"KPI {k.id!r}: calendar {k.calendar!r} is not defined under `calendars`"
                    f"{hint} (defined: {', '.join(sorted(known))})"
                )
        return self

    def calendar(self, name: str) -> Any:
        """The service calendar of that name (``24x7`` is built in)."""
        if name == "24x7":
            from csi_helpers.kpis.clock import TWENTY_FOUR_SEVEN

            return TWENTY_FOUR_SEVEN
        return self.calendars[name].to_service_calendar()

    def cycle_window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The cycle as a UTC interval [start, end): whole days in the service's time zone.

        Example:
            >>> p = Params.model_validate({"service": {"id": "web", "name": "Web",
            ...     "timezone": "Europe/Amsterdam"},
            ...     "cycle": {"id": "q1", "start": "2026-01-01", "end": "2026-03-31"}})
            >>> [str(t) for t in p.cycle_window()]
            ['2025-12-31 23:00:00+00:00', '2026-03-31 22:00:00+00:00']
        """
        import pandas as pd

        tz = self.service.timezone
        start = pd.Timestamp(self.cycle.start).tz_localize(tz).tz_convert("UTC")
        end = (pd.Timestamp(self.cycle.end) + pd.Timedelta(days=1)).tz_localize(tz)
        return start, end.tz_convert("UTC")

    @property
    def default_run_id(self) -> str:
        return self.run_id or f"{self.service.id}-{self.cycle.id}"

    @property
    def previous_run_id(self) -> str | None:
        """``previous_run``, or when not given and the run id is the default one, the run id
        of the calendar cycle before (see :attr:`previous_run_derived`)."""
        if self.previous_run or self.run_id:
            return self.previous_run
        before = self.cycle.previous_id
        return f"{self.service.id}-{before}" if before else None

    @property
    def previous_run_derived(self) -> bool:
        """Whether :attr:`previous_run_id` was worked out rather than written: a first
        cycle has no run before it, and that is no reason to warn."""
        return self.previous_run is None and self.previous_run_id is not None

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise ParamsError(f"no source named {name!r}; the params define: {self.source_names()}")

    def sources_of_kind(self, kind: str) -> list[Source]:
        return [s for s in self.sources if s.kind == kind]

    def source_names(self) -> str:
        return ", ".join(s.name for s in self.sources) or "(none)"
