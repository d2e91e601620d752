"""The Finding record: one analysis result with its numbers, ready for a report.

Every analysis method in :mod:`csi_helpers.analysis` returns one :class:`Finding`.
A method that finds nothing, or cannot run on the data it was given (too short,
constant, mostly missing), still returns a Finding, of kind ``"no_finding"``,
whose statement says why. A notebook can therefore call each method and collect
the results without guarding against bad input.

Conventions shared by every method:

* ``id`` names the *question*, not the answer: ``"<analysis>:<metric>"`` plus the
  scope, so the same analysis on next month's data keeps the same id whether it
  finds something or not.
* ``effect``, ``ci_low`` and ``ci_high`` are in ``unit``; the interval always
  bounds ``effect``. Other intervals (a threshold's, say) live in ``evidence``.
* ``scope`` and ``evidence`` hold JSON-safe values only: numpy scalars become
  Python numbers and NaN or infinity becomes ``None`` when the record is made.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from csi_helpers.errors import DataError
from csi_helpers.report import formatting

Severity = Literal["high", "medium", "low", "info"]

#: Severity levels, most urgent first (the order :func:`rank_findings` uses).
SEVERITIES: tuple[str, ...] = ("high", "medium", "low", "info")

NO_FINDING = "no_finding"

_FIELDS = (
    "id",
    "kind",
    "statement",
    "metric",
    "scope",
    "effect",
    "unit",
    "ci_low",
    "ci_high",
    "p_value",
    "method",
    "figure",
    "severity",
    "evidence",
)


def json_safe(value: Any) -> Any:
    """Return a copy of ``value`` that :func:`json.dumps` accepts without loss of meaning.

    numpy and pandas scalars become Python scalars, arrays and tuples become lists,
    timestamps become ISO strings, mapping keys become strings, and NaN, infinity,
    ``pd.NA`` and ``NaT`` become ``None``.

    Args:
        value: Any nesting of mappings, sequences and scalars.

    Returns:
        A structure of dict, list, str, int, float, bool and None.

    Example:
        >>> json_safe({"n": np.int64(3), "x": np.float64("nan"), "v": np.array([1.5])})
        {'n': 3, 'x': None, 'v': [1.5]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Index, pd.Series)):
        return [
            json_safe(v)
            for v in (sorted(value) if isinstance(value, (set, frozenset)) else list(value))
        ]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.isoformat()
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return None if np.isnat(value) else str(value)
    raise TypeError(
        f"cannot store {type(value).__name__} value {value!r} in a Finding; "
        "use numbers, strings, booleans, lists or dicts"
    )


def _optional_float(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Finding.{name} must be a number or None, got {value!r}") from exc
    return f if math.isfinite(f) else None


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One analysis result, stated in plain language with the numbers behind it.

    Attributes:
        id: Stable identifier of the question asked (see :func:`finding_id`).
        kind: ``"trend"``, ``"capacity_threshold"``, ... or ``"no_finding"``.
        statement: One plain-language sentence that carries its numbers.
        metric: The measured quantity (a KPI id or column name).
        method: Method name and parameters, e.g. ``"mann_kendall(alpha=0.05)"``.
        severity: ``"high"``, ``"medium"``, ``"low"`` or ``"info"``.
        scope: Where the result holds (service, site, period, ...).
        effect: Size of the effect in ``unit``; ``None`` when there is none.
        unit: Unit of ``effect``, ``ci_low`` and ``ci_high``.
        ci_low: Lower end of the 95 % confidence interval of ``effect``.
        ci_high: Upper end of the 95 % confidence interval of ``effect``.
        p_value: p-value of the method's test, when it has one.
        figure: Run-folder-relative path of the figure, set once it is drawn.
        evidence: Supporting numbers (JSON-safe), e.g. sample size, dropped rows.

    Example:
        >>> f = Finding(id="trend:tickets", kind="trend", metric="tickets",
        ...             statement="tickets rise by 3.0/day", method="mann_kendall(alpha=0.05)",
        ...             severity="medium", effect=np.float64(3.0), unit="tickets/day")
        >>> f.effect, type(f.effect).__name__
        (3.0, 'float')
        >>> Finding.from_dict(f.to_dict()) == f
        True
    """

    id: str
    kind: str
    statement: str
    metric: str
    method: str
    severity: Severity
    scope: dict[str, Any] = field(default_factory=dict)
    effect: float | None = None
    unit: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    figure: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A record is built by code: a field out of its rules is a bug (TypeError/ValueError).
        for name in ("id", "kind", "statement", "metric", "method"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                error = ValueError if isinstance(value, str) else TypeError
                raise error(f"Finding.{name} must be a non-empty string, got {value!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"Finding.severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}"
            )
        if not isinstance(self.unit, str):
            raise TypeError(f"Finding.unit must be a string, got {self.unit!r}")
        for name in ("effect", "ci_low", "ci_high", "p_value"):
            object.__setattr__(self, name, _optional_float(name, getattr(self, name)))
        if self.p_value is not None and not 0.0 <= self.p_value <= 1.0:
            raise ValueError(f"Finding.p_value must lie in [0, 1], got {self.p_value}")
        if self.ci_low is not None and self.ci_high is not None and self.ci_low > self.ci_high:
            raise ValueError(f"Finding.ci_low {self.ci_low} exceeds ci_high {self.ci_high}")
        if self.figure is not None and (
            not isinstance(self.figure, str)
            or self.figure.startswith(("/", "\\"))
            or ".." in self.figure.replace("\\", "/").split("/")
        ):
            raise ValueError(
                f"Finding.figure must be a path relative to the run folder, got {self.figure!r}"
            )
        for name in ("scope", "evidence"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                raise TypeError(f"Finding.{name} must be a dict, got {type(value).__name__}")
            object.__setattr__(self, name, json_safe(value))

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-safe dict (a deep copy).

        Example:
            >>> f = no_finding(analysis="trend", metric="tickets", reason="too_short",
            ...                detail="5 points, need ≥ 14", method="mann_kendall")
            >>> json.loads(json.dumps(f.to_dict()))["evidence"]
            {'analysis': 'trend', 'reason': 'too_short'}
        """
        return {name: json_safe(getattr(self, name)) for name in _FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Rebuild a Finding from :meth:`to_dict` output (e.g. read back from JSON).

        A record read back from a run folder is data: one that is not a valid
        Finding (a damaged or hand-edited file) raises :class:`DataError`, naming it.

        Raises:
            DataError: If a required key is missing, an unknown key is present, or a
                field breaks the rules of :class:`Finding`.
        """
        if not isinstance(data, Mapping):
            raise DataError(f"a Finding record must be a dict, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise DataError(f"unknown Finding keys {unknown}; expected only {list(_FIELDS)}")
        required = ("id", "kind", "statement", "metric", "method", "severity")
        missing = [k for k in required if k not in data]
        if missing:
            raise DataError(f"Finding record {data.get('id', '?')!r} lacks keys {missing}")
        values = {k: v for k, v in data.items() if not (k in ("scope", "evidence") and v is None)}
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise DataError(f"Finding record {data['id']!r} is not valid: {exc}") from exc

    def with_figure(self, path: str) -> Finding:
        """Return a copy that points at a figure (a run-folder-relative path)."""
        return dataclasses.replace(self, figure=path)

    @property
    def is_finding(self) -> bool:
        """``True`` unless this record only explains why nothing was found."""
        return self.kind != NO_FINDING


def finding_id(analysis: str, metric: str, scope: Mapping[str, Any] | None = None) -> str:
    """Build the stable id of an analysis question: ``analysis:metric[@k=v&...]``.

    Example:
        >>> finding_id("trend", "tickets", {"service": "email", "site": "Leeds"})
        'trend:tickets@service=email&site=Leeds'
    """
    base = f"{analysis}:{metric}"
    if not scope:
        return base
    parts = "&".join(f"{k}={json_safe(scope[k])}" for k in sorted(scope, key=str))
    return f"{base}@{parts}"


def no_finding(
    *,
    analysis: str,
    metric: str,
    reason: str,
    detail: str,
    method: str,
    unit: str = "",
    scope: Mapping[str, Any] | None = None,
    evidence: Mapping[str, Any] | None = None,
    effect: float | None = None,
    ci_low: float | None = None,
    ci_high: float | None = None,
    p_value: float | None = None,
) -> Finding:
    """Record why an analysis produced no finding, so that callers never have to crash.

    Args:
        analysis: Name of the analysis that ran (``"trend"``, ``"capacity_threshold"``).
        metric: The metric it was asked about.
        reason: A short machine-readable code, e.g. ``"too_short"``, ``"not_significant"``.
        detail: The plain-language statement, with its numbers.
        method: Method name and parameters.
        unit: Unit of ``effect`` if the method got as far as estimating one.
        scope: Where the question was asked.
        evidence: Supporting numbers; ``analysis`` and ``reason`` are added to it.
        effect: Estimate, if any, even though it is not reportable.
        ci_low: Lower end of the 95 % CI of ``effect``.
        ci_high: Upper end of the 95 % CI of ``effect``.
        p_value: The p-value, if the test ran.

    Returns:
        A Finding of kind ``"no_finding"`` and severity ``"info"``.

    Example:
        >>> f = no_finding(analysis="trend", metric="tickets", reason="too_short",
        ...                detail="series too short: 5 points, need ≥ 14", method="mann_kendall")
        >>> f.kind, f.evidence["reason"], f.is_finding
        ('no_finding', 'too_short', False)
    """
    scope = dict(scope or {})
    estimate = {"effect": effect, "ci_low": ci_low, "ci_high": ci_high, "p_value": p_value}
    return Finding(
        id=finding_id(analysis, metric, scope),
        kind=NO_FINDING,
        statement=detail,
        metric=metric,
        method=method,
        severity="info",
        scope=scope,
        unit=unit,
        evidence={**dict(evidence or {}), "analysis": analysis, "reason": reason},
        **estimate,
    )


def findings_to_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Tabulate findings, one row each, in the order given.

    ``scope`` and ``evidence`` are stored as JSON text so that the table writes to
    Parquet as it is; all other columns are plain strings or floats.

    Example:
        >>> f = no_finding(analysis="trend", metric="tickets", reason="constant",
        ...                detail="series is constant at 4", method="mann_kendall")
        >>> findings_to_frame([f])[["id", "kind", "severity"]].to_dict("records")
        [{'id': 'trend:tickets', 'kind': 'no_finding', 'severity': 'info'}]
    """
    rows = []
    for f in findings:
        if not isinstance(f, Finding):
            raise TypeError(f"findings_to_frame expects Finding records, got {type(f).__name__}")
        row = f.to_dict()
        row["scope"] = json.dumps(row["scope"], sort_keys=True, ensure_ascii=False)
        row["evidence"] = json.dumps(row["evidence"], sort_keys=True, ensure_ascii=False)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(_FIELDS))
    floats = ["effect", "ci_low", "ci_high", "p_value"]
    frame[floats] = frame[floats].astype("float64")
    for column in (c for c in _FIELDS if c not in floats):
        frame[column] = frame[column].astype("string")
    return frame


def rank_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Order findings by severity (high first), then by size of effect, then by id.

    Findings without an effect come after those with one at the same severity.

    Example:
        >>> mk = lambda i, s, e: Finding(id=i, kind="trend", statement=i, metric="m",
        ...                              method="x", severity=s, effect=e)
        >>> [f.id for f in rank_findings([mk("a", "low", 9), mk("b", "high", -1),
        ...                               mk("c", "high", 5), mk("d", "high", None)])]
        ['c', 'b', 'd', 'a']
    """
    items = list(findings)
    for f in items:
        if not isinstance(f, Finding):
            raise TypeError(f"rank_findings expects Finding records, got {type(f).__name__}")

    def key(f: Finding) -> tuple[int, int, float, str]:
        size = abs(f.effect) if f.effect is not None else 0.0
        return (SEVERITIES.index(f.severity), f.effect is None, -size, f.id)

    return sorted(items, key=key)


def format_number(value: float | None) -> str:
    """Format a number for a statement: about three significant figures, no exponent
    (:func:`csi_helpers.report.formatting.number`, the reports' one formatting rule).

    Example:
        >>> [format_number(v) for v in (2163.4, 12.07, 1.234, 0.01234, 0.0000123, None)]
        ['2,163', '12.1', '1.23', '0.0123', '0.0000123', 'n/a']
    """
    return formatting.number(value)


def format_p(p: float) -> str:
    """Format a p-value as ``p = 0.012`` or ``p < 0.001``.

    Example:
        >>> format_p(0.0123), format_p(0.00001)
        ('p = 0.012', 'p < 0.001')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
