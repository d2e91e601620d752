"""Step 6 (present): the management report's findings and its provenance.

The notebook ``06_present_findings.ipynb`` shows, in order: a warning when a source
covers less than half of the cycle (:func:`coverage_warnings`), the KPI tiles and the
top issues with their money and actions (:mod:`csi_helpers.steps.story`), the
scorecard (:func:`csi_helpers.report.tables.styled_scorecard`), one section per issue
with its chart and findings (:mod:`csi_helpers.steps.story`), the recommended actions
(:func:`action_table`), the measurement gaps, data quality, methodology (with
:func:`money_at_stake` and each cited finding's statistics) and provenance
(:func:`provenance`). The executive summary's sentences
(:func:`csi_helpers.analysis.summary.executive_summary`) are written to the run folder
for other tools.
nbconvert turns the executed notebook into the HTML report (:mod:`csi_helpers.report.html`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from IPython.display import Image, Markdown, display
from pandas.io.formats.style import Styler

from csi_helpers.actions import RECOMMENDATION_COLUMNS
from csi_helpers.analysis import summary
from csi_helpers.analysis.findings import Finding
from csi_helpers.analysis.summary import figure_alt, key_findings
from csi_helpers.params import Analysis
from csi_helpers.report import formatting
from csi_helpers.report.tables import escape_markdown, table
from csi_helpers.runfolder.context import StepContext
from csi_helpers.runfolder.parquet import read_frame
from csi_helpers.steps.common import action_plan, read_findings
from csi_helpers.tables import catalogue

__all__ = [
    "action_plan",
    "action_table",
    "analysis_settings",
    "coverage_warnings",
    "data_quality",
    "display_findings",
    "executive_summary",
    "kpi_definitions",
    "kpi_history",
    "measurement_gaps",
    "money_at_stake",
    "provenance",
    "read_findings",
]


def coverage_warnings(ctx: StepContext) -> Markdown:
    """The report's opening warning: each source that covers less than half of the cycle.

    Empty when every source covers at least half (step 4's ``process/coverage``).
    """
    from csi_helpers.processing.coverage import coverage_warnings as warnings_of

    start, end = ctx.params.cycle_window()
    found = warnings_of(
        ctx.read_table(catalogue.COVERAGE),
        start=start,
        end=end,
        timezone=ctx.params.service.timezone,
    )
    if not found:
        return Markdown("")
    lines = "\n".join(f"> - {escape_markdown(w)}" for w in found)
    return Markdown(f"> **Warning: part of this cycle has no data.**\n>\n{lines}")


def executive_summary(
    ctx: StepContext, card: pd.DataFrame, findings: list[Finding], plan: pd.DataFrame
) -> list[str]:
    """The report's opening sentences (:func:`csi_helpers.analysis.summary.executive_summary`),
    with the money at stake on red KPIs when step 5 priced any; written for the record."""
    impacts = _impacts(ctx)
    sentences = summary.executive_summary(card, findings, actions=plan, impacts=impacts)
    ctx.write_json(catalogue.SUMMARY, sentences)
    return sentences


def _impacts(ctx: StepContext) -> pd.DataFrame | None:
    """Step 5's money at stake (None: a run made before step 5 priced anything)."""
    return ctx.read_table(catalogue.IMPACT) if ctx.has(catalogue.IMPACT) else None


def money_at_stake(ctx: StepContext) -> Markdown:
    """How the money at stake on each red KPI was reached, for the methodology appendix
    (:func:`csi_helpers.analysis.summary.money_formulas`); empty when nothing was priced."""
    impacts = _impacts(ctx)
    if impacts is None or impacts.empty:
        return Markdown("")
    lines = summary.money_formulas(impacts, timezone=ctx.params.service.timezone)
    listed = "\n".join(f"- {escape_markdown(line)}" for line in lines)
    return Markdown(
        "**Money at stake.** Each red KPI with a money model, priced with the business "
        f"figures of the params:\n\n{listed}"
    )


def display_findings(findings: list[Finding], *, run_dir: Path, limit: int = 8) -> None:
    """Show the key findings (:func:`key_findings`): statement, numbers, method, figure."""
    shown = key_findings(findings, limit=limit)
    if not shown:
        display(Markdown("No finding reached significance in this cycle."))
    for i, f in enumerate(shown, start=1):
        numbers = []
        if f.effect is not None:
            numbers.append(f"effect {formatting.signed(f.effect)} {f.unit}".rstrip())
        if f.ci_low is not None and f.ci_high is not None:
            low, high = formatting.number(f.ci_low), formatting.number(f.ci_high)
            numbers.append(f"95 % CI {low} to {high}")
        if f.p_value is not None:
            numbers.append(f"p = {f.p_value:.2g}" if f.p_value >= 1e-4 else "p < 0.0001")
        display(
            Markdown(
                f"### {i}. {escape_markdown(f.statement)}\n\n"
                f"*Severity {f.severity}; {'; '.join(numbers) or 'no test statistic'}; "
                f"method: {escape_markdown(f.method)}.*"
            )
        )
        if f.figure and (run_dir / f.figure).is_file():
            display(Image(filename=str(run_dir / f.figure), alt=figure_alt(f)))


def provenance(run_dir: Path, params_path: Path) -> pd.DataFrame:
    """Run id, params file and its hash, the workbook and the package versions used.

    Read from the run's manifest, recorded when the run started, so the report
    names what produced it rather than what is installed when it is read; a run
    folder without a manifest (a notebook opened on its own) shows this session's.
    """
    from csi_helpers.runfolder.hashing import sha256_file
    from csi_helpers.runfolder.manifest import environment_info, has_manifest, read_manifest

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


def kpi_history(ctx: StepContext, card: pd.DataFrame, *, cycles: int = 6) -> dict[str, list[float]]:
    """Each KPI's value over the last ``cycles`` cycles, oldest first, this one last.

    Follows the chain of previous runs (each run's params name its ``previous_run``)
    through the run folders beside this one, reading each one's scorecard; it stops
    at a run that is missing, has no scorecard, or whose params file is gone.
    """
    from csi_helpers.errors import CsiError
    from csi_helpers.params import load_params
    from csi_helpers.runfolder.manifest import has_manifest, read_manifest

    actual = pd.to_numeric(card["actual"], errors="coerce")  # a column of None: all NaN
    values = {str(k): [float(v)] for k, v in zip(card["kpi_id"], actual, strict=True)}
    run_id = ctx.params.previous_run_id
    for _ in range(cycles - 1):
        folder = ctx.run_dir.parent / str(run_id) if run_id else None
        scorecard = folder / f"{catalogue.SCORECARD}.parquet" if folder else None
        if scorecard is None or not scorecard.is_file() or not has_manifest(folder):
            break
        earlier = pd.to_numeric(
            read_frame(scorecard).set_index("kpi_id")["actual"], errors="coerce"
        )
        for kpi, series in values.items():
            series.insert(0, float(earlier.get(kpi, float("nan"))))
        try:
            run_id = load_params(read_manifest(folder)["params"]["path"]).previous_run_id
        except (CsiError, KeyError, OSError):  # its params gone or broken: history ends there
            break
    return values


def action_table(plan: pd.DataFrame, card: pd.DataFrame | None = None) -> Styler | Markdown:
    """The action plan as the report shows it: action, KPI (by its name on the
    scorecard), expected effect, owner, due."""
    shown = plan[list(RECOMMENDATION_COLUMNS)].copy()
    if card is not None and {"kpi", "kpi_name"} <= set(card.columns):
        names = dict(zip(card["kpi"].astype(str), card["kpi_name"].astype(str), strict=True))
        names |= dict(zip(card["kpi_id"].astype(str), card["kpi_name"].astype(str), strict=True))
        shown["kpi"] = shown["kpi"].map(lambda k: names.get(str(k), formatting.label(str(k))))
    shown = shown.rename(columns=RECOMMENDATION_COLUMNS)
    return table(shown, empty="No action is proposed: no finding of this cycle calls for one.")


def data_quality(ctx: StepContext) -> Styler | Markdown:
    """Step 4's ledger for the appendix: rows read and kept per source, and per reason the
    rows set aside with an example (the source's kind left out: its name says it)."""
    ledger = ctx.read_table(catalogue.LEDGER)
    return table(ledger.drop(columns=["kind"], errors="ignore"), empty="No source was read.")


def measurement_gaps(ctx: StepContext) -> Styler | Markdown:
    """The KPI entries the sources cannot measure (fully), with what would close the gap."""
    plan = ctx.read_table(catalogue.MEASUREMENT_PLAN)
    columns = ["kpi_id", "measurable", "fields_missing", "to_close_gap"]
    return table(
        plan.loc[plan["measurable"] != "yes", columns],
        empty="Every KPI can be measured with the configured sources.",
    )


def kpi_definitions(card: pd.DataFrame) -> pd.DataFrame:
    """How each KPI on the scorecard is computed, for the methodology appendix.

    One row per library KPI the scorecard uses: its entries, its formula (as
    ``csi kpis ID`` prints it) and, when the formula was revised, how.
    """
    from csi_helpers.kpis import get_definition

    rows = []
    for kpi, entries in card.groupby("kpi", sort=False)["kpi_id"]:
        d = get_definition(kpi)
        formula = " ".join([d.formula, d.revision_note]).strip().replace("``", "")
        rows.append(
            {"KPI": ", ".join(entries), "library KPI": f"{d.id} ({d.name})", "how": formula}
        )
    return pd.DataFrame(rows, columns=["KPI", "library KPI", "how"])


def analysis_settings(a: Analysis) -> list[str]:
    """The analysis settings of the cycle, in words, for the methodology appendix."""
    return [
        f"significance level {a.alpha}; {a.permutations:,} permutations; "
        f"{a.bootstrap:,} bootstrap resamples; random seed {a.seed}",
        f"event impact: {a.baseline_weeks} matched weeks either side; changes watched for "
        f"{a.change_window_hours} h after they end",
        f"capacity forecast: {a.forecast_days} days ahead; utilisation limit "
        f"{a.capacity_limit:.0%} when no knee is found",
    ]
