"""Step 5 (analyse): baselines, trends, change points, anomalies, thresholds, causes,
forecasts and error budgets, each finding with its evidence.

Each ``analyse_*`` function runs one family of methods (:mod:`csi_helpers.analysis`)
on what step 4 wrote, saves a figure per finding into the run folder, re-derives
each finding's severity against the KPI targets
(:func:`csi_helpers.analysis.severity.assess`) and returns the findings. A method
that cannot run on this cycle's data (no source of that kind, a series too short,
too few events) returns a no-finding record that says why; the report lists those
in its methodology appendix. A :class:`~csi_helpers.errors.DataError` raised by a
method on such data becomes that record too (:func:`guarded`), so one analysis
never stops the step; a programming error (a wrong option) still does.

- :mod:`~csi_helpers.steps.analyse.inputs`: what the step reads once, and the guard;
- :mod:`~csi_helpers.steps.analyse.series`: analyses of the hourly and daily series;
- :mod:`~csi_helpers.steps.analyse.tables`: analyses of the canonical tables' rows;
- :mod:`~csi_helpers.steps.analyse.tickets`: the ticket KPIs week by week;
- :mod:`~csi_helpers.steps.analyse.business`: the money at stake on each red KPI.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers.analysis.findings import Finding, findings_to_frame, rank_findings
from csi_helpers.kpis.scorecard import build_scorecard
from csi_helpers.runfolder.context import PreviousRun, StepContext
from csi_helpers.steps.analyse.business import business_impact
from csi_helpers.steps.analyse.inputs import Inputs, guarded, load_inputs
from csi_helpers.steps.analyse.issues import issues_frame, save_issues
from csi_helpers.steps.analyse.series import (
    analyse_anomalies,
    analyse_change_points,
    analyse_events,
    analyse_forecast,
    analyse_kpis,
    analyse_peaks,
    analyse_trends,
)
from csi_helpers.steps.analyse.tables import (
    analyse_capacity,
    analyse_drivers,
    analyse_error_budgets,
)
from csi_helpers.steps.analyse.tickets import analyse_ticket_kpis
from csi_helpers.tables import catalogue

__all__ = [
    "Inputs",
    "analyse_anomalies",
    "analyse_capacity",
    "analyse_change_points",
    "analyse_drivers",
    "analyse_error_budgets",
    "analyse_events",
    "analyse_forecast",
    "analyse_kpis",
    "analyse_peaks",
    "analyse_ticket_kpis",
    "analyse_trends",
    "business_impact",
    "guarded",
    "issues_frame",
    "load_inputs",
    "save_findings",
    "save_issues",
    "scorecard",
]


def scorecard(ctx: StepContext, previous: PreviousRun | None) -> pd.DataFrame:
    """Each KPI entry against its target and the previous cycle; written for steps 6 and 7."""
    card = build_scorecard(
        ctx.read_table(catalogue.KPI_TREE),
        ctx.read_table(catalogue.KPI_VALUES),
        previous.read_table(catalogue.KPI_VALUES) if previous else None,
    )
    ctx.write_table(catalogue.SCORECARD, card)
    return card


def save_findings(ctx: StepContext, findings: list[Finding]) -> list[Finding]:
    """Control the error rate across the cycle's tests, rank the findings and write them
    for steps 6 and 7 (JSON records and a table).

    See :func:`csi_helpers.analysis.multiplicity.control_report`: Benjamini–Hochberg at
    ``analysis.alpha`` over every test of the cycle, and no finding whose interval
    includes no effect.
    """
    from csi_helpers.analysis.multiplicity import control_report

    ranked = rank_findings(control_report(findings, alpha=ctx.params.analysis.alpha))
    ctx.write_json(catalogue.FINDINGS, [f.to_dict() for f in ranked])
    ctx.write_table(catalogue.FINDINGS_TABLE, findings_to_frame(ranked))
    return ranked
