"""What a KPI is: a definition in the library and the result it computes.

A library KPI is a pure function ``fn(table, *, start, end, <options>) -> KpiResult``:

- ``table`` is the canonical table of the definition's ``source_kind``;
- ``start``/``end`` bound the period, [start, end) in UTC;
- every other keyword-only parameter is an **option**, settable from params
  (``options:`` of a KPI entry), with its default documented in the docstring.
  Options are validated against the signature: an unknown one is an error with a
  did-you-mean, a wrong type is an error naming the option.
- Two keywords are reserved and filled by the caller, not by params:
  ``calendar`` (the KPI's service calendar, see :mod:`csi_helpers.kpis.clock`) and
  ``pauses`` (clock-stopping intervals rebuilt from a ticket event log).
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_type_hints

import pandas as pd
from pydantic import ConfigDict, ValidationError, create_model

RESERVED = frozenset({"start", "end", "calendar", "pauses"})


@dataclass(frozen=True)
class KpiResult:
    """The value of a KPI over a period, with how many records fed it."""

    value: float | None
    n: int  # records the value is computed from
    excluded: int = 0  # records in scope left out (e.g. no resolution time)
    note: str = ""  # how exclusions bear on the value
    details: dict[str, Any] = field(default_factory=dict)  # e.g. a distribution

    def to_dict(self) -> dict[str, Any]:
        v = None if self.value is None or math.isnan(self.value) else float(self.value)
        return {
            "value": v,
            "n": int(self.n),
            "excluded": int(self.excluded),
            "note": self.note,
            "details": self.details,
        }


@dataclass(frozen=True)
class KpiDefinition:
    """A library KPI: what it needs and how it is computed.

    ``option_fields`` names extra canonical columns some option values need, e.g.
    ``{"method": {"targets": ("priority", "resolved_at")}}``.
    """

    id: str
    name: str
    unit: str
    source_kind: str
    fields: tuple[str, ...]  # canonical columns the formula always needs
    better: Literal["higher", "lower"]
    compute: Callable[..., KpiResult] = field(repr=False)
    option_fields: Mapping[str, Mapping[Any, tuple[str, ...]]] = field(default_factory=dict)
    revision: int = 1  # raised when the formula changes: values of other revisions don't compare

    @property
    def formula(self) -> str:
        """The docstring's first paragraph and its 'Formula:' line."""
        doc = inspect.getdoc(self.compute) or ""
        lines = [ln for ln in doc.splitlines() if ln.startswith("Formula:")]
        return " ".join([doc.split("\n\n")[0], *lines])

    @property
    def revision_note(self) -> str:
        """The docstring's paragraph on how this revision differs from the previous one."""
        doc = inspect.getdoc(self.compute) or ""
        notes = [p for p in doc.split("\n\n") if p.startswith(f"Revision {self.revision}:")]
        return " ".join(" ".join(notes).split())

    def option_defaults(self) -> dict[str, Any]:
        """Every option with its default, from the function's signature."""
        sig = inspect.signature(self.compute)
        return {
            name: p.default
            for name, p in sig.parameters.items()
            if p.kind is p.KEYWORD_ONLY and name not in RESERVED
        }

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Check options against the signature; return them typed. ValueError when wrong."""
        known = self.option_defaults()
        for name in options:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                allowed = ", ".join(known) or "none"
                raise ValueError(
                    f"KPI {self.id!r} has no option {name!r}; {hint}options: {allowed}"
                )
        hints = get_type_hints(self.compute)
        model = create_model(  # type: ignore[call-overload]
            f"{self.id}_options",
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
            **{n: (hints.get(n, Any), d) for n, d in known.items()},
        )
        try:
            typed = model.model_validate(dict(options))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ValueError(f"KPI {self.id!r} option {where}: {err['msg']}") from None
        return {n: getattr(typed, n) for n in options}

    def needed_fields(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Canonical columns needed with these options (defaults filled in)."""
        chosen = self.option_defaults() | dict(options)
        extra = [
            f
            for opt, by_value in self.option_fields.items()
            for f in by_value.get(chosen.get(opt), ())
        ]
        return tuple(dict.fromkeys([*self.fields, *extra]))

    def __call__(
        self,
        table: pd.DataFrame,
        *,
        start: pd.Timestamp,
        end: pd.Timestamp,
        options: Mapping[str, Any] | None = None,
        **reserved: Any,
    ) -> KpiResult:
        """Compute on ``table``; reserved keywords are passed only if the function takes them."""
        params = inspect.signature(self.compute).parameters
        given = {k: v for k, v in reserved.items() if k in params and k in RESERVED}
        return self.compute(table, start=start, end=end, **given, **dict(options or {}))


def define(
    source_kind: str,
    compute: Callable[..., KpiResult],
    name: str,
    unit: str,
    fields: tuple[str, ...],
    better: Literal["higher", "lower"],
    option_fields: Mapping[str, Mapping[Any, tuple[str, ...]]] | None = None,
    *,
    revision: int = 1,
) -> KpiDefinition:
    """A library KPI on ``source_kind`` tables, registered under its function's name.

    The function's name is the stable id params use. Each family's ``DEFINITIONS``
    is a table of these, one row per KPI; a family binds its usual source kind
    (``_kpi = partial(define, "tickets")``). ``revision`` is raised whenever the
    formula of an existing id changes, so that a value is never compared with one
    an earlier formula gave (see :func:`csi_helpers.kpis.scorecard.build_scorecard`).

    Example:
        >>> def volume(table, *, start, end):
        ...     return KpiResult(value=float(len(table)), n=len(table))
        >>> d = define("tickets", volume, "Volume", "tickets", ("opened_at",), "lower")
        >>> (d.id, d.source_kind, d.fields)
        ('volume', 'tickets', ('opened_at',))
    """
    return KpiDefinition(
        compute.__name__,
        name,
        unit,
        source_kind,
        fields,
        better,
        compute,
        option_fields or {},
        revision,
    )


_F = TypeVar("_F", bound=Callable[..., KpiResult])


def named_after(compute: _F, formula: Callable[..., Any]) -> _F:
    """``compute`` under the name and docstring of ``formula``; for a family's KPI decorator.

    Where several KPIs share a signature and the steps around their formula, a family
    module writes the KPI function once, in a decorator, and each KPI as a decorated
    function holding only its formula. The KPI keeps the formula's name (its id, and
    what pickle and doctest look up in the module) and docstring (its formula and
    example), and its own signature and annotations, from which options are read:
    unlike ``functools.wraps`` this sets no ``__wrapped__`` and copies no annotations.
    """
    compute.__name__ = formula.__name__
    compute.__qualname__ = formula.__qualname__
    compute.__doc__ = formula.__doc__
    return compute


def in_period(values: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Mask of timestamps in [start, end) (end exclusive); missing timestamps are False.

    Example:
        >>> t = pd.Series(pd.to_datetime(["2026-01-01", "2026-02-01", None], utc=True))
        >>> in_period(t, pd.Timestamp("2026-01-01", tz="UTC"),
        ...           pd.Timestamp("2026-02-01", tz="UTC")).tolist()
        [True, False, False]
    """
    return ((values >= start) & (values < end)).fillna(False).astype(bool)


def empty(note: str, *, excluded: int = 0) -> KpiResult:
    """A result with no value: nothing to measure, for the reason ``note`` gives.

    Example:
        >>> empty("no survey response in the period", excluded=2).to_dict()["value"] is None
        True
    """
    return KpiResult(value=None, n=0, excluded=excluded, note=note)
