"""Step 6: the management view: executive summary and the styled scorecard."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
from IPython.display import Image, Markdown, display
from pandas.io.formats.style import Styler

from csi_helpers.analysis import Finding
from csi_helpers.plots import RAG_COLOURS
from csi_helpers.scorecard import ARROWS

SCORECARD_COLUMNS = {
    "kpi_name": "KPI",
    "target": "Target",
    "actual": "Actual",
    "previous": "Previous cycle",
    "trend": "Trend",
    "status": "Status",
    "unit": "Unit",
    "note": "Data note",
}


def key_findings(findings: list[Finding], *, limit: int = 8, per_kind: int = 2) -> list[Finding]:
    """The findings worth a manager's attention, in rank order.

    Findings of severity high or medium (bad news on a KPI; see
    :mod:`csi_helpers.severity`). Target gaps are on the scorecard already, so only
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
) -> list[str]:
    """Three to five sentences: how the KPIs stand, the top findings, what is proposed.

    The first sentence counts the scorecard's colours; up to ``top`` key findings
    (:func:`key_findings`) follow with their numbers; the last names how many
    actions are recommended (``actions``, from :func:`recommendations`) and the
    first of them. With no key finding, a sentence says so, so that a quiet cycle
    still reads as a summary rather than a gap.
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
    return sentences[:5]


def recommendations(findings: list[Finding], card: pd.DataFrame, *, cycle_end, cycle_id: str):
    """The actions step 7 will put into the CSI register, as the report shows them.

    The same rules as step 7 (:func:`csi_helpers.actions.recommend_actions`) on
    the same findings, so the report and the register never disagree.
    """
    from csi_helpers.actions import owners_of, recommend_actions

    owners = owners_of(card)
    return recommend_actions(findings, owners=owners, cycle_end=cycle_end, cycle_id=cycle_id)


RECOMMENDATION_COLUMNS = {
    "title": "Action",
    "kpi": "KPI it should move",
    "expected": "Expected improvement",
    "owner": "Owner",
    "due": "Due",
}


def styled_scorecard(card: pd.DataFrame) -> Styler:
    """The scorecard as a table with RAG colours and trend arrows, ready for the report."""
    shown = card.assign(trend=card["trend"].map(ARROWS).fillna(""))
    shown = shown[list(SCORECARD_COLUMNS)].rename(columns=SCORECARD_COLUMNS)

    def colour(status: str) -> str:
        c = RAG_COLOURS.get(status, RAG_COLOURS["grey"])
        return f"background-color: {c}; color: white; font-weight: bold; text-align: center"

    return (
        shown.style.hide(axis="index")
        .format({"Target": "{:,.4g}", "Actual": "{:,.4g}", "Previous cycle": "{:,.4g}"}, na_rep="–")
        .format(subset=["KPI", "Unit", "Data note"], escape="html", na_rep="")
        .map(colour, subset=["Status"])
        .set_properties(subset=["KPI", "Unit", "Data note"], **{"text-align": "left"})
    )


def table(frame: pd.DataFrame, *, precision: int = 2, empty: str = "None.") -> Styler | Markdown:
    """A table for a report: no index column, text left and numbers right, dashes for missing.

    Text is HTML-escaped: ticket descriptions and other user-written text show as text.

    An empty frame becomes the sentence ``empty`` rather than a bare header.
    """
    if frame.empty:
        return Markdown(empty)
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return (
        frame.style.hide(axis="index")
        .format(precision=precision, thousands=",", na_rep="–", escape="html")
        .set_properties(subset=text, **{"text-align": "left"})
    )


def bullets(items: list[str], *, empty: str = "None.") -> Markdown:
    """A Markdown bullet list (``empty`` when there is nothing to list)."""
    if not items:
        return Markdown(empty)
    return Markdown("\n".join(f"- {_md_escape(item)}" for item in items))


def display_findings(findings: list[Finding], *, run_dir: Path, limit: int = 8) -> None:
    """Show the key findings (:func:`key_findings`): statement, numbers, method, figure."""
    shown = key_findings(findings, limit=limit)
    if not shown:
        display(Markdown("No finding reached significance in this cycle."))
    for i, f in enumerate(shown, start=1):
        numbers = []
        if f.effect is not None:
            numbers.append(f"effect {f.effect:+,.4g} {f.unit}".rstrip())
        if f.ci_low is not None and f.ci_high is not None:
            numbers.append(f"95 % CI {f.ci_low:,.4g} to {f.ci_high:,.4g}")
        if f.p_value is not None:
            numbers.append(f"p = {f.p_value:.2g}" if f.p_value >= 1e-4 else "p < 0.0001")
        display(
            Markdown(
                f"### {i}. {_md_escape(f.statement)}\n\n"
                f"*Severity {f.severity}; {'; '.join(numbers) or 'no test statistic'}; "
                f"method: {_md_escape(f.method)}.*"
            )
        )
        if f.figure and (run_dir / f.figure).is_file():
            display(Image(filename=str(run_dir / f.figure), alt=figure_alt(f)))


#: What each analysis' chart shows, for its text alternative.
CHART_DESCRIPTIONS = {
    "trend": "Line chart of the daily {metric} with its 7-day mean and the trend line",
    "change_point": "Line chart of the daily {metric} with the level of each segment",
    "anomaly": "Line chart of the hourly {metric}; anomaly episodes shaded, peaks marked",
    "capacity_threshold": "Scatter chart of hourly {metric} by utilisation with the knee marked",
    "event_impact": "Line chart of the hourly {metric} with the event windows shaded",
    "concentration": "Bar chart of the share of SLA breaches beside that of tickets by {dimension}",
    "drivers": "Bar chart of the factors that predict an SLA breach, by importance",
    "capacity_forecast": "Line chart of the daily peak {metric} with its forecast and the capacity",
    "error_budget": "Line chart of the bad units spent against the error budget of {metric}",
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
    "anomaly": "Robust seasonal forecast of each hourly series; hours whose robust z-score "
    "(median absolute deviation) exceeds 3.5 are grouped into episodes.",
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


def provenance(run_dir: Path, params_path: Path) -> pd.DataFrame:
    """Run id, params file and its hash, the workbook and the package versions used.

    Read from the run's manifest, recorded when the run started, so the report
    names what produced it rather than what is installed when it is read; a run
    folder without a manifest (a notebook opened on its own) shows this session's.
    """
    from csi_helpers.hashing import sha256_file
    from csi_helpers.manifest import environment_info, read_manifest
    from csi_helpers.runfolder import has_manifest

    manifest = read_manifest(run_dir) if has_manifest(run_dir) else {}
    env = manifest.get("environment") or environment_info()
    params = manifest.get("params") or {
        "path": str(params_path),
        "sha256": sha256_file(params_path),
    }
    rows = [
        ("run id", manifest.get("run_id", run_dir.name)),
        ("params file", Path(params["path"]).name),
        ("params sha256", params["sha256"]),
        ("workbook", _workbook_text(env.get("workbook", {}))),
        ("python", env.get("python", "")),
    ]
    rows += list(env.get("packages", {}).items())
    return pd.DataFrame(rows, columns=["item", "value"])


def _workbook_text(info: dict) -> str:
    text = f"csi-workbook {info.get('version', '?')}"
    if info.get("git_commit"):
        text += f", commit {info['git_commit'][:12]}"
        text += " with uncommitted changes" if info.get("git_dirty") else ""
    return text


def _analysis_of(f: Finding) -> str:
    if not f.is_finding:
        return str(f.evidence.get("analysis", ""))
    return "target_gap" if f.kind == "baseline" else f.kind


def skipped_analyses(findings: list[Finding]) -> pd.DataFrame:
    """Methods that gave no finding, with the reason (for the methodology appendix)."""
    rows = [{"analysis": f.id, "reason": f.statement} for f in findings if not f.is_finding]
    return pd.DataFrame(rows, columns=["analysis", "reason"])


def _md_escape(text: str) -> str:
    return html.escape(str(text), quote=False).replace("*", r"\*").replace("_", r"\_")
