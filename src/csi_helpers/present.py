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


def executive_summary(card: pd.DataFrame, findings: list[Finding], *, top: int = 3) -> list[str]:
    """Three to five sentences: how the KPIs stand, then the top findings with their numbers."""
    counts = card["status"].value_counts()
    measured = int(len(card) - counts.get("grey", 0))
    sentences = [
        f"{counts.get('green', 0)} of {measured} measured KPIs meet their target; "
        f"{counts.get('amber', 0)} are amber and {counts.get('red', 0)} red."
    ]
    if counts.get("grey", 0):
        sentences[0] += f" {counts['grey']} cannot be measured with the current data."
    sentences += [f.statement for f in key_findings(findings)][:top]
    return sentences[:5]


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
            display(Image(filename=str(run_dir / f.figure)))


def skipped_analyses(findings: list[Finding]) -> pd.DataFrame:
    """Methods that gave no finding, with the reason (for the methodology appendix)."""
    rows = [{"analysis": f.id, "reason": f.statement} for f in findings if not f.is_finding]
    return pd.DataFrame(rows, columns=["analysis", "reason"])


def _md_escape(text: str) -> str:
    return html.escape(str(text), quote=False).replace("*", r"\*").replace("_", r"\_")
