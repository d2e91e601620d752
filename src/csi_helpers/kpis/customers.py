"""Customer KPIs, computed on the canonical survey table.

A survey belongs to the period it was sent in (start ≤ sent_at < end); a survey
without a score was not answered.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from csi_helpers.kpis.base import KpiDefinition, KpiResult, define, empty, in_period


def _scores(survey: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Scores of the surveys sent in the period (missing where not answered)."""
    return survey.loc[in_period(survey["sent_at"], start, end), "score"].astype("Float64")


def csat_mean(survey: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
    """Mean satisfaction score of the survey responses sent in the period.

    Formula: mean(score) over surveys with start ≤ sent_at < end and a score.

    Example:
        >>> s = pd.DataFrame({"sent_at": pd.to_datetime(["2026-01-02"] * 3, utc=True),
        ...                   "score": [5.0, 3.0, None]})
        >>> csat_mean(s, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...           end=pd.Timestamp("2026-02-01", tz="UTC")).value
        4.0
    """
    scores = _scores(survey, start, end).dropna()
    if scores.empty:
        return empty("no survey response in the period")
    return KpiResult(value=float(scores.mean()), n=len(scores))


def csat_distribution(
    survey: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp, satisfied_from: int = 4
) -> KpiResult:
    """Percentage of the period's survey responses that are satisfied, with the score spread.

    Option ``satisfied_from`` (default 4): the lowest score that counts as
    satisfied. The details give the share (%) of responses per score, keyed by
    score, and the counts.

    Formula: 100 × count(score ≥ satisfied_from) / count(responses sent in the period).

    Example:
        >>> s = pd.DataFrame({"sent_at": pd.to_datetime(["2026-01-02"] * 5, utc=True),
        ...                   "score": [5.0, 4.0, 4.0, 2.0, None]})
        >>> r = csat_distribution(s, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                       end=pd.Timestamp("2026-02-01", tz="UTC"))
        >>> (r.value, r.details["share_pct"])
        (75.0, {'2': 25.0, '4': 50.0, '5': 25.0})
    """
    scores = _scores(survey, start, end).dropna().astype(float)
    if scores.empty:
        return empty("no survey response in the period")
    counts = scores.value_counts().sort_index()
    labels = [f"{score:g}" for score in counts.index]
    share = {k: 100.0 * int(c) / len(scores) for k, c in zip(labels, counts, strict=True)}
    satisfied = int((scores >= satisfied_from).sum())
    return KpiResult(
        value=100.0 * satisfied / len(scores),
        n=len(scores),
        details={
            "satisfied_from": satisfied_from,
            "share_pct": share,
            "counts": {k: int(c) for k, c in zip(labels, counts, strict=True)},
        },
    )


def survey_response_rate(
    survey: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp
) -> KpiResult:
    """Percentage of surveys sent in the period that were answered.

    Formula: 100 × count(score present) / count(surveys sent in the period).

    Example:
        >>> s = pd.DataFrame({"sent_at": pd.to_datetime(["2026-01-02"] * 4, utc=True),
        ...                   "score": [5.0, None, None, None]})
        >>> survey_response_rate(s, start=pd.Timestamp("2026-01-01", tz="UTC"),
        ...                      end=pd.Timestamp("2026-02-01", tz="UTC")).value
        25.0
    """
    sent = _scores(survey, start, end)
    if sent.empty:
        return empty("no survey was sent in the period")
    return KpiResult(value=100.0 * float(sent.notna().mean()), n=len(sent))


_SCORED = ("sent_at", "score")

_kpi = partial(define, "survey")

DEFINITIONS: tuple[KpiDefinition, ...] = (
    _kpi(csat_mean, "Customer satisfaction (mean score)", "score", _SCORED, "higher"),
    _kpi(csat_distribution, "Satisfied customers (share of responses)", "%", _SCORED, "higher"),
    _kpi(survey_response_rate, "Survey response rate", "%", _SCORED, "higher"),
)
