"""The params file ``csi params sniff`` proposes: every guess of
:mod:`~csi_helpers.onboarding.sniff` written as params, with its evidence as a comment, and a
starter strategy of the KPIs the data can measure (targets are placeholders for the team).

Values are written as JSON scalars and flow lists, which YAML reads as they are: a column
named ``Change ID`` or ``case:concept:name`` needs no thought about quoting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from csi_helpers.onboarding.sniff import Guess

__all__ = ["STARTER_KPIS", "proposal_text"]

#: The starter strategy: (KPI, entry id, target, amber, direction, unit, columns it needs,
#: any of them) per kind of source. Targets are placeholders to agree with the business.
STARTER_KPIS: dict[str, list[tuple[str, str, float, float, str, str, tuple[str, ...]]]] = {
    "tickets": [
        ("incident_volume", "incidents", 1000, 1200, "lower", "tickets", ("opened_at",)),
        ("median_time_to_resolve", "median-ttr", 24, 48, "lower", "h", ("resolved_at",)),
        ("p90_time_to_resolve", "p90-ttr", 240, 480, "lower", "h", ("resolved_at",)),
        ("sla_compliance", "sla", 90, 80, "higher", "%", ("made_sla",)),
        ("backlog", "backlog", 100, 200, "lower", "tickets", ("opened_at",)),
        ("reassignment_rate", "reassignment-rate", 30, 50, "lower", "%", ("reassignment_count",)),
        (
            "first_assignment_resolution",
            "first-assignment",
            70,
            50,
            "higher",
            "%",
            ("reassignment_count",),
        ),
        ("reopen_rate", "reopen-rate", 2, 5, "lower", "%", ("reopen_count",)),
    ],
    "monitoring": [
        ("peak_utilisation", "peak-utilisation", 75, 90, "lower", "%", ("utilisation",)),
        ("mean_utilisation", "mean-utilisation", 60, 75, "lower", "%", ("utilisation",)),
        ("latency_p95", "latency-p95", 300, 500, "lower", "ms", ("latency_ms",)),
        ("error_rate", "error-rate", 1, 2, "lower", "%", ("error_rate",)),
    ],
    "changes": [
        ("change_success_rate", "change-success", 95, 90, "higher", "%", ("outcome",)),
        ("emergency_change_share", "emergency-changes", 5, 10, "lower", "%", ("type",)),
    ],
    "downtime": [
        ("availability", "availability", 99.9, 99.5, "higher", "%", ("start",)),
        ("downtime_minutes", "downtime", 60, 120, "lower", "min", ("start",)),
    ],
    "survey": [
        ("csat_mean", "csat", 4.2, 3.8, "higher", "score", ("score",)),
        ("survey_response_rate", "survey-response", 30, 20, "higher", "%", ("sent_at",)),
    ],
}

#: Columns an event log yields without holding them (step 4 derives them), and from what.
_FROM_EVENTS = {
    "opened_at": "updated_at",
    "resolved_at": "state",
    "reopen_count": "state",
    "reassignment_count": "assignment_group",
}


def proposal_text(guesses: Sequence[Guess], where: Path | None, *, today: date) -> str:
    """The proposed params for these exports, to be written at ``where`` (paths relative
    to its folder), or printed (``where`` None: absolute paths)."""
    first = guesses[0]
    lines = [
        f"# Proposed by `csi params sniff` on {today} from "
        + ", ".join(g.path.name for g in guesses)
        + ".",
        "# Each guess says why in a comment: check them, edit what is wrong, then run",
        f"#   csi params check {where or 'THIS_FILE'}",
        "schema_version: 1",
        "",
        "service:",
        f"  id: {first.name}" + _note("lower case, digits and - _ . : part of every run id"),
        f"  name: {_q(first.name.replace('-', ' ').capitalize())}",
        "  timezone: UTC"
        + _note(
            "times with offsets are read as instants; those without one are read in this "
            "zone: set the zone the tool wrote them in"
            if not all(g.offsets for g in guesses)
            else "every export writes offsets"
        ),
        "",
        *_cycle(guesses),
        "",
        "sources:",
    ]
    for guess in guesses:
        lines += _source(guess, where)
    lines += ["", *_strategy(guesses)]
    return "\n".join(lines) + "\n"


def _cycle(guesses: Sequence[Guess]) -> list[str]:
    main = next((g for g in guesses if g.span[0] and g.kind != "changes"), None)
    main = main or next((g for g in guesses if g.span[0]), None)
    if main is None:
        return ["cycle: {quarter: previous}" + _note("no time span found: last quarter")]
    start, end = (pd.Timestamp(t).date() for t in main.span)
    return [
        "cycle:" + _note(f"the span of {main.path.name}'s times: first to last day"),
        f"  id: {start:%Y-%m-%d}-to-{end:%Y-%m-%d}",
        f"  label: {_q(f'{start} to {end}')}",
        f"  start: {start}",
        f"  end: {end}",
    ]


def _source(guess: Guess, where: Path | None) -> list[str]:
    path = guess.path.resolve()
    shown = os.path.relpath(path, where.resolve().parent) if where else str(path)
    out = [
        f"  - name: {guess.name}",
        f"    kind: {guess.kind}" + _note(guess.evidence["kind"]),
        f"    path: {_q(Path(shown).as_posix())}",
    ]
    if guess.preset:
        out.append(f"    preset: {guess.preset}" + _note(guess.evidence["preset"]))
    else:
        out.append("    columns:" + _note("canonical column: the export's column (by name)"))
        out += [f"      {c}: {_q(h)}" + _note(guess.evidence.get(c, "")) for c, h in
                guess.columns.items()]  # fmt: skip
    if "timestamp_format" in guess.evidence and not guess.preset:
        fmt = (
            f"    timestamp_format: {_q(guess.timestamp_format)}"
            if guess.timestamp_format
            else ("    # timestamp_format: ISO 8601 (the default)")
        )
        out.append(fmt + _note(guess.evidence["timestamp_format"]))
    if guess.na_values and not guess.preset:
        out.append(f"    na_values: {json.dumps(guess.na_values)}" + _note("found as whole cells"))
    if guess.scales:
        out.append(f"    scales: {json.dumps(guess.scales)}" + _note(guess.evidence["scales"]))
    out += _states(guess)
    for canonical in ("priority", "category"):
        counts = guess.vocabularies.get(canonical)
        if counts is not None and len(counts):
            top = ", ".join(f"{v} ({n:,})" for v, n in counts.head(8).items())
            more = f", and {len(counts) - 8} more" if len(counts) > 8 else ""
            out.append(f"    # {canonical} values in the rows read: {top}{more}")
    return out


def _states(guess: Guess) -> list[str]:
    if guess.kind != "ticket_events" or not guess.states:
        return []
    counts = guess.vocabularies["state"]
    listed = {n for names in guess.states.values() for n in names}
    left = [n for n in counts.index if n not in listed]
    head = (
        "    # states of the whole file: "
        + ", ".join(f"{n} ({c:,})" for n, c in counts.head(12).items())
        + (f", and {len(counts) - 12} more" if len(counts) > 12 else "")
    )
    if guess.preset:
        return [head, "    # (the preset lists the states; list them here to change them)"]
    out = [head, "    states:" + _note("grouped by their words: check each")]
    out += [f"      {cls}: {json.dumps(names)}" for cls, names in guess.states.items()]
    if left:
        out.append(f"    # in no class (codes, skipped by the history): {json.dumps(left)}")
    return out


def _strategy(guesses: Sequence[Guess]) -> list[str]:
    entries: list[str] = []
    seen: set[str] = set()
    for guess in guesses:
        family = "tickets" if guess.kind in ("tickets", "ticket_events") else guess.kind
        available = set(guess.columns)
        if guess.kind == "ticket_events":
            available |= {d for d, basis in _FROM_EVENTS.items() if basis in guess.columns}
        for kpi, kid, target, amber, direction, unit, needs in STARTER_KPIS.get(family, []):
            if kid in seen or not set(needs) <= available:
                continue
            seen.add(kid)
            entries.append(
                f"            - {{id: {kid}, kpi: {kpi}, target: {target}, amber: {amber}, "
                f"direction: {direction}, unit: {_q(unit)}}}"
            )
    if not entries:
        return ["strategy: {objectives: []}" + _note("no KPI of the library can be fed yet")]
    return [
        "strategy:" + _note("the KPIs this data can measure; every target is a placeholder"),
        "  objectives:",
        "    - id: o1-service",
        "      statement: The service meets what its users need",
        "      owner: Service Owner",
        "      csfs:",
        "        - id: csf1-measured",
        "          statement: What the exports can tell, measured every cycle",
        "          kpis:",
        *entries,
    ]


def _q(text: str | None) -> str:
    return json.dumps(text, ensure_ascii=False)


def _note(text: str) -> str:
    return f"  # {text}" if text else ""
