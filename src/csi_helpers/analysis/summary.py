"""What a report says of the findings: the key ones, the executive summary, the methods.

Pure functions of step 5's findings (and the scorecard and action plan), so the
management report (step 6) and its tests share one definition.
"""

from __future__ import annotations

import pandas as pd

from csi_helpers.analysis.business import format_money
from csi_helpers.analysis.findings import Finding

__all__ = [
    "CHART_DESCRIPTIONS",
    "METHODS",
    "executive_summary",
    "figure_alt",
    "key_findings",
    "methodology",
    "money_formulas",
    "money_sentences",
    "skipped_analyses",
]


def key_findings(findings: list[Finding], *, limit: int = 8, per_kind: int = 2) -> list[Finding]:
    """The findings worth a manager's attention, in rank order.

    Findings of severity high or medium (bad news on a KPI; see
    :mod:`csi_helpers.analysis.severity`). Target gaps are on the scorecard already, so only
    red ones (severity high) are repeated here. At most ``per_kind`` of one kind are
    kept, so that one analysis (five anomaly episodes, say) does not crowd out the
    others; the rest stay in the findings table.
    """
    chosen: list[Finding] = []
    for f in findings:
        wanted = (
            f.is_finding
            and f.severity in ("high", "medium")
            and (f.kind != "target_gap" or f.severity == "high")
        )
        if wanted and sum(c.kind == f.kind for c in chosen) < per_kind:
            chosen.append(f)
    return chosen[:limit]


def executive_summary(
    card: pd.DataFrame,
    findings: list[Finding],
    *,
    actions: pd.DataFrame | None = None,
    top: int = 3,
    impacts: pd.DataFrame | None = None,
) -> list[str]:
    """Three to five sentences: how the KPIs stand, the top findings, what is proposed.

    The first sentence counts the scorecard's colours; up to ``top`` key findings
    (:func:`key_findings`) follow with their numbers; the last names how many
    actions are recommended (``actions``, from :func:`csi_helpers.actions.recommendations`) and the
    first of them. With no key finding, a sentence says so, so that a quiet cycle
    still reads as a summary rather than a gap. With ``impacts`` (step 5's money at
    stake), one sentence per priced red KPI follows the first (:func:`money_sentences`).
    """
    counts = card["status"].value_counts()
    measured = int(len(card) - counts.get("grey", 0))
    sentences = [
        f"{counts.get('green', 0)} of {measured} measured KPIs meet their target; "
        f"{counts.get('amber', 0)} are amber and {counts.get('red', 0)} red."
    ]
    if counts.get("grey", 0):
        sentences[0] += f" {counts['grey']} cannot be measured with the current data."
    shown = [f.statement for f in key_findings(findings)][:top]
    sentences += shown or ["No analysis found a significant worsening in this cycle."]
    if actions is not None:
        if actions.empty:
            sentences.append("No improvement action is proposed.")
        else:
            n = len(actions)
            sentences.append(
                f"{n} improvement action{'s are' if n > 1 else ' is'} proposed, "
                f"first: {actions['title'].iloc[0]}."
            )
    money = money_sentences(impacts) if impacts is not None else []
    return [*sentences[:1], *money, *sentences[1:5]]


def money_sentences(impacts: pd.DataFrame) -> list[str]:
    """One sentence per amount at stake (step 5's ``analyse/impact``), largest first; red
    KPIs priced on the same quantity (availability and downtime) share one.

    Example:
        >>> impacts = pd.DataFrame({"kpi_name": ["Downtime", "Availability"],
        ...     "basis": ["lost revenue"] * 2, "quantity": [283.4] * 2,
        ...     "unit": ["min of downtime"] * 2, "amount": [65315.2] * 2, "currency": ["EUR"] * 2})
        >>> money_sentences(impacts)
        ['Downtime and Availability (red) put €65,315 at stake this cycle: lost revenue on 283.4 min of downtime.']
    """  # noqa: E501
    same = ["basis", "quantity", "unit", "amount", "currency"]
    sentences = []
    for (basis, quantity, unit, amount, currency), group in impacts.groupby(same, sort=False):
        names = list(group["kpi_name"])
        who = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        verb = "puts" if len(names) == 1 else "put"
        sentences.append(
            f"{who} (red) {verb} {format_money(amount, currency)} at stake this cycle: "
            f"{basis} on {_quantity(quantity, unit)}."
        )
    return sentences


def _quantity(quantity: float, unit: str) -> str:
    """``283.4 min of downtime``, ``50 breaches``, ``1 breach``."""
    if unit.startswith("min"):
        return f"{quantity:,.1f} {unit}"
    if unit == "breaches" and quantity == 1:
        unit = "breach"
    return f"{quantity:,.0f} {unit}" if float(quantity).is_integer() else f"{quantity:,.1f} {unit}"


def money_formulas(impacts: pd.DataFrame, *, timezone: str) -> list[str]:
    """How each amount at stake was reached, for the methodology appendix: the KPI, its
    formula and what the formula assumes; a note when two amounts price the same minutes.

    Example:
        >>> impacts = pd.DataFrame({"kpi_name": ["SLA"], "unit": ["breaches"],
        ...     "formula": ["2 breaches × €250 per breach = €500"],
        ...     "assumption": ["the penalty per breach of the params"]})
        >>> money_formulas(impacts, timezone="UTC")
        ['SLA: 2 breaches × €250 per breach = €500 (the penalty per breach of the params).']
    """
    lines = [f"{r.kpi_name}: {r.formula} ({r.assumption})." for r in impacts.itertuples()]
    if (impacts["unit"] == "min of downtime").sum() > 1:
        lines.append("KPIs priced on minutes of downtime count the same outages: do not add them.")
    if (impacts["unit"] == "breaches").sum() > 1:
        lines.append("SLA entries whose scopes overlap count the same breaches: do not add them.")
    if (impacts["unit"] == "min of downtime").any():
        lines.append(f"Weekdays and hours are those of the service's time zone, {timezone}.")
    return lines


#: What each analysis' chart shows, for its text alternative.
CHART_DESCRIPTIONS = {
    "trend": "Line chart of the daily {metric} with its 7-day mean and the trend line",
    "change_point": "Line chart of the daily {metric} with the level of each segment",
    "anomaly": "Line chart of the hourly {metric}; anomaly episodes shaded, peaks marked",
    "event_episode": "Line chart of the hourly {metric}; anomaly episodes shaded, peaks marked",
    "capacity_threshold": "Scatter chart of hourly {metric} by utilisation with the knee marked",
    "event_impact": "Line chart of the hourly {metric} with the event windows shaded",
    "concentration": "Bar chart of the share of SLA breaches beside that of tickets by {dimension}",
    "drivers": "Bar chart of the factors that predict an SLA breach, by importance",
    "capacity_forecast": "Line chart of the daily peak {metric} with its forecast and the capacity",
    "error_budget": "Line chart of the bad units spent against the error budget of {metric}",
    "target_gap": "Bullet chart of the KPI this cycle (and the previous one) on its met, "
    "amber and red bands, the target dashed",
}


def figure_alt(f: Finding) -> str:
    """The text alternative of a finding's chart: what is drawn, then the finding itself."""
    what = CHART_DESCRIPTIONS.get(f.kind, "Chart of {metric}").format(
        metric=f.metric, dimension=f.evidence.get("by", "group")
    )
    return f"{what}. {f.statement}"


#: What each analysis does, for the methodology appendix.
METHODS = {
    "target_gap": "Each KPI's value for the cycle against its target and amber tolerance, "
    "with the previous cycle's value for the trend arrow.",
    "trend": "Seasonal Mann-Kendall test on the daily series (weekly season); Sen slope with "
    "its 95 % interval.",
    "change_point": "Binary segmentation of the daily series over the previous cycle and this "
    "one; each split must pass a permutation test within weekdays that allows for "
    "day-to-day correlation (Bonferroni per round).",
    "anomaly": "Each hourly series against its expected level, a weekly seasonal-trend "
    "decomposition (STL) fitted with the known events (campaigns, changes and the hours "
    "after them, outages) set aside, on a scale where the spread does not grow with the "
    "level; an episode is reported when a deviation this large would occur by chance in "
    "at most α of cycles of this length (analysis.alpha; Šidák bound over the hours).",
    "event_episode": "The same model's episodes that fall inside a known event: attributed "
    "to that event (its id and name kept) rather than reported as anomalies.",
    "capacity_threshold": "Broken-stick regression of latency and error rate on utilisation; "
    "the knee tested with a wild-bootstrap sup-F test, its interval by bootstrap.",
    "event_impact": "Each hourly KPI during campaigns and changes against the same weekday and "
    "hour in the weeks around them; p-value from placebo calendars, interval across "
    "events; both must agree.",
    "concentration": "Share of SLA breaches against share of tickets per category, group and "
    "priority; one-sided Fisher tests, Holm-corrected.",
    "drivers": "Gradient-boosting model of SLA breach on ticket attributes, trained on the "
    "earlier part of the cycle and tested on the later; AUC with DeLong interval, tested "
    "permutation importances. Associations, not causes.",
    "capacity_forecast": "Daily busiest-hour utilisation as trend and weekday with AR(1) "
    "errors; the date its prediction bounds cross the capacity limit.",
    "error_budget": "Share of the SLO's error budget consumed, burn rate with an exact "
    "(Clopper-Pearson) interval, and the date it runs out at that rate.",
}


def methodology(findings: list[Finding]) -> pd.DataFrame:
    """One row per analysis: its method, what it ran on and what it gave.

    ``findings`` and ``no findings`` count the records step 5 wrote for the
    analysis; the reasons for the no-findings are in :func:`skipped_analyses`.
    """
    rows = []
    for analysis, method in METHODS.items():
        mine = [f for f in findings if _analysis_of(f) == analysis]
        found = [f for f in mine if f.is_finding]
        rows.append(
            {
                "analysis": analysis.replace("_", " "),
                "method": method,
                "ran on": ", ".join(sorted({f.metric for f in mine if f.metric})) or "–",
                "findings": len(found),
                "no findings": len(mine) - len(found),
            }
        )
    return pd.DataFrame(rows)


def _analysis_of(f: Finding) -> str:
    if not f.is_finding:
        return str(f.evidence.get("analysis", ""))
    return "target_gap" if f.kind == "baseline" else f.kind


def skipped_analyses(findings: list[Finding]) -> pd.DataFrame:
    """Methods that gave no finding, with the reason (for the methodology appendix)."""
    rows = [{"analysis": f.id, "reason": f.statement} for f in findings if not f.is_finding]
    return pd.DataFrame(rows, columns=["analysis", "reason"])
