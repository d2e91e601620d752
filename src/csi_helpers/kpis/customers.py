"""Customer KPIs, computed on the canonical survey table."""

from __future__ import annotations

import pandas as pd

from csi_helpers.kpis.base import KpiResult, empty, in_period


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
    scores = survey.loc[in_period(survey["sent_at"], start, end), "score"].dropna()
    if scores.empty:
        return empty("no survey response in the period")
    return KpiResult(value=float(scores.mean()), n=len(scores))


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
    sent = survey.loc[in_period(survey["sent_at"], start, end), "score"]
    if sent.empty:
        return empty("no survey was sent in the period")
    return KpiResult(value=100.0 * float(sent.notna().mean()), n=len(sent))
