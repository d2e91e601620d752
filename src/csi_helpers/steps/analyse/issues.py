"""Step 5's synthesis: the cycle's findings grouped into issues (``analyse/issues.json``).

See :mod:`csi_helpers.analysis.synthesis` for how findings are linked. The calendar
events are the calendar sources' windows (campaigns); the hourly series places the
downtime minutes in the hours above a capacity knee or inside those events.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers.analysis.findings import Finding
from csi_helpers.analysis.synthesis import Issue, build_issues, price_issues
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.analyse.inputs import Inputs
from csi_helpers.steps.analyse.tables import event_windows
from csi_helpers.tables import catalogue

__all__ = ["issues_frame", "save_issues"]


def save_issues(ctx: StepContext, inputs: Inputs, findings: list[Finding]) -> list[Issue]:
    """Group the saved findings into issues, price them with step 5's money table (when
    the params have a ``business`` section) and write them, ranked, for steps 6 and 7."""
    calendar = [w for kind, w in event_windows(ctx).values() if kind == "calendar"]
    events = pd.concat(calendar, ignore_index=True) if calendar else None
    issues = build_issues(findings, inputs.card, hourly=inputs.hourly, events=events)
    impact = ctx.read_table(catalogue.IMPACT) if ctx.has(catalogue.IMPACT) else None
    issues = price_issues(issues, impact)  # the money at stake first, then severity
    ctx.write_json(catalogue.ISSUES, [i.to_dict() for i in issues])
    return issues


def issues_frame(issues: list[Issue]) -> pd.DataFrame:
    """The issues as a table to look at: headline, severity, confidence, evidence count."""
    return pd.DataFrame(
        {
            "headline": [i.headline for i in issues],
            "severity": [i.severity for i in issues],
            "confidence": [i.confidence for i in issues],
            "findings": [len(i.findings) for i in issues],
            "kpis": [", ".join(i.kpis) for i in issues],
        }
    )
