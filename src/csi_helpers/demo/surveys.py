"""Customer satisfaction surveys, sent to the caller when a ticket is resolved.

Tickets raised by monitoring have no caller and get no survey. About 30 % of
callers answer (answers after the data end are not yet in); scores are lower
when the ticket breached its SLA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csi_helpers.demo import scenario as sc

# chance of a score of 1..5
SCORE_SHARE_MET = (0.03, 0.05, 0.12, 0.35, 0.45)
SCORE_SHARE_BREACHED = (0.15, 0.25, 0.30, 0.20, 0.10)
MEAN_RESPONSE_DELAY_HOURS = 8.0


def expected_score(shares: tuple[float, ...]) -> float:
    """Mean score of a 1-5 score distribution.

    Example:
        >>> expected_score(SCORE_SHARE_MET), expected_score(SCORE_SHARE_BREACHED)
        (4.14, 2.85)
    """
    return round(float(np.dot(shares, np.arange(1, 6))), 6)


def draw_surveys(incidents: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw one survey per resolved customer ticket, ordered by sending time.

    Example:
        >>> tickets = pd.DataFrame({
        ...     "number": ["INC0010001", "INC0010002"],
        ...     "contact_type": ["Email", "Monitoring"],
        ...     "resolved_at": pd.to_datetime(["2026-04-02 10:00", "2026-04-02 11:00"]),
        ...     "made_sla": [True, True]})
        >>> draw_surveys(tickets, np.random.default_rng(0))["incident_number"].tolist()
        ['INC0010001']
    """
    sent = incidents.loc[
        incidents["resolved_at"].notna() & (incidents["contact_type"] != "Monitoring")
    ].sort_values(["resolved_at", "number"], kind="stable")
    n = len(sent)
    sent_at = pd.DatetimeIndex(sent["resolved_at"]).as_unit("s")
    delay = 120 + np.rint(rng.exponential(MEAN_RESPONSE_DELAY_HOURS * 3600, size=n))
    responded_at = sent_at + pd.to_timedelta(delay, "s")
    answered = (rng.random(n) < sc.CSAT_RESPONSE_RATE) & (responded_at < sc.DATA_END)
    met = sent["made_sla"].to_numpy(dtype=bool)
    u = rng.random(n)
    score = np.where(
        met,
        np.searchsorted(np.cumsum(SCORE_SHARE_MET), u, side="right") + 1,
        np.searchsorted(np.cumsum(SCORE_SHARE_BREACHED), u, side="right") + 1,
    )
    return pd.DataFrame(
        {
            "survey_id": [f"SRV{i + 1:07d}" for i in range(n)],
            "incident_number": sent["number"].to_numpy(),
            "sent_at": sent_at,
            "responded_at": responded_at.where(answered),
            "score": pd.Series(np.minimum(score, 5), dtype="Int64").mask(~answered),
        }
    )
