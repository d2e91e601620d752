"""The question an analysis method answers, and the records that answer it.

A method asks one question (which analysis, of which metric, where, by which
method, with its effect in which unit) and answers it with a :class:`Finding` or
with a no-finding record that says why there is none. :class:`Question` holds
those five things once, so that every record a method builds carries them alike:
the no-finding records through :func:`~csi_helpers.analysis.findings.no_finding`,
the findings with the id, metric, method, scope and unit filled in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csi_helpers.analysis.findings import Finding, Severity, finding_id, no_finding


@dataclass(frozen=True)
class Question:
    """One analysis question and the builder of its answers.

    Attributes:
        analysis: Name of the analysis (``"trend"``); the kind of its findings.
        metric: The metric asked about.
        method: Method name and parameters.
        unit: Unit of the effect of the records.
        scope: Where the question is asked (service, site, ...).

    Example:
        >>> asked = Question(analysis="trend", metric="tickets", method="mann_kendall",
        ...                  unit="tickets/day", scope={"service": "email"})
        >>> asked.no_finding("too_short", "5 points, need ≥ 10").evidence
        {'analysis': 'trend', 'reason': 'too_short'}
        >>> f = asked.finding("tickets rise by 3/day", severity="low", effect=3.0)
        >>> f.id, f.kind, f.unit, f.is_finding
        ('trend:tickets@service=email', 'trend', 'tickets/day', True)
    """

    analysis: str
    metric: str
    method: str
    unit: str = ""
    scope: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The stable id of the question (see :func:`finding_id`)."""
        return finding_id(self.analysis, self.metric, self.scope)

    def no_finding(
        self,
        reason: str,
        detail: str,
        *,
        evidence: Mapping[str, Any] | None = None,
        **numbers: float | None,
    ) -> Finding:
        """Why the question has no finding (see :func:`no_finding`).

        ``numbers`` are the estimates the method got to, if any: ``effect``,
        ``ci_low``, ``ci_high``, ``p_value``.
        """
        return no_finding(
            analysis=self.analysis,
            metric=self.metric,
            reason=reason,
            detail=detail,
            method=self.method,
            unit=self.unit,
            scope=self.scope,
            evidence=evidence,
            **numbers,
        )

    def finding(
        self,
        statement: str,
        *,
        severity: Severity,
        evidence: Mapping[str, Any] | None = None,
        id: str | None = None,
        **numbers: float | None,
    ) -> Finding:
        """A finding that answers the question; ``id`` defaults to the question's.

        ``numbers`` are ``effect``, ``ci_low``, ``ci_high`` and ``p_value``.
        """
        return Finding(
            id=self.id if id is None else id,
            kind=self.analysis,
            statement=statement,
            metric=self.metric,
            method=self.method,
            severity=severity,
            scope=dict(self.scope),
            unit=self.unit,
            evidence=dict(evidence or {}),
            **numbers,
        )
