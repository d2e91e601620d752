"""Step 6's story: the first screen of the management report and one section per issue.

The report answers, in this order, "how are we doing, what is wrong, what will it
cost, what do we do": KPI tiles (:func:`at_a_glance`), the top issues each in one
sentence with its money and its proposed action (:func:`top_issues`), then, after
the scorecard, one section per issue with one chart and its findings in plain words
(:func:`display_issues`). Statistics, methods and model names are left to the
methodology appendix (:func:`findings_appendix`), which each finding links to.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from csi_helpers.analysis.findings import Finding, format_p
from csi_helpers.analysis.story import (
    STATUSES,
    IssueSection,
    issue_sections,
    kpi_names,
    plain,
    status_counts,
)
from csi_helpers.analysis.summary import METHODS, figure_alt
from csi_helpers.report import cards, formatting
from csi_helpers.report.tables import escape_markdown
from csi_helpers.runfolder.context import StepContext
from csi_helpers.steps.common import register_entries
from csi_helpers.tables import catalogue

__all__ = [
    "APPENDICES",
    "anchor",
    "appendix_contents",
    "at_a_glance",
    "display_issues",
    "findings_appendix",
    "read_sections",
    "telling",
    "top_issues",
]

#: The report's appendices: anchor → title (the headings of notebook 06 carry the ids).
APPENDICES = {
    "appendix-a": "Appendix A: measurement gap",
    "appendix-b": "Appendix B: data quality and warnings",
    "appendix-c": "Appendix C: methodology",
    "appendix-findings": "Appendix C.1: each finding with its statistics and method",
    "appendix-d": "Appendix D: provenance",
}


def at_a_glance(card: pd.DataFrame) -> HTML:
    """KPI tiles: met, amber, red, not measurable, with the change since last cycle."""
    return HTML(cards.tiles(status_counts(card), STATUSES))


def read_sections(
    ctx: StepContext, findings: list[Finding], card: pd.DataFrame, plan: pd.DataFrame
) -> list[IssueSection]:
    """The issues the report tells (step 5's ``analyse/issues``; none for a run made
    before issues existed)."""
    if not ctx.has(catalogue.ISSUES, suffix=".json"):
        return []
    entries = register_entries(ctx)
    return issue_sections(ctx.read_json(catalogue.ISSUES), findings, plan, card, entries=entries)


def top_issues(sections: list[IssueSection], card: pd.DataFrame, *, limit: int = 3) -> Markdown:
    """The top issues, each in one sentence with the money at stake and its action."""
    if not sections:
        return Markdown("No issue calls for attention this cycle: every KPI on target or "
                        "no finding reached significance.")  # fmt: skip
    names = kpi_names(card)
    lines = []
    for s in sections[:limit]:
        line = f"{s.number}. **{escape_markdown(_sentence(s.headline))}**"
        if s.money:
            amount = formatting.money(s.money["amount"], s.money["currency"])
            kpi = names.get(s.money["kpi_id"], s.money["kpi_id"])
            line += f" **{amount} at stake** this cycle ({escape_markdown(kpi)})."
        line += f" {_action_words(s)}"
        lines.append(line)
    more = len(sections) - limit
    tail = f"\n\n{more} more issue{'s' if more > 1 else ''} below." if more > 0 else ""
    return Markdown("\n".join(lines) + tail)


def _action_words(s: IssueSection) -> str:
    """What is done about the issue: the register's entry already on it, and the action
    this cycle proposes (after the entry, as a further step, when there are both)."""
    words = []
    if s.in_hand:
        status = str(s.in_hand.get("status", "open")).replace("_", " ")
        run = s.in_hand.get("created_run_id")
        if status == "proposed" and isinstance(run, str) and run:
            status = f"proposed in {run}, not started yet"
        words.append(
            f"*In hand:* {escape_markdown(s.in_hand['title'])} ({status}, in the CSI register)."
        )
    if s.action:
        who = f", {escape_markdown(s.action['owner'])}" if s.action.get("owner") else ""
        label = "Also proposed" if s.in_hand else "Proposed"
        words.append(
            f"*{label}:* {escape_markdown(s.action['title'])} (due {s.action['due']}{who})."
        )
    return " ".join(words) or "*No action proposed yet.*"


def _sentence(text: str) -> str:
    """A headline in plain words as a sentence: capital first, one full stop."""
    words = plain(text).rstrip(".")
    return words[:1].upper() + words[1:] + "."


def display_issues(sections: list[IssueSection], *, run_dir: Path, most: int = 6) -> None:
    """One section per issue: its headline, money and action, one chart and its
    findings in plain words (the ``most`` telling ones, the rest counted), each linked
    to its numbers in the appendix."""
    if not sections:
        display(Markdown("No issue this cycle."))
    for s in sections:
        text = [f"### {s.number}. {escape_markdown(s.title)}"]
        text.append(escape_markdown(_sentence(s.headline)))
        if s.money:
            amount = formatting.money(s.money["amount"], s.money["currency"])
            text.append(f"**Money at stake:** {amount} this cycle.")
        text.append(_action_words(s))
        display(Markdown("\n\n".join(text)))
        if s.chart is not None and (run_dir / str(s.chart.figure)).is_file():
            display(Image(filename=str(run_dir / str(s.chart.figure)), alt=figure_alt(s.chart)))
        display(Markdown("**What the data show**\n\n" + "\n".join(_evidence(s, most))))


def _evidence(s: IssueSection, most: int) -> list[str]:
    """The section's findings as bullets linked to the appendix, the rest counted."""
    told = telling(s, most=most)
    lines = [f"- {escape_markdown(_sentence(f.statement))} ([details](#{anchor(f)}))" for f in told]
    if len(s.findings) > len(told):
        rest = len(s.findings) - len(told)
        lines.append(
            f"- {rest} more finding{'s' if rest > 1 else ''} of this issue in "
            "[Appendix C.1](#appendix-findings)."
        )
    if s.unexplained:
        lines.append(f"- *Still unexplained:* {escape_markdown(s.unexplained)}.")
    return lines


#: Which findings tell an issue first: its mechanism, then its effects, then the rest.
TELLING_ORDER = (
    "capacity_threshold",
    "concentration",
    "event_impact",
    "error_budget",
    "target_gap",
    "change_point",
    "drivers",
    "trend",
    "capacity_forecast",
    "seasonal_peak",
    "event_episode",
    "anomaly",
)


def telling(section: IssueSection, *, most: int) -> list[Finding]:
    """The ``most`` findings that tell the issue best: the charted one first, then by
    :data:`TELLING_ORDER` (red target gaps before amber ones), in the issue's order."""
    rank = {kind: n for n, kind in enumerate(TELLING_ORDER)}

    def key(pair: tuple[int, Finding]) -> tuple[int, int, int, int]:
        n, f = pair
        charted = section.chart is not None and f.id == section.chart.id
        return (not charted, rank.get(f.kind, len(rank)), f.severity != "high", n)

    return [f for _, f in sorted(enumerate(section.findings), key=key)][:most]


def findings_appendix(sections: list[IssueSection]) -> HTML:
    """Every finding the issue sections cite, with its full statement, numbers and
    method, under the anchor its "details" link points to."""
    rows = []
    for s in sections:
        for f in s.findings:
            numbers = _numbers(f)
            method = METHODS.get(f.kind, "")
            rows.append(
                f'<li id="{anchor(f)}"><p>{_escape(f.statement)}</p>'
                f"<p><small>{_escape(numbers)}{' ' if numbers else ''}"
                f"{_escape(method)} <code>{_escape(f.method)}</code></small></p></li>"
            )
    if not rows:
        return HTML("<p>No finding is cited in this report.</p>")
    return HTML('<ol class="csi-findings">' + "".join(rows) + "</ol>")


def _numbers(f: Finding) -> str:
    parts = []
    if f.effect is not None:
        parts.append(f"effect {formatting.signed(f.effect)} {f.unit or ''}".rstrip())
    if f.ci_low is not None and f.ci_high is not None:
        parts.append(f"95 % CI {formatting.number(f.ci_low)} to {formatting.number(f.ci_high)}")
    if f.p_value is not None:
        parts.append(format_p(f.p_value))
    return "; ".join(parts) + ("." if parts else "")


def appendix_contents() -> Markdown:
    """The table of contents of the appendices, as links."""
    return Markdown("\n".join(f"- [{title}](#{key})" for key, title in APPENDICES.items()))


def anchor(f: Finding) -> str:
    """The id of a finding's entry in the appendix.

    Example:
        >>> from csi_helpers.analysis.findings import Finding
        >>> anchor(Finding(id="trend:daily requests", kind="trend", statement="s",
        ...                metric="m", method="m", severity="low"))
        'finding-trend-daily-requests'
    """
    return "finding-" + re.sub(r"[^a-z0-9]+", "-", f.id.lower()).strip("-")


def _escape(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)
