"""What step 7's report shows, top to bottom: the plan as a decision.

1. Did last cycle's actions work? Per reviewed action its verdict, the KPI before and
   after with the change's interval in words, and its before/after chart
   (:func:`show_review`); the actions never carried out in one sentence.
2. This cycle's plan, ranked: what, why (the issue's headline), the expected effect
   and its estimate, the KPI in words, owner and due date (:func:`plan_table`).
3. The register as a board: entries per status, open entries with the overdue ones
   first (:func:`register_board`).
4. Appendix: the whole register (:func:`register_appendix`).

Every number goes through :mod:`csi_helpers.report.formatting`; the frames behind the
tables (:func:`plan_frame`, :func:`status_counts`, :func:`overdue_first`) are pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from html import escape
from typing import Any

import pandas as pd
from IPython.display import HTML, Image, Markdown, display
from pandas.io.formats.style import Styler

from csi_helpers.register import STATUSES
from csi_helpers.report.formatting import count, label, percent, quantity
from csi_helpers.report.style import RAG_COLOURS
from csi_helpers.report.tables import escape_markdown, table
from csi_helpers.runfolder.context import StepContext
from csi_helpers.tables import catalogue

__all__ = [
    "OVERDUE_STATUSES",
    "PLAN_LIMIT",
    "STATUS_LABELS",
    "not_reviewed_sentence",
    "overdue_first",
    "plan_frame",
    "plan_table",
    "register_appendix",
    "register_board",
    "review_sentence",
    "show_review",
    "status_counts",
]

#: Most actions the plan shows; the rest stay in the register.
PLAN_LIMIT = 5
#: Register statuses in words, in the order of the lifecycle.
STATUS_LABELS = {
    "proposed": "proposed",
    "approved": "approved",
    "in_progress": "in progress",
    "monitoring": "monitoring",
    "closed_successful": "closed: worked",
    "closed_unsuccessful": "closed: did not work",
    "withdrawn": "withdrawn",
}
#: Statuses in which an entry past its due date is overdue (not yet carried out).
OVERDUE_STATUSES = ("proposed", "approved", "in_progress")
_VERDICT_COLOURS = {
    "worked": RAG_COLOURS["green"],
    "did not work": RAG_COLOURS["red"],
    "inconclusive": "#b26a00",
}


# 1. Did last cycle's actions work? ------------------------------------------------


def show_review(ctx: StepContext, review: pd.DataFrame, card: pd.DataFrame) -> None:
    """Show each reviewed action (title, verdict, numbers in words, chart), then one
    sentence naming the actions due for review that were never carried out."""
    if review.empty:
        display(Markdown("No action of an earlier cycle was due for review in this cycle."))
        return
    skipped = review["verdict"] == "not reviewed"
    if skipped.all():
        display(Markdown("None of the actions due for review in this cycle was carried out."))
    kpis = card.set_index("kpi_id")
    for row in review[~skipped].to_dict("records"):
        kpi = kpis.loc[row["kpi_id"]] if row["kpi_id"] in kpis.index else {}
        name, unit = str(kpi.get("kpi_name") or row["kpi_id"]), str(kpi.get("unit") or "")
        sentence = review_sentence(row, name=name, unit=unit)
        display(HTML(f"<h3>{escape(row['title'])}</h3>\n<p>{_badge(row)} {escape(sentence)}</p>"))
        figure = row.get("figure")
        if figure and (ctx.run_dir / figure).is_file():
            alt = f"Bar chart of {name} before and after the action. {sentence}"
            display(Image(filename=str(ctx.run_dir / figure), alt=alt))
    if skipped.any():
        display(Markdown(escape_markdown(not_reviewed_sentence(review[skipped]))))


def _badge(row: Mapping[str, Any]) -> str:
    """The verdict as a coloured label (grey: no verdict), in HTML: nbconvert's Markdown
    renderer moves the text of an inline ``<span>`` out of it."""
    verdict = row.get("verdict")
    verdict = verdict if isinstance(verdict, str) and verdict else "no verdict"
    colour = _VERDICT_COLOURS.get(verdict, RAG_COLOURS["grey"])
    return (
        f'<span style="background-color: {colour}; color: white; font-weight: bold">'
        f"&nbsp;{verdict.upper()}&nbsp;</span>"
    )


def review_sentence(row: Mapping[str, Any], *, name: str, unit: str) -> str:
    """A reviewed action's numbers in words: the KPI before and after, the change with
    its 95 % interval, why the verdict, and the target (plain text).

    Example:
        >>> review_sentence({"before": 483.7, "after": 241.8, "change_pct": -50.43,
        ...     "ci_low_pct": -74.6, "ci_high_pct": -3.26, "target": 60.0, "target_met": False,
        ...     "reason": "a real improvement, consistent with the promised -50 %"},
        ...     name="Downtime", unit="min")
        'Downtime 484 min → 242 min, -50.4 % (95 % CI -74.6 % to -3.3 %): a real improvement, consistent with the promised -50 %. Still short of its target of 60 min.'
    """  # noqa: E501
    value = {k: _number(row.get(k)) for k in ("before", "after", "change_pct", "target")}
    low, high = _number(row.get("ci_low_pct")), _number(row.get("ci_high_pct"))
    text = name
    if value["before"] is not None and value["after"] is not None:
        text += f" {quantity(value['before'], unit)} → {quantity(value['after'], unit)}"
    if value["change_pct"] is not None and low is not None and high is not None:
        text += (
            f", {percent(value['change_pct'], plus=True)} (95 % CI {percent(low, plus=True)} "
            f"to {percent(high, plus=True)}): {row.get('reason') or row.get('verdict')}."
        )
    else:
        text += f": not measured, {row.get('evidence') or 'no comparison was possible'}."
    met = row.get("target_met")
    if value["target"] is not None and met is not None and not pd.isna(met):
        goal = quantity(value["target"], unit)
        text += (
            f" It now meets its target of {goal}."
            if met
            else f" Still short of its target of {goal}."
        )
    return text


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def not_reviewed_sentence(rows: pd.DataFrame) -> str:
    """One sentence for the actions due for review that nobody reported carrying out.

    Example:
        >>> not_reviewed_sentence(pd.DataFrame({"title": ["Rebalance Web Platform",
        ...     "Follow up low survey scores"], "owner": ["IT Ops", None],
        ...     "status": ["proposed", "proposed"]}))
        'Not reviewed: 2 actions due for review were never reported as carried out (still proposed): "Rebalance Web Platform" (IT Ops) and "Follow up low survey scores". The next cycle reviews each once its owner records it as in progress.'
    """  # noqa: E501
    named = [
        f'"{r["title"]}"' + (f" ({r['owner']})" if isinstance(r.get("owner"), str) else "")
        for r in rows.to_dict("records")
    ]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + f" and {named[-1]}"
    statuses = " or ".join(dict.fromkeys(STATUS_LABELS.get(s, s) for s in rows["status"]))
    n = len(named)
    return (
        f"Not reviewed: {n} action{'s' if n != 1 else ''} due for review "
        f"{'were' if n != 1 else 'was'} never reported as carried out (still {statuses}): "
        f"{listed}. The next cycle reviews each once its owner records it as in progress."
    )


# 2. This cycle's plan -------------------------------------------------------------


def plan_frame(
    plan: pd.DataFrame, issues: list[Mapping[str, Any]], card: pd.DataFrame, *, limit: int = 5
) -> pd.DataFrame:
    """The ranked plan as a manager reads it: what, why, expected effect (its estimate a
    sentence of its own, on a new line), the KPI in words, owner and due date.

    Example:
        >>> plan = pd.DataFrame({"title": ["Stagger campaigns"], "issue_id": ["i1"],
        ...     "expected": ["halve downtime minutes; estimate: capacity ×1.43"],
        ...     "metric": ["downtime"], "kpi": ["downtime_minutes"], "owner": ["Ops"],
        ...     "due": ["2026-07-30"]})
        >>> card = pd.DataFrame({"kpi_id": ["downtime"], "kpi": ["downtime_minutes"],
        ...     "kpi_name": ["Downtime"]})
        >>> plan_frame(plan, [{"id": "i1", "headline": "Load passes the knee"}], card).iloc[0].to_dict()
        {'#': 1, 'What': 'Stagger campaigns', 'Why': 'Load passes the knee', 'Expected effect': 'Halve downtime minutes.\\nEstimate: capacity ×1.43.', 'KPI': 'Downtime', 'Owner': 'Ops', 'Due': '2026-07-30'}
    """  # noqa: E501
    headlines = {str(i["id"]): str(i["headline"]) for i in issues}
    rows = [
        {
            "#": rank,
            "What": a["title"],
            "Why": headlines.get(str(a.get("issue_id")), "–"),
            "Expected effect": _effect(str(a.get("expected") or "")),
            "KPI": _kpi_name(card, a.get("metric"), a.get("kpi")),
            "Owner": a.get("owner") or "–",
            "Due": str(a.get("due") or "–"),
        }
        for rank, a in enumerate(plan.head(limit).to_dict("records"), start=1)
    ]
    return pd.DataFrame(
        rows, columns=["#", "What", "Why", "Expected effect", "KPI", "Owner", "Due"]
    )


def _effect(expected: str) -> str:
    """``"halve it; estimate: at …"`` → ``"Halve it.\nEstimate: at …."``"""
    effect, _, estimate = expected.partition("; estimate: ")
    text = _sentence(effect)
    return text + (f"\nEstimate: {_sentence(estimate, capital=False)}" if estimate else "")


def _sentence(text: str, *, capital: bool = True) -> str:
    """``text`` as a sentence: first letter capital (``capital``), a full stop at the end."""
    text = text.strip()
    if not text:
        return ""
    text = (text[:1].upper() if capital else text[:1]) + text[1:]
    return text if text.endswith(".") else text + "."


def _kpi_name(card: pd.DataFrame, metric: Any, kpi: Any) -> str:
    """The scorecard's name of an action's KPI: the entry named by its metric, else the
    first entry of its library KPI (as the register picks it), else the id in words."""
    for column, key in (("kpi_id", metric), ("kpi", kpi)):
        match = card.loc[card[column].astype(str) == str(key), "kpi_name"]
        if key is not None and not match.empty:
            return str(match.iloc[0])
    return label(str(kpi or metric or "–"))


def plan_table(ctx: StepContext, plan: pd.DataFrame, card: pd.DataFrame) -> Styler | Markdown:
    """The plan's table (:func:`plan_frame`, at most :data:`PLAN_LIMIT` actions) with the
    issues of step 5; a sentence says how many more the register holds."""
    issues = ctx.read_json(catalogue.ISSUES) if ctx.has(catalogue.ISSUES, suffix=".json") else []
    shown = plan_frame(plan, issues, card, limit=PLAN_LIMIT)
    if len(plan) > PLAN_LIMIT:
        more = len(plan) - PLAN_LIMIT
        display(Markdown(f"{more} more actions of lower rank are in the register (appendix)."))
    styled = table(shown, empty="No action is proposed: no finding of this cycle calls for one.")
    if isinstance(styled, Styler):
        styled = styled.set_properties(subset=["Expected effect"], **{"white-space": "pre-line"})
    return styled


# 3. The register as a board ------------------------------------------------------


def status_counts(entries: pd.DataFrame, *, on: date) -> pd.DataFrame:
    """The register as a board: entries per status in lifecycle order (every status,
    zeros too) and how many of them are overdue on ``on`` (missing where none can be:
    an entry carried out or closed is not overdue).

    Example:
        >>> entries = pd.DataFrame({"status": ["proposed", "proposed", "in_progress"],
        ...     "due": [date(2026, 7, 30), date(2026, 10, 30), date(2026, 7, 30)]})
        >>> print(status_counts(entries, on=date(2026, 9, 30)).head(4).to_string(index=False))
             status  entries  overdue
           proposed        2        1
           approved        0        0
        in progress        1        1
         monitoring        0     <NA>
    """
    late = _days_overdue(entries, on=on) > 0
    rows = []
    for status in STATUSES:
        mine = entries["status"] == status
        overdue = int((mine & late).sum()) if status in OVERDUE_STATUSES else None
        rows.append([STATUS_LABELS.get(status, status), int(mine.sum()), overdue])
    board = pd.DataFrame(rows, columns=["status", "entries", "overdue"])
    return board.astype({"entries": int, "overdue": "Int64"})


def _days_overdue(entries: pd.DataFrame, *, on: date) -> pd.Series:
    """Days past its due date on ``on`` of each entry not yet carried out (else 0)."""
    due = pd.to_datetime(entries["due"], errors="coerce")
    days = (pd.Timestamp(on) - due).dt.days.fillna(0).clip(lower=0).astype(int)
    return days.where(entries["status"].isin(OVERDUE_STATUSES), 0)


def overdue_first(entries: pd.DataFrame, *, on: date) -> pd.DataFrame:
    """The open entries, the overdue ones first (most days overdue first), then the rest
    by due date, with ``days_overdue`` on ``on``.

    Example:
        >>> entries = pd.DataFrame({"title": ["a", "b", "c", "d"],
        ...     "status": ["proposed", "in_progress", "monitoring", "closed_successful"],
        ...     "due": [date(2026, 10, 30), date(2026, 7, 30), date(2026, 7, 1), date(2026, 7, 1)]})
        >>> overdue_first(entries, on=date(2026, 9, 30))[["title", "days_overdue"]].values.tolist()
        [['b', 62], ['c', 0], ['a', 0]]
    """
    from csi_helpers.register import OPEN

    shown = entries[entries["status"].isin(OPEN)].copy()
    shown["days_overdue"] = _days_overdue(shown, on=on)
    shown["_due"] = pd.to_datetime(shown["due"], errors="coerce")
    shown = shown.sort_values(["days_overdue", "_due"], ascending=[False, True], kind="stable")
    return shown.drop(columns="_due").reset_index(drop=True)


def register_board(ctx: StepContext, entries: pd.DataFrame, card: pd.DataFrame) -> None:
    """Show the register's entries per status, then its open entries, overdue first, as
    of the cycle's end."""
    on = ctx.params.cycle.end
    board = status_counts(entries, on=on)
    board["status"] = board["status"].str.capitalize()
    display(table(board.rename(columns={"overdue": f"of them overdue on {on:%d %b %Y}"})))
    display(Markdown(f"**Open entries, overdue first** (as of the cycle's end, {on:%d %b %Y}):"))
    rows = overdue_first(entries, on=on)
    shown = pd.DataFrame(
        {
            "Action": rows["title"],
            "KPI": [_kpi_name(card, k, None) for k in rows.get("kpi_id", [None] * len(rows))],
            "Owner": rows["owner"].fillna("–") if "owner" in rows else "–",
            "Status": rows["status"].map(STATUS_LABELS),
            "Due": rows["due"].map(_day),
            "Overdue": [f"{count(d)} days" if d > 0 else "–" for d in rows["days_overdue"]],
        }
    )
    display(table(shown, empty="The register holds no open entry."))


# 4. Appendix: the register -------------------------------------------------------


def register_appendix(entries: pd.DataFrame, card: pd.DataFrame) -> Styler | Markdown:
    """Every register entry, oldest first: id, action, its KPI with baseline and target
    in the KPI's unit, status, owner, due date and review date."""
    units = card.set_index(card["kpi_id"].astype(str)).get("unit", pd.Series(dtype=str))
    units = units.fillna("").to_dict()
    shown = pd.DataFrame(
        {
            "Entry": entries["id"],
            "Action": entries["title"],
            "KPI: baseline → target": [
                _kpi_goal(card, e["kpi_id"], e["base_value"], e["target_value"], units)
                for e in entries.to_dict("records")
            ],
            "Status": entries["status"].map(STATUS_LABELS),
            "Owner": entries["owner"].fillna("–"),
            "Due": entries["due"].map(_day),
            "Review on": entries["review_date"].map(_day),
        }
    )
    return table(shown, empty="The register is empty.")


def _kpi_goal(card: pd.DataFrame, kpi_id: Any, base: Any, target: Any, units: dict) -> str:
    """``Downtime: 484 min → 60 min`` (a dash for a value the entry lacks)."""
    if not isinstance(kpi_id, str) or not kpi_id:
        return "–"
    unit = units.get(kpi_id, "")
    return f"{_kpi_name(card, kpi_id, None)}: {_in_unit(base, unit)} → {_in_unit(target, unit)}"


def _in_unit(value: Any, unit: str) -> str:
    return "–" if value is None or pd.isna(value) else quantity(float(value), unit)


def _day(value: Any) -> str:
    """A date as ``2026-07-30``; a dash when there is none."""
    return "–" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")
