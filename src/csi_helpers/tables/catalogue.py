"""The artefacts that pass between steps: one name each, ``<step key>/<name>``.

Steps share data only through the run folder (:mod:`csi_helpers.runfolder`); this
is the list of what is there. A step writes under its own key and reads the
others' by these names (``ctx.read_table(catalogue.KPI_VALUES)``); the suffix
(``.parquet`` for tables, ``.json`` for records) is the context's business.
"""

from __future__ import annotations

__all__ = [
    "ACTIONS",
    "COVERAGE",
    "DAILY",
    "FINDINGS",
    "FINDINGS_TABLE",
    "HOURLY",
    "IMPACT",
    "ISSUES",
    "KPI_TREE",
    "KPI_VALUES",
    "LEDGER",
    "MEASUREMENT_PLAN",
    "PROVENANCE",
    "REGISTER_SYNC",
    "REVIEW",
    "SCORECARD",
    "SUMMARY",
    "TICKETS_DAILY_BY_GROUP",
    "TICKETS_WEEKLY_BY_PRIORITY",
    "WEEKDAY_HOUR",
    "canonical_table",
    "pauses",
    "quarantine",
    "raw_snapshot",
    "rebuilt_tickets",
]

# step 1, strategy
KPI_TREE = "strategy/kpi_tree"  # objective → CSF → KPI, one row per KPI entry
# step 2, measurement
MEASUREMENT_PLAN = "measurement/plan"  # per KPI entry: measurable, from which fields
# step 3, gather
PROVENANCE = "gather/provenance"  # per source: where from, when, sha256, rows
# step 4, process
LEDGER = "process/ledger"  # rows in, out and quarantined per source and reason
KPI_VALUES = "process/kpi_values"  # each measurable KPI entry over the cycle
COVERAGE = "process/coverage"  # per source: records in the cycle, the span they cover
DAILY = "process/daily"  # daily series (local days)
HOURLY = "process/hourly"  # hourly series (UTC hours)
WEEKDAY_HOUR = "process/weekday_hour"  # load profile by weekday and hour
TICKETS_WEEKLY_BY_PRIORITY = "process/tickets_weekly_by_priority"
TICKETS_DAILY_BY_GROUP = "process/tickets_daily_by_group"
# step 5, analyse
SCORECARD = "analyse/scorecard"  # KPI against target and the previous cycle
FINDINGS = "analyse/findings"  # the ranked findings, as JSON records
FINDINGS_TABLE = "analyse/findings_table"  # the same, as a table
IMPACT = "analyse/impact"  # money at stake on each red KPI (params' business section)
ISSUES = "analyse/issues"  # the findings grouped into issues, as JSON records
# step 6, present
SUMMARY = "present/summary"  # the executive summary's sentences
# step 7, implement
ACTIONS = "implement/actions"  # the action plan
REGISTER_SYNC = "implement/register_sync"  # what the plan did to the CSI register
REVIEW = "implement/review"  # verification of the register entries due for review


def raw_snapshot(source: str) -> str:
    """Step 3's unmodified snapshot of a source (values as text)."""
    return f"gather/raw/{source}"


def canonical_table(source: str) -> str:
    """Step 4's typed canonical table of a source."""
    return f"process/tables/{source}"


def quarantine(source: str) -> str:
    """The rows of a source step 4 set aside, each with its reason."""
    return f"process/quarantine/{source}"


def rebuilt_tickets(source: str) -> str:
    """One row per ticket, rebuilt by step 4 from a ticket event log."""
    return f"process/tickets/{source}"


def pauses(source: str) -> str:
    """The pause intervals of the tickets of a ticket event log."""
    return f"process/pauses/{source}"
