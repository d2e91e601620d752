"""What more than one step reads: the sources, step 4's tables, step 5's findings.

Steps share data only through the run folder; this module is where steps 2 and 3
make the sources ready, where steps 4, 5 and 7 find the canonical tables step 4
wrote (for a ticket event log, the tickets rebuilt from it), and where steps 6
and 7 read step 5's findings and make the cycle's action plan, so that no step
reaches into another step's module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from IPython.display import Markdown

from csi_helpers.analysis.findings import Finding
from csi_helpers.errors import DataError
from csi_helpers.kpis.base import KpiResult
from csi_helpers.params import Params, Source
from csi_helpers.params.models import Kpi
from csi_helpers.runfolder.context import StepContext
from csi_helpers.runfolder.parquet import read_lean
from csi_helpers.tables import catalogue
from csi_helpers.tables.schemas import check_read

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "action_plan",
    "engine_tables",
    "first_source",
    "kpi_table",
    "measure_entry",
    "pauses_table",
    "prepare_sources",
    "read_findings",
    "register_entries",
    "register_titles",
    "report_hint",
    "table_path",
    "ticket_table",
]


def prepare_sources(params: Params) -> None:
    """Make sure the sources can be read: generates the demo data when the params ask for it."""
    if params.demo is not None:
        from csi_helpers.demo import ensure_demo_data

        ensure_demo_data(params.demo.directory, seed=params.demo.seed)


def first_source(params: Params, kind: str) -> Source | None:
    """The first source of that kind; for tickets, a ticket event log counts too."""
    sources = params.sources_of_kind(kind)
    if kind == "tickets":
        sources += params.sources_of_kind("ticket_events")
    return sources[0] if sources else None


def _ref(source: Source, kind: str) -> str:
    """The canonical table a KPI of ``kind`` reads from ``source``."""
    if kind == "tickets" and source.kind == "ticket_events":
        return catalogue.rebuilt_tickets(source.name)
    return catalogue.canonical_table(source.name)


def table_path(ctx: StepContext, kind: str) -> Path | None:
    """The canonical table of the first source of that kind, if any (logged as an input).

    Tickets rebuilt from an event log count as a tickets table.
    """
    path = _canonical_path(ctx, kind)
    return None if path is None else ctx.log_input(path)


def _canonical_path(ctx: StepContext, kind: str) -> Path | None:
    source = first_source(ctx.params, kind)
    return None if source is None else ctx.ref_path(_ref(source, kind), suffix=".parquet")


def ticket_table(ctx: StepContext) -> pd.DataFrame | None:
    """The tickets of the first ticket export or event log, if the params have one."""
    source = first_source(ctx.params, "tickets")
    return kpi_table(ctx, source.name, "tickets") if source else None


def kpi_table(
    ctx: StepContext, source_name: str, kind: str, *, columns: list[str] | None = None
) -> pd.DataFrame:
    """The table a KPI of ``kind`` reads from a source: tickets rebuilt from an event log.

    Read a column at a time (:func:`csi_helpers.runfolder.parquet.read_lean`): a
    monitoring table of 10M rows then needs about its own size in memory, not twice
    that. ``columns`` reads only those (all by default). The columns and their types
    are checked against the canonical schema (:func:`csi_helpers.tables.schemas.check_read`).
    """
    source = ctx.params.source(source_name)
    ref = _ref(source, kind)
    path = ctx.ref_path(ref, suffix=".parquet")
    if not path.exists():
        return ctx.read_table(ref)  # its error names the step
    table = read_lean(ctx.log_input(path), columns=columns)
    table_kind = "tickets" if kind == "tickets" else source.kind
    return check_read(table_kind, table, where=path)


def measure_entry(
    ctx: StepContext,
    entry: Kpi,
    table: pd.DataFrame,
    *,
    start: pd.Timestamp,
    end: pd.Timestamp,
    pauses: pd.DataFrame | None = None,
) -> KpiResult:
    """A KPI entry of the params over ``[start, end)``, as its entry defines it.

    Its scope, options, service calendar and (with ``pause_clock``) the pauses:
    step 4 measures the cycle with it and step 5 the weeks.
    """
    from csi_helpers.kpis import get_definition
    from csi_helpers.processing.scope import apply_scope

    reserved = {"calendar": ctx.params.calendar(entry.calendar)}
    if entry.pause_clock and pauses is not None:
        reserved["pauses"] = pauses
    return get_definition(entry.kpi)(
        apply_scope(table, entry.scope), start=start, end=end, options=entry.options, **reserved
    )


def pauses_table(ctx: StepContext) -> pd.DataFrame | None:
    """The pause intervals step 4 rebuilt from the first ticket event log, if any."""
    events = ctx.params.sources_of_kind("ticket_events")
    if not events or not ctx.has(catalogue.pauses(events[0].name)):
        return None
    return ctx.read_table(catalogue.pauses(events[0].name))


def engine_tables(ctx: StepContext, *kinds: str) -> dict[str, ir.Table | None]:
    """The canonical tables of those kinds as tables of the configured engine (params'
    ``engine``: DuckDB here, or Spark), for :mod:`csi_helpers.processing.series`.

    A kind no source has maps to None.

    Raises:
        DataError: a table step 4 should have written is missing.
    """
    from csi_helpers.processing import engines

    con = engines.connect(ctx.params.engine)
    tables: dict[str, ir.Table | None] = {}
    for kind in kinds:
        path = _canonical_path(ctx, kind)
        if path is not None and not path.exists():
            raise DataError(f"{path}: Parquet table not found; run step 4 to write it")
        tables[kind] = None if path is None else con.read_parquet(str(ctx.log_input(path)))
    return tables


def read_findings(ctx: StepContext) -> tuple[pd.DataFrame, list[Finding]]:
    """Step 5's scorecard and its ranked findings."""
    card = ctx.read_table(catalogue.SCORECARD)
    findings = [Finding.from_dict(d) for d in ctx.read_json(catalogue.FINDINGS)]
    return card, findings


def action_plan(ctx: StepContext, findings: list[Finding], card: pd.DataFrame) -> pd.DataFrame:
    """The cycle's action plan (:func:`csi_helpers.actions.plan.plan_actions`): one action per
    issue of step 5, at most ``actions.max``, none already open or verified in the register.

    Step 6 shows it, step 7 puts it into the CSI register, so the report and the register
    never disagree. A run made before issues existed groups its findings here.
    """
    from csi_helpers.actions.plan import plan_actions
    from csi_helpers.analysis.synthesis import build_issues

    if ctx.has(catalogue.ISSUES, suffix=".json"):
        issues = ctx.read_json(catalogue.ISSUES)
    else:
        issues = [i.to_dict() for i in build_issues(findings, card)]
    cycle = ctx.params.cycle
    return plan_actions(
        findings,
        issues,
        card,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        cycle_id=cycle.id,
        limit=ctx.params.actions.max,
        taken=register_titles(ctx),
    )


def register_titles(ctx: StepContext) -> set[str]:
    """Titles of the register's entries open or verified (closed successfully) that other
    runs added: the plan does not propose them again. Read only; none without a register."""
    return set(register_entries(ctx)["title"].astype(str))


def register_entries(ctx: StepContext) -> pd.DataFrame:
    """The register's entries open or verified (closed successfully) that other runs
    added (``title``, ``kpi_id``, ``status`` and the rest), read only; none without a
    register or when it cannot be read (with a warning)."""
    from csi_helpers.errors import RegisterError
    from csi_helpers.register import OPEN, open_register, register_url

    none = pd.DataFrame(columns=["title", "kpi_id", "status"])
    url = register_url(ctx.params)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return none
    try:
        with open_register(url) as register:
            entries = register.entries()
    except RegisterError as exc:  # unreachable: the plan is made without it, and says so
        ctx.warn(f"the register could not be read, so open actions may be proposed again: {exc}")
        return none
    alive = entries["status"].isin([*OPEN, "closed_successful"])
    other = entries["created_run_id"] != ctx.run_dir.name
    return entries.loc[alive & other]


def report_hint(ctx: StepContext) -> Markdown | None:
    """After a re-run of step 6 or 7 outside ``csi run`` (JupyterLab, papermill): how to
    bring its HTML report up to date. Nothing in a chain run, which exports it itself.
    The notebook's cell is tagged ``remove-cell``: the hint never reaches a report."""
    if ctx.ran_by == "csi":
        return None
    run = ctx.run_dir
    return Markdown(
        f"This step ran in {'JupyterLab' if ctx.ran_by == 'lab' else ctx.ran_by}. To update its "
        f"HTML report: `csi report {run.name} --html --runs-dir {run.parent}`; to re-run the "
        f"steps after it that are now stale: `csi run {ctx.params_path} --run-id {run.name} "
        "--resume` (`csi status` shows which)."
    )
