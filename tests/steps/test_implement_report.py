"""Step 7's report: the verdicts in words, the plan for people, the register as a board."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from csi_helpers.register import STATUSES
from csi_helpers.report.tables import table
from csi_helpers.steps import implement

SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")
CYCLE_END = date(2026, 9, 30)

CARD = pd.DataFrame(
    {
        "kpi_id": ["downtime", "sla", "p1-sla", "csat"],
        "kpi": ["downtime_minutes", "sla_compliance", "sla_compliance", "csat_mean"],
        "kpi_name": ["Downtime", "SLA compliance", "P1 and P2 within 4 h", "Customer satisfaction"],
        "unit": ["min", "%", "%", "score"],
    }
)


EXPECTED = (
    "the group's breach rate down to the rest's; estimate: at the rest's rate (17.4 %) it "
    "would have had 19 fewer breaches"
)


def plan_of(n: int) -> pd.DataFrame:
    """A plan of ``n`` actions as step 5's rules write it (snake_case columns, library KPIs)."""
    return pd.DataFrame(
        {
            "action_id": [f"q3-a{i}" for i in range(1, n + 1)],
            "title": [f"Action {i}" for i in range(1, n + 1)],
            "finding_id": "f",
            "metric": ["breached"] * n,
            "kpi": ["sla_compliance"] * n,
            "expected": EXPECTED,
            "owner": "IT Operations Manager",
            "due": "2026-10-30",
            "status": "proposed",
            "expected_change": None,
            "issue_id": [f"issue:{i}" for i in range(1, n + 1)],
        }
    )


ISSUES = [{"id": f"issue:{i}", "headline": f"Headline of issue {i}"} for i in range(1, 8)]


def test_the_plan_shows_at_most_five_actions_under_headers_in_words():
    shown = implement.plan_frame(plan_of(7), ISSUES, CARD, limit=implement.PLAN_LIMIT)
    assert len(shown) == 5 and shown["#"].tolist() == [1, 2, 3, 4, 5]
    assert list(shown.columns) == ["#", "What", "Why", "Expected effect", "KPI", "Owner", "Due"]
    assert not any(SNAKE_CASE.search(c) for c in shown.columns)
    html = table(shown).to_html()
    headers = re.findall(r"<th [^>]*col_heading[^>]*>(.*?)</th>", html)
    assert headers == list(shown.columns)


def test_the_plan_says_why_splits_off_the_estimate_and_names_the_kpi():
    row = implement.plan_frame(plan_of(1), ISSUES, CARD).iloc[0]
    assert row["Why"] == "Headline of issue 1"
    assert row["Expected effect"] == (
        "The group's breach rate down to the rest's.\n"
        "Estimate: at the rest's rate (17.4 %) it would have had 19 fewer breaches."
    )
    assert row["KPI"] == "SLA compliance"  # the first entry of the library KPI, as the register
    assert "q3-a1" not in row.to_string() and "issue:1" not in row.to_string()  # no ids


def test_the_plan_table_wraps_the_estimate_onto_its_own_line():
    class Ctx:  # the step's context: no issues file
        def has(self, *args, **kwargs):
            return False

    html = implement.plan_table(Ctx(), plan_of(2), CARD).to_html()
    assert "white-space: pre-line" in html and "Headline" not in html  # without issues: a dash


def register(*rows: tuple[str, str, date]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"id": i, "title": t, "status": s, "due": d, "owner": "Ops", "kpi_id": "downtime"}
            for i, (t, s, d) in enumerate(rows, start=1)
        ]
    )


ENTRIES = register(
    ("a proposed, due after the cycle", "proposed", date(2026, 10, 30)),
    ("b in progress, 62 days late", "in_progress", date(2026, 7, 30)),
    ("c proposed, 92 days late", "proposed", date(2026, 6, 30)),
    ("d monitoring, due long ago", "monitoring", date(2026, 5, 1)),
    ("e closed successfully", "closed_successful", date(2026, 5, 1)),
    ("f approved, due on the last day", "approved", CYCLE_END),
    ("g withdrawn", "withdrawn", date(2026, 1, 1)),
)


def test_the_board_counts_every_entry_once_by_status_and_the_overdue_ones():
    board = implement.status_counts(ENTRIES, on=CYCLE_END).set_index("status")
    assert list(board.index) == [implement.STATUS_LABELS[s] for s in STATUSES]
    assert board["entries"].sum() == len(ENTRIES)
    for status, n in ENTRIES["status"].value_counts().items():
        assert board.loc[implement.STATUS_LABELS[status], "entries"] == n
    assert board.loc["proposed", "overdue"] == 1 and board.loc["in progress", "overdue"] == 1
    assert board.loc["approved", "overdue"] == 0  # due today is not overdue
    assert board["overdue"].isna().sum() == 4  # carried out, closed or withdrawn: never overdue


def test_open_entries_come_overdue_first_most_days_first():
    rows = implement.overdue_first(ENTRIES, on=CYCLE_END)
    assert rows["title"].str[0].tolist() == ["c", "b", "d", "f", "a"]  # open only
    assert rows["days_overdue"].tolist() == [92, 62, 0, 0, 0]


def test_a_review_in_words_gives_the_numbers_the_interval_and_the_target():
    row = {"before": 483.7, "after": 241.8, "change_pct": -50.43, "ci_low_pct": -74.6,
           "ci_high_pct": -3.26, "target": 60.0, "target_met": False, "verdict": "worked",
           "reason": "a real improvement, consistent with the promised -50 %"}  # fmt: skip
    text = implement.review_sentence(row, name="Downtime", unit="min")
    assert text.startswith("Downtime 484 min → 242 min, -50.4 % (95 % CI -74.6 % to -3.3 %)")
    assert "consistent with the promised -50 %" in text and "target of 60 min" in text
    unmeasured = row | {"change_pct": None, "evidence": "baseline run q2 has no hourly series"}
    assert "not measured, baseline run q2 has no hourly series" in implement.review_sentence(
        unmeasured, name="Downtime", unit="min"
    )


def test_actions_never_carried_out_are_one_sentence():
    rows = pd.DataFrame(
        {"title": ["Rebalance Web Platform"], "owner": ["IT Ops"], "status": ["approved"]}
    )
    assert implement.not_reviewed_sentence(rows) == (
        "Not reviewed: 1 action due for review was never reported as carried out (still "
        'approved): "Rebalance Web Platform" (IT Ops). The next cycle reviews each once its '
        "owner records it as in progress."
    )


def test_the_appendix_keeps_the_ids_and_gives_baseline_and_target_in_the_kpis_unit():
    entries = register(("Stagger campaigns", "in_progress", date(2026, 7, 30))).assign(
        id="shopfront-2026q2-a1", base_value=483.7, target_value=60.0,
        review_date=date(2026, 9, 30),
    )  # fmt: skip
    html = implement.register_appendix(entries, CARD).to_html()
    assert "shopfront-2026q2-a1" in html and "Downtime: 484 min → 60 min" in html
    assert "in progress" in html and "2026-09-30" in html
