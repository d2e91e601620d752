"""Step 5's money at stake on a tiny run: each red KPI with a money model, priced by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csi_helpers.runfolder.context import begin_step
from csi_helpers.steps import analyse
from csi_helpers.steps.gather import snapshot_sources
from csi_helpers.steps.measurement import measurement_plan, source_headers
from csi_helpers.steps.process import build_tables, kpi_values
from csi_helpers.steps.strategy import kpi_tree

# Friday 9 January 2026, 18:30-19:30 UTC is 19:30-20:30 in Amsterdam; Saturday 02:00-02:20
# UTC is 03:00-03:20 there. 80 minutes of a 7-day cycle (10,080 min).
OUTAGES = """\
outage_id,start,end
O1,2026-01-09T18:30:00Z,2026-01-09T19:30:00Z
O2,2026-01-10T02:00:00Z,2026-01-10T02:20:00Z
"""
# Three tickets with an SLA flag, one met: 33.3 % compliance, 2 breaches.
TICKETS = """\
number,opened_at,resolved_at,priority,made_sla
INC1,2026-01-05T09:00:00Z,2026-01-05T10:00:00Z,3 - Moderate,true
INC2,2026-01-06T09:00:00Z,2026-01-08T10:00:00Z,3 - Moderate,false
INC3,2026-01-07T09:00:00Z,2026-01-09T10:00:00Z,3 - Moderate,false
INC4,2026-01-08T09:00:00Z,2026-01-08T10:00:00Z,3 - Moderate,
"""
PARAMS = """\
service: {id: shop, name: Shop, timezone: Europe/Amsterdam}
cycle: {id: w2, start: 2026-01-05, end: 2026-01-11}
sources:
  - {name: outages, kind: downtime, path: outages.csv}
  - {name: incidents, kind: tickets, path: incidents.csv, columns: {ticket_id: number}}
strategy:
  objectives:
    - id: o
      statement: open
      csfs:
        - id: c
          statement: open
          kpis:
            - {id: downtime, kpi: downtime_minutes, target: 60, amber: 70, direction: lower}
            - {id: availability, kpi: availability, target: 99.9, amber: 99.5,
               direction: higher}
            - {id: sla, kpi: sla_compliance, target: 90, amber: 80, direction: higher}
            - {id: mttr, kpi: mean_time_to_resolve, target: 1, direction: lower}
"""
# €600 an hour (€10/min), but €6,000 (€100/min) on Friday 19:00 and €12,000 (€200/min) at
# 20:00, Amsterdam time; €250 per SLA breach.
FRIDAY = ["600"] * 19 + ["6000", "12000"] + ["600"] * 3
BUSINESS = (
    "business:\n  currency: EUR\n  sla_penalty_per_breach: 250\n  revenue_profile:\n"
    + "".join(f"    {d}: [{', '.join(['600'] * 24)}]\n" for d in ("mon", "tue", "wed", "thu"))
    + f"    fri: [{', '.join(FRIDAY)}]\n"
    + "".join(f"    {d}: [{', '.join(['600'] * 24)}]\n" for d in ("sat", "sun"))
)


def run_to_step_5(folder: Path, params: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Steps 1-4 on the tiny sources, then step 5: scorecard, money at stake, the table written."""
    (folder / "outages.csv").write_text(OUTAGES)
    (folder / "incidents.csv").write_text(TICKETS)
    path = folder / "p.yaml"
    path.write_text(params)
    run = folder / "run"
    kpi_tree(begin_step(1, run_dir=run, params_path=path))
    plan = measurement_plan(
        ctx := begin_step(2, run_dir=run, params_path=path), source_headers(ctx.params)
    )
    snapshot_sources(begin_step(3, run_dir=run, params_path=path))
    ctx = begin_step(4, run_dir=run, params_path=path)
    kpi_values(ctx, plan, build_tables(ctx))
    ctx = begin_step(5, run_dir=run, params_path=path)
    card = analyse.scorecard(ctx, None)
    impact = analyse.business_impact(ctx, card)
    return card.set_index("kpi_id"), impact, pd.read_parquet(run / "analyse" / "impact.parquet")


def test_each_red_kpi_with_a_money_model_is_priced(tmp_path):
    card, impact, written = run_to_step_5(tmp_path, PARAMS + BUSINESS)
    assert card.loc[["downtime", "availability", "sla", "mttr"], "status"].tolist() == ["red"] * 4
    assert card.loc["downtime", "actual"] == pytest.approx(80.0)
    priced = impact.set_index("kpi_id")
    assert sorted(priced.index) == ["availability", "downtime", "sla"]  # MTTR has no money model
    # 30 min × €100 + 30 min × €200 + 20 min × €10, at the Amsterdam hours.
    for kpi_id in ("downtime", "availability"):
        assert priced.loc[kpi_id, "amount"] == pytest.approx(9_200)
        assert priced.loc[kpi_id, "formula"] == (
            "80.0 min of downtime × €115/min on average at the hours they fell in = €9,200"
        )
    assert priced.loc["sla", "amount"] == pytest.approx(500)  # 2 breaches × €250
    assert priced.loc["sla", "formula"] == "2 breaches × €250 per breach = €500"
    assert impact["kpi_id"].iloc[-1] == "sla"  # largest amount first
    assert set(impact["currency"]) == {"EUR"}
    pd.testing.assert_frame_equal(written, impact)


def test_without_a_business_section_the_table_is_empty(tmp_path):
    card, impact, written = run_to_step_5(tmp_path, PARAMS)
    assert (card["status"] == "red").sum() == 4
    assert impact.empty and written.empty
    assert "amount" in written.columns


def test_a_penalty_alone_prices_breaches_but_not_downtime(tmp_path):
    business = "business: {currency: EUR, sla_penalty_per_breach: 100}\n"
    _, impact, _ = run_to_step_5(tmp_path, PARAMS + business)
    assert impact["kpi_id"].tolist() == ["sla"] and impact["amount"].tolist() == [200.0]
